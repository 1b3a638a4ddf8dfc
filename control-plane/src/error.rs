//! The control plane's one error type and its JSON body `{ "error": code, "message": ... }`.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidRequest(String),
    /// An application's `allowed_cors_origins` refused by its instance (its message).
    #[error("{0}")]
    InvalidCorsOrigin(String),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    RegionUnavailable(String),
    #[error("the API key is missing, unknown, expired or revoked")]
    InvalidApiKey,
    /// The browser origin (lowercased) that the key's instance does not allow.
    #[error("{}", origin_message(.0))]
    OriginNotAllowed(String),
    #[error("the instance is not available right now; retry shortly")]
    InstanceUnavailable,
    /// The instance is not meant to be running now (its state: suspended, provisioning, ...):
    /// nothing to retry until that changes.
    #[error("the instance is {0}, not running: this is answered once it runs")]
    InstanceNotRunning(&'static str),
    #[error("the instance did not answer in time")]
    UpstreamTimeout,
    #[error("{0}")]
    InvalidSignature(&'static str),
    #[error("too many requests; retry later")]
    RateLimited { retry_after: Duration },
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("expected a request body of type {0}")]
    UnsupportedMediaType(&'static str),
    #[error("this method is not allowed on this path")]
    MethodNotAllowed,
    #[error("{0}")]
    BadGateway(String),
    /// A configuration that does not validate; every problem names its field path.
    #[error("the configuration is invalid: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    InvalidConfig(Vec<authstack_instance::config::FieldError>),
    /// A plan's quota is used up (e.g. customization prompts this month).
    #[error("{0}")]
    QuotaExceeded(String),
    /// The account's plan does not include the feature (e.g. custom domains).
    #[error("{0}")]
    PlanFeature(String),
    /// The custom domain belongs to another instance.
    #[error("{0}")]
    DomainTaken(String),
    /// The custom domain's TXT record was not found with the expected value.
    #[error("{0}")]
    DomainNotVerified(String),
    /// Minting a secret needs a sign-in within the last minutes.
    #[error(
        "this needs a recent sign-in: sign in again (in the dashboard, or `authstack login`), then retry"
    )]
    ReauthenticationRequired,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidRequest(_) => "invalid_request",
            Error::InvalidCorsOrigin(_) => "invalid_cors_origin",
            Error::Unauthorized(_) => "unauthorized",
            Error::Forbidden(_) => "forbidden",
            Error::NotFound(_) => "not_found",
            Error::Conflict(_) => "conflict",
            Error::RegionUnavailable(_) => "region_unavailable",
            Error::InvalidApiKey => "invalid_api_key",
            Error::OriginNotAllowed(_) => "origin_not_allowed",
            Error::ReauthenticationRequired => "reauthentication_required",
            Error::InstanceUnavailable => "instance_unavailable",
            Error::InstanceNotRunning(_) => "instance_not_running",
            Error::UpstreamTimeout => "upstream_timeout",
            Error::InvalidSignature(_) => "invalid_signature",
            Error::RateLimited { .. } => "rate_limited",
            Error::PayloadTooLarge => "payload_too_large",
            Error::UnsupportedMediaType(_) => "unsupported_media_type",
            Error::MethodNotAllowed => "method_not_allowed",
            Error::BadGateway(_) => "bad_gateway",
            Error::InvalidConfig(_) => "invalid_config",
            Error::QuotaExceeded(_) => "quota_exceeded",
            Error::PlanFeature(_) => "plan_feature",
            Error::DomainTaken(_) => "domain_taken",
            Error::DomainNotVerified(_) => "domain_not_verified",
            Error::Internal(_) => "internal_error",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::InvalidRequest(_) | Error::InvalidCorsOrigin(_) | Error::InvalidSignature(_) => {
                StatusCode::BAD_REQUEST
            }
            Error::Unauthorized(_) | Error::InvalidApiKey => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_)
            | Error::OriginNotAllowed(_)
            | Error::ReauthenticationRequired
            | Error::PlanFeature(_) => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Conflict(_)
            | Error::RegionUnavailable(_)
            | Error::InstanceNotRunning(_)
            | Error::DomainTaken(_)
            | Error::DomainNotVerified(_) => StatusCode::CONFLICT,
            Error::InstanceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            Error::UpstreamTimeout => StatusCode::GATEWAY_TIMEOUT,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Error::InvalidConfig(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::QuotaExceeded(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidRequest(message.into())
    }
}

fn origin_message(origin: &str) -> String {
    if origin.is_empty() {
        return "the request's origin is not allowed for this instance".into();
    }
    format!(
        "the origin {origin} is not allowed to call this instance: add it to the instance's \
         allowed origins (dashboard: Settings, or PUT /v1/accounts/{{account}}/instances/{{live|test}}/allowed-origins)"
    )
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        Error::Internal(anyhow::Error::new(err).context("database"))
    }
}

/// Every error answer: a stable code and a readable message.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// `invalid_request`, `unauthorized`, `forbidden`, `not_found`, `conflict`, ...
    #[schema(value_type = String)]
    pub error: &'static str,
    pub message: String,
    /// For `invalid_config`: each problem with its field path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<authstack_instance::config::FieldError>>,
}

/// Marks a response as an internal error so that the logging middleware
/// ([`crate::http::middleware::log_internal_errors`]) reports its cause once, inside the request
/// span, without the cause ever reaching the client.
#[derive(Clone)]
pub struct InternalErrorCause(pub std::sync::Arc<String>);

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Error::Internal(_) => "an internal error occurred".to_owned(),
            other => other.to_string(),
        };
        let errors = match &self {
            Error::InvalidConfig(errors) => Some(errors.clone()),
            _ => None,
        };
        let mut response = (
            status,
            axum::Json(ErrorBody {
                error: self.code(),
                message,
                errors,
            }),
        )
            .into_response();
        let headers = response.headers_mut();
        match self {
            Error::RateLimited { retry_after } => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(retry_after.as_secs().max(1)),
                );
            }
            Error::Unauthorized(_) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Error::InstanceUnavailable => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            Error::Internal(err) => {
                headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                let cause = InternalErrorCause(std::sync::Arc::new(format!("{err:#}")));
                response.extensions_mut().insert(cause);
                return response;
            }
            _ => {}
        }
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}
