//! Floats that survive JSON. serde_json writes NaN and ±∞ as `null` and then refuses to read
//! that `null` back as a number, so a diverged run's record (a NaN loss) could not be read and
//! vanished from the run list. Fields that may hold such values use [`kept`]: finite numbers stay
//! numbers, the others become the strings `"NaN"`, `"Infinity"`, `"-Infinity"`, and a `null` (what
//! older versions wrote) reads back as NaN.

use serde::{Deserialize, Deserializer, Serializer};

/// `#[serde(with = "crate::lab::core::finite::kept")]` on an `f64` field.
pub mod kept {
    use super::*;

    /// A finite number as a number, the rest by name.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_finite() {
            s.serialize_f64(*v)
        } else if v.is_nan() {
            s.serialize_str("NaN")
        } else if *v > 0.0 {
            s.serialize_str("Infinity")
        } else {
            s.serialize_str("-Infinity")
        }
    }

    /// A number, one of the three names, or `null` (NaN, as older records wrote it).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Stored {
            Number(f64),
            Name(String),
            Null(()),
        }
        match Stored::deserialize(d)? {
            Stored::Number(v) => Ok(v),
            Stored::Null(()) => Ok(f64::NAN),
            Stored::Name(n) => match n.as_str() {
                "NaN" => Ok(f64::NAN),
                "Infinity" => Ok(f64::INFINITY),
                "-Infinity" => Ok(f64::NEG_INFINITY),
                other => Err(serde::de::Error::custom(format!(
                    "`{other}` is not a number (expected a number, NaN, Infinity or -Infinity)"
                ))),
            },
        }
    }
}

/// The same for an `Option<(f64, f64)>` field (a pair of scores that may be NaN).
pub mod kept_pair {
    use super::*;

    #[derive(serde::Serialize, Deserialize)]
    struct Pair(#[serde(with = "super::kept")] f64, #[serde(with = "super::kept")] f64);

    pub fn serialize<S: Serializer>(v: &Option<(f64, f64)>, s: S) -> Result<S::Ok, S::Error> {
        serde::Serialize::serialize(&v.map(|(a, b)| Pair(a, b)), s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<(f64, f64)>, D::Error> {
        Ok(Option::<Pair>::deserialize(d)?.map(|Pair(a, b)| (a, b)))
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize)]
    struct Row {
        #[serde(with = "super::kept")]
        loss: f64,
        #[serde(default, with = "super::kept_pair")]
        pair: Option<(f64, f64)>,
    }

    #[test]
    fn non_finite_values_round_trip_and_old_nulls_read_as_nan() {
        for v in [1.5, -0.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, f64::MAX] {
            let text = serde_json::to_string(&Row { loss: v, pair: Some((v, 2.0)) }).unwrap();
            let back: Row = serde_json::from_str(&text).unwrap();
            assert!(back.loss == v || (v.is_nan() && back.loss.is_nan()), "{v} → {text}");
            let (a, b) = back.pair.unwrap();
            assert!((a == v || (v.is_nan() && a.is_nan())) && b == 2.0, "{text}");
        }
        assert_eq!(
            serde_json::to_string(&Row { loss: f64::NAN, pair: None }).unwrap(),
            r#"{"loss":"NaN","pair":null}"#
        );
        let old: Row = serde_json::from_str(r#"{"loss":null}"#).unwrap();
        assert!(old.loss.is_nan() && old.pair.is_none());
        let err = serde_json::from_str::<Row>(r#"{"loss":"lots"}"#).unwrap_err().to_string();
        assert!(err.contains("did not match") || err.contains("lots"), "{err}");
    }
}
