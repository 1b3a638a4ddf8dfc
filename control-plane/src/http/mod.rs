//! Small pieces shared by the control plane's HTTP handlers: extractors, middleware, and how
//! times are written.

pub mod extract;
pub mod middleware;

use authstack_instance::clock::{UnixTime, rfc3339};

/// Serialises a stored Unix time as RFC 3339.
pub fn time<S: serde::Serializer>(at: &UnixTime, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&rfc3339(*at))
}

/// Serialises an optional stored Unix time as RFC 3339 or null.
pub fn optional_time<S: serde::Serializer>(
    at: &Option<UnixTime>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serializer.serialize_str(&rfc3339(*at)),
        None => serializer.serialize_none(),
    }
}
