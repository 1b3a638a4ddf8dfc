//! HTTP plumbing shared by every route: extractors whose rejections are our error body, the
//! caller's identity, and the middleware stack.

mod after_response;
pub mod cookies;
mod extract;
pub mod middleware;
pub mod openapi;
pub mod pagination;

pub use after_response::when_sent;
pub use extract::{
    Admin, Authenticated, BODY_LIMIT, Caller, Client, Form, Json, Query, json_content_type,
    utf8_or_unspecified,
};

/// Deserializes a field that distinguishes absent (`None`) from `null` (`Some(None)`), for
/// PATCH bodies where `null` clears a value.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// Deserializes an optional integer that may also be written as a JSON number with a zero
/// fraction (`49.0`): JSON Schema's `integer` admits it, and generated clients send it. Any other
/// fraction, and numbers outside `i64`, are refused.
pub fn optional_integer<'de, D>(deserializer: D) -> Result<Option<i64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::Error as _;
    let Some(number) =
        <Option<serde_json::Number> as serde::Deserialize>::deserialize(deserializer)?
    else {
        return Ok(None);
    };
    if let Some(integer) = number.as_i64() {
        return Ok(Some(integer));
    }
    match number.as_f64() {
        // 2^63 is the first float beyond i64::MAX; i64::MIN is exactly representable.
        Some(float)
            if float.fract() == 0.0 && float >= -(2f64.powi(63)) && float < 2f64.powi(63) =>
        {
            Ok(Some(float as i64))
        }
        _ => Err(D::Error::custom(format!(
            "invalid type: {number}, expected an integer"
        ))),
    }
}

/// Reads an optional JSON body, as documented by `request_body(content = Option<T>)`: no body
/// (or only whitespace) and JSON `null` both mean `T::default()`.
pub fn optional_json<T>(body: &[u8]) -> Result<T, crate::error::Error>
where
    T: serde::de::DeserializeOwned + Default,
{
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => return Ok(T::default()),
        // serde reads a struct from a JSON array too; only an object (or `null`) is the type.
        Some(b'{' | b'n') => {}
        Some(_) => {
            return Err(crate::error::Error::invalid(
                "the request body must be a JSON object or null",
            ));
        }
    }
    serde_json::from_slice::<Option<T>>(body)
        .map(Option::unwrap_or_default)
        .map_err(|e| crate::error::Error::invalid(format!("invalid body: {e}")))
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "super::optional_integer")]
        n: Option<i64>,
    }

    fn n(json: &str) -> Result<Option<i64>, serde_json::Error> {
        serde_json::from_str::<Body>(json).map(|b| b.n)
    }

    #[test]
    fn integers_may_be_written_with_a_zero_fraction() {
        assert_eq!(n(r#"{"n": 49}"#).ok(), Some(Some(49)));
        assert_eq!(n(r#"{"n": 49.0}"#).ok(), Some(Some(49)));
        assert_eq!(n(r#"{"n": -3e2}"#).ok(), Some(Some(-300)));
        assert_eq!(n(r#"{"n": null}"#).ok(), Some(None));
        assert_eq!(n("{}").ok(), Some(None));
        for bad in [
            r#"{"n": 49.5}"#,
            r#"{"n": 1e19}"#,
            r#"{"n": "49"}"#,
            r#"{"n": true}"#,
        ] {
            assert!(n(bad).is_err(), "{bad}");
        }
    }
}
