//! Middleware shared by the control plane's and the gateway's routers.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

use crate::error::InternalErrorCause;

/// Logs the cause of a 500 once, in the request span; the client saw only a generic message.
pub async fn log_internal_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if let Some(InternalErrorCause(cause)) = response.extensions().get::<InternalErrorCause>() {
        tracing::error!(error = %cause, "internal error");
    }
    response
}
