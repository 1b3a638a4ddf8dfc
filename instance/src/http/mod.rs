//! HTTP plumbing shared by every route: extractors whose rejections are our error body, the
//! caller's identity, and the middleware stack.

mod after_response;
mod extract;
pub mod middleware;
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
