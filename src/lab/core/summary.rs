//! Model summaries: each layer, its shape and trainable parameters, and the total — what a
//! student reports, computed from the shapes the model really has.

use serde::{Deserialize, Serialize};

/// One row of a summary table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRow {
    /// e.g. `dense_1` or `dense_1a (U')`.
    pub name: String,
    /// Layer kind, e.g. `Dense + ReLU`.
    pub kind: String,
    /// e.g. `784 → 100`.
    pub shape: String,
    /// Trainable parameters (weights + bias).
    pub params: usize,
}

/// A model's summary table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Model name.
    pub title: String,
    /// Rows, input side first.
    pub rows: Vec<LayerRow>,
}

impl Summary {
    /// Sum of the rows' parameters.
    pub fn total(&self) -> usize {
        self.rows.iter().map(|r| r.params).sum()
    }

    /// A Markdown table with a total line.
    pub fn to_markdown(&self) -> String {
        let mut s = format!(
            "**{}**\n\n| layer | type | shape | trainable parameters |\n|---|---|---|---:|\n",
            self.title
        );
        for r in &self.rows {
            s += &format!("| {} | {} | {} | {} |\n", r.name, r.kind, r.shape, group(r.params));
        }
        s += &format!("| **total** | | | **{}** |\n", group(self.total()));
        s
    }
}

/// 84060 → "84,060".
pub fn group(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
