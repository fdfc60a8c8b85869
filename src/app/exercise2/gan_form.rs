//! The GAN studio's settings form: its text fields (from a share link, or a reopened run) and
//! their validation into a [`GanConfig`].

use crate::app::env::url_param;
use crate::lab::gan::{GanArch, GanConfig};

/// The text fields of the settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Fields {
    pub epochs: String,
    pub batch: String,
    pub lr_g: String,
    pub lr_d: String,
    pub beta1: String,
    pub noise: String,
    pub seed: String,
}

impl Default for Fields {
    fn default() -> Self {
        Self {
            epochs: "20".into(),
            batch: "64".into(),
            lr_g: "0.0002".into(),
            lr_d: "0.0002".into(),
            beta1: "0.5".into(),
            noise: "0".into(),
            seed: "42".into(),
        }
    }
}

impl Fields {
    /// The defaults, with any setting a share link carries (`gan_epochs=…`, …).
    pub fn from_url() -> Self {
        let d = Fields::default();
        let p = |name: &str, default: String| url_param(name).unwrap_or(default);
        Fields {
            epochs: p("gan_epochs", d.epochs),
            batch: p("gan_batch", d.batch),
            lr_g: p("gan_lr_g", d.lr_g),
            lr_d: p("gan_lr_d", d.lr_d),
            beta1: p("gan_beta1", d.beta1),
            noise: p("gan_noise", d.noise),
            seed: p("gan_seed", d.seed),
        }
    }
}

/// Reads the settings into a validated config, or says what is wrong.
pub fn parse(arch: GanArch, f: &Fields, soft_labels: bool) -> Result<GanConfig, String> {
    let num = |name: &str, v: &str| -> Result<f64, String> {
        v.trim().parse::<f64>().map_err(|_| format!("{name}: `{v}` is not a number"))
    };
    let whole = |name: &str, v: &str| -> Result<usize, String> {
        v.trim().parse::<usize>().map_err(|_| format!("{name}: `{v}` is not a whole number ≥ 0"))
    };
    let config = GanConfig {
        arch,
        epochs: whole("epochs", &f.epochs)?,
        batch_size: whole("batch size", &f.batch)?,
        lr_g: num("generator learning rate", &f.lr_g)?,
        lr_d: num("discriminator learning rate", &f.lr_d)?,
        beta1: num("Adam β₁", &f.beta1)?,
        soft_labels,
        noise: num("instance noise σ", &f.noise)?,
        noise_anneal_epochs: 0,
        seed: f
            .seed
            .trim()
            .parse()
            .map_err(|_| format!("seed: `{}` is not a whole number", f.seed))?,
    };
    config.validate().map_err(|e| e.to_string())?;
    Ok(config)
}

impl Fields {
    /// The fields of a stored run's settings.
    pub fn of(c: &GanConfig) -> Self {
        Fields {
            epochs: c.epochs.to_string(),
            batch: c.batch_size.to_string(),
            lr_g: c.lr_g.to_string(),
            lr_d: c.lr_d.to_string(),
            beta1: c.beta1.to_string(),
            noise: c.noise.to_string(),
            seed: c.seed.to_string(),
        }
    }
}
