//! Cross-origin requests from browsers. A preflight carries no custom headers, hence no key: the
//! gateway answers it itself when any instance allows the origin. The actual request carries
//! the key, and its origin must be allowed by that key's instance (checked in `mod.rs` before
//! anything is forwarded).
//!
//! Under an instance's address, the OpenID Provider endpoints browser applications call
//! themselves (`address::instance_answers_cors`) are the exception: their preflights are
//! forwarded, and the instance alone says which origins may read the answers, per application.

use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};

const ALLOWED_METHODS: HeaderValue =
    HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS");
const EXPOSED_HEADERS: HeaderValue = HeaderValue::from_static("X-Request-Id, Retry-After");
const MAX_AGE: HeaderValue = HeaderValue::from_static("600");

/// The request's `Origin`, lowercased as allowed origins are stored; `None` without one (a
/// server-side caller) or when it is not text.
pub fn origin(headers: &HeaderMap) -> Option<String> {
    let origin = headers.get(header::ORIGIN)?.to_str().ok()?;
    Some(origin.trim().to_ascii_lowercase())
}

/// Whether the request is a CORS preflight.
pub fn is_preflight<B>(request: &Request<B>) -> bool {
    request.method() == Method::OPTIONS
        && request.headers().contains_key(header::ORIGIN)
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// The answer to an allowed preflight.
pub fn preflight(request_headers: &HeaderMap, origin: &HeaderValue) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS);
    if let Some(requested) = request_headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
    }
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, MAX_AGE);
    response
}

/// Lets a browser at `origin` read `response`.
pub fn allow(response: &mut Response, origin: &HeaderValue) {
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED_HEADERS);
}
