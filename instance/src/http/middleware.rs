//! The middleware every response passes through: security headers, metrics, and a single log
//! line for internal errors inside the request's span.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use axum::extract::State;
use axum::response::IntoResponse;
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::crypto::constant_time_eq;
use crate::error::{Error, InternalErrorCause};

/// The header in which the gateway proves a request came through it.
pub const GATEWAY_HEADER: &str = "x-authstack-gateway";

const SECURITY_HEADERS: [(HeaderName, &str); 7] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; frame-ancestors 'none'",
    ),
    (
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=63072000; includeSubDomains",
    ),
    (header::CACHE_CONTROL, "no-store"),
    (
        HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    ),
];

/// Adds the security headers (unless a handler set its own value).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    }
    response
}

/// Counts requests and their latency by route template and status.
pub async fn metrics(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Logs the cause of a 500 once, in the request span; the client saw only a generic message.
pub async fn log_internal_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(InternalErrorCause(cause)) = response.extensions().get::<InternalErrorCause>() {
        tracing::error!(error = %cause, "internal error");
    }
    response
}

/// Refuses requests that do not carry the gateway secret, when the instance has one. Liveness
/// and readiness stay open so a supervisor or kubelet can probe without it.
pub async fn require_gateway(
    State(app): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = &app.gateway_secret_hash else {
        return next.run(request).await;
    };
    if matches!(request.uri().path(), "/healthz" | "/readyz") {
        return next.run(request).await;
    }
    let presented = request
        .headers()
        .get(GATEWAY_HEADER)
        .map(|value| Sha256::digest(value.as_bytes()));
    match presented {
        Some(digest) if constant_time_eq(&digest, expected) => next.run(request).await,
        _ => Error::GatewayRequired.into_response(),
    }
}
