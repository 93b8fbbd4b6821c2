//! Serde helpers for Plex values whose JSON type varies.
//!
//! Plex writes the same field as a number in one response and as a string in another: its
//! public API examples show both `"size": 1` and `"size": "1"`. Ratings arrive as `6` or
//! `7.9`, and the XML form carries every value as attribute text. These helpers accept each of those
//! shapes. A value of the wrong kind, such as a word where a number belongs, reads as absent
//! instead of failing the whole response, because one odd field must not hide a library.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// Reads a field that Plex may send as `null`: `null` becomes the type's default.
pub(super) fn or_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Reads an identifier or short text that may arrive as a string or a number.
pub(super) fn string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(match value {
        Some(Value::String(text)) => Some(text),
        Some(Value::Number(number)) => Some(number.to_string()),
        _ => None,
    })
}

/// Reads `true`, `1` or `"1"` as true; Plex XML writes flags as `0` and `1`.
pub(super) fn flag<'de, D: Deserializer<'de>>(deserializer: D) -> Result<bool, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(match value {
        Some(Value::Bool(flag)) => flag,
        Some(Value::Number(number)) => number.as_f64().is_some_and(|n| n != 0.0),
        Some(Value::String(text)) => matches!(text.trim(), "1" | "true" | "True" | "TRUE"),
        _ => false,
    })
}

pub(super) fn f32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f32>, D::Error> {
    Ok(number(deserializer)?.map(|n| n as f32))
}

pub(super) fn u16<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u16>, D::Error> {
    Ok(whole(deserializer)?.and_then(|n| u16::try_from(n).ok()))
}

pub(super) fn u32<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    Ok(whole(deserializer)?.and_then(|n| u32::try_from(n).ok()))
}

pub(super) fn u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u64>, D::Error> {
    Ok(whole(deserializer)?.and_then(|n| u64::try_from(n).ok()))
}

pub(super) fn i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    whole(deserializer)
}

/// Reads a finite number from a JSON number or a numeric string.
fn number<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<f64>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    let number = match value {
        Some(Value::Number(number)) => number.as_f64(),
        Some(Value::String(text)) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    Ok(number.filter(|n| n.is_finite()))
}

/// Reads a whole number, truncating a fractional one such as `2001.0` or `5129000.5`.
fn whole<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(match value {
        Some(Value::Number(number)) => number.as_i64().or_else(|| float_to_whole(number.as_f64())),
        Some(Value::String(text)) => {
            let text = text.trim();
            text.parse::<i64>()
                .ok()
                .or_else(|| float_to_whole(text.parse::<f64>().ok()))
        }
        _ => None,
    })
}

/// Converts a float to a whole number when it is finite and within the `i64` range.
fn float_to_whole(value: Option<f64>) -> Option<i64> {
    // 2^63 as f64; larger values would saturate instead of failing.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    value
        .filter(|n| n.is_finite() && n.abs() < LIMIT)
        .map(|n| n.trunc() as i64)
}
