//! The JSON tree every output is built from: serde_json values, plus money
//! printed exactly.
//!
//! A [`serde_json::Value`] can hold a number only as an integer or an
//! `f64`, so `400.5` put into one goes through a float: exact for small
//! amounts, but `92233720368547758.07` came out as `9.223372036854776e16`.
//! An output is therefore a [`Json`] tree: plain values where nothing can
//! go wrong, and [`Json::Money`] leaves that serialize as the exact digits
//! of [`Cents::json_text`] (a raw JSON value, which serde_json's printer
//! writes verbatim). The pretty printer stays serde_json's, so the layout
//! is the same as before, byte for byte.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::money::Cents;

/// A JSON value of an output; see the module docs.
#[derive(Clone, Debug, PartialEq)]
pub enum Json {
    /// Anything without money in it (ids, names, results, clocks).
    Value(Value),
    /// An amount: `400`, `400.5`, or with `float_style` `400.0`.
    Money {
        amount: Cents,
        float_style: bool,
    },
    Array(Vec<Json>),
    /// Keys in the order they are printed.
    Object(Vec<(String, Json)>),
}

impl Json {
    /// An object from its entries, in order.
    pub fn object<K: Into<String>>(entries: impl IntoIterator<Item = (K, Json)>) -> Json {
        Json::Object(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The tree as a [`Value`], for tests that compare outputs as data.
    /// Money becomes a JSON number read from its exact text.
    pub fn to_value(&self) -> Value {
        serde_json::from_str(&serde_json::to_string(self).unwrap_or_default())
            .unwrap_or(Value::Null)
    }
}

impl<T: Into<Value>> From<T> for Json {
    fn from(value: T) -> Json {
        Json::Value(value.into())
    }
}

impl FromIterator<Json> for Json {
    fn from_iter<I: IntoIterator<Item = Json>>(items: I) -> Json {
        Json::Array(items.into_iter().collect())
    }
}

impl Serialize for Json {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Value(v) => v.serialize(s),
            Json::Money { amount, float_style } => amount.to_raw_json(*float_style).serialize(s),
            Json::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Json::Object(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_serde_json_with_exact_money() {
        let tree = Json::Array(vec![Json::object([
            ("id", Json::from(1)),
            ("balance", Json::Money { amount: Cents(i64::MAX), float_style: false }),
            ("recv", Json::Array(vec![])),
            ("x", Json::object(Vec::<(String, Json)>::new())),
        ])]);
        let text = serde_json::to_string_pretty(&tree).unwrap();
        assert_eq!(
            text,
            "[\n  {\n    \"id\": 1,\n    \"balance\": 92233720368547758.07,\n    \"recv\": [],\n    \"x\": {}\n  }\n]"
        );
    }
}
