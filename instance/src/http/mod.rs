//! HTTP plumbing shared by every route: extractors whose rejections are our error body, the
//! caller's identity, and the middleware stack.

mod after_response;
mod extract;
pub mod middleware;
pub mod openapi;
pub mod pagination;

pub use after_response::when_sent;
pub use extract::{
    Admin, Authenticated, BODY_LIMIT, Client, Form, Json, Query, utf8_or_unspecified,
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
