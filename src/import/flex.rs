//! Lenient JSON field readers for formats whose writers disagree on types (Artalk writes every
//! field as a string, its converters numbers and booleans; Cusdis database dumps give `0`/`1`
//! or `true`/`false`, times as text or epoch milliseconds).

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A string, number or boolean as text; `null` as `None`. Arrays and objects are refused.
pub(crate) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        other => Err(serde::de::Error::custom(format!(
            "expected a string, number or boolean, found {}",
            kind(&other)
        ))),
    }
}

/// `true`/`false`, `1`/`0`, `"true"`/`"false"`, `"1"`/`"0"`; `null` as `None`.
pub(crate) fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let bad =
        |what: &str| serde::de::Error::custom(format!("expected true or false, found {what}"));
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(b)),
        Value::Number(n) => match n.as_i64() {
            Some(0) => Ok(Some(false)),
            Some(1) => Ok(Some(true)),
            _ => Err(bad(&n.to_string())),
        },
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "t" => Ok(Some(true)),
            "false" | "0" | "f" | "" => Ok(Some(false)),
            _ => Err(bad(&format!("\"{s}\""))),
        },
        other => Err(bad(kind(&other))),
    }
}

/// A time as text (RFC 3339, or `YYYY-MM-DD HH:MM:SS[.fff]` / `YYYY-MM-DDTHH:MM:SS[.fff]`
/// read as UTC) or as epoch milliseconds; `null` as `None`. Text that is no time is kept
/// as `Err(text)` so the caller can skip the record with a reason.
pub(crate) fn time<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Result<DateTime<Utc>, String>>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(Some(
            n.as_i64()
                .and_then(DateTime::from_timestamp_millis)
                .ok_or_else(|| n.to_string()),
        )),
        Value::String(s) => Ok(Some(parse_time(&s).ok_or(s))),
        other => Err(serde::de::Error::custom(format!(
            "expected a time, found {}",
            kind(&other)
        ))),
    }
}

pub(crate) fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(raw) {
        return Some(d.with_timezone(&Utc));
    }
    for pattern in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(raw, pattern) {
            return Some(n.and_utc());
        }
    }
    // PostgreSQL's text form of timestamptz: `2021-06-01 10:00:00.123+00`
    for pattern in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(d) = DateTime::parse_from_str(raw, pattern) {
            return Some(d.with_timezone(&Utc));
        }
    }
    None
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
