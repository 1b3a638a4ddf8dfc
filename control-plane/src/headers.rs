//! Security headers on every answer of the control plane. API answers are never cached (some
//! hold a secret shown once, e.g. a new key) and never sniffed; the dashboard's files get a
//! strict Content-Security-Policy (scripts only from this origin, no framing), a referrer
//! policy, and HSTS when the dashboard is served over TLS.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::AppState;

/// Whether `path` is an API path (JSON answers), not one of the dashboard's files.
pub fn is_api(path: &str) -> bool {
    ["/v1/", "/.well-known/", "/openapi", "/platform/"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

/// The dashboard's policy: its own scripts and styles (inline `style` attributes, which React
/// sets, are allowed; inline scripts are not), calls to this origin and the gateway, logos over
/// https.
fn dashboard_policy(gateway_url: &str) -> HeaderValue {
    let policy = format!(
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: https:; font-src 'self'; connect-src 'self' {gateway_url}; \
         manifest-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; \
         object-src 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or(HeaderValue::from_static(
        "default-src 'self'; frame-ancestors 'none'; object-src 'none'",
    ))
}

pub async fn security(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let api = is_api(request.uri().path());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if api {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    } else {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            dashboard_policy(app.gateway_url.trim_end_matches('/')),
        );
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        );
        if app.dashboard_url.starts_with("https://") {
            headers.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000; includeSubDomains"),
            );
        }
    }
    response
}
