//! The crate's one error type and its stable JSON body `{ "error": code, "message": ... }`.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything a request can fail with. Each variant maps to one stable error code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidRequest(String),
    /// A request value refused with a code of its own (`invalid_cors_origin`), as a `400`.
    #[error("{1}")]
    InvalidValue(&'static str, String),
    #[error("{0}")]
    WeakPassword(String),
    #[error("the email or password is incorrect")]
    InvalidCredentials,
    #[error("{0}")]
    InvalidGrant(&'static str),
    #[error("the email address has not been verified yet")]
    EmailNotVerified,
    #[error("this account is banned")]
    UserBanned,
    #[error("too many requests; retry later")]
    RateLimited { retry_after: Duration },
    #[error("{0}")]
    Unauthorized(&'static str),
    /// A bearer token was presented and is not good here: `unauthorized`, with RFC 6750's
    /// `invalid_token` in the challenge.
    #[error("{0}")]
    InvalidToken(&'static str),
    /// An organization API key (or its token) that is unknown, revoked, expired or of a
    /// deleted organization: one answer for all four.
    #[error("the API key is invalid, revoked or expired")]
    InvalidKey,
    #[error("{0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    ForbiddenBecause(String),
    /// Refused by the instance's configuration, with a specific code (`signup_disabled`,
    /// `method_disabled`, `ip_not_allowed`).
    #[error("{1}")]
    Refused(&'static str, String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("this method is not allowed on this path")]
    MethodNotAllowed,
    #[error("expected a request body of type {0}")]
    UnsupportedMediaType(&'static str),
    #[error("the service is not ready")]
    Unavailable,
    #[error("this instance is reachable only through the AuthStack gateway")]
    GatewayRequired,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl Error {
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidRequest(_) => "invalid_request",
            Error::InvalidValue(code, _) => code,
            Error::WeakPassword(_) => "weak_password",
            Error::InvalidCredentials => "invalid_credentials",
            Error::InvalidGrant(_) => "invalid_grant",
            Error::EmailNotVerified => "email_not_verified",
            Error::UserBanned => "user_banned",
            Error::RateLimited { .. } => "rate_limited",
            Error::Unauthorized(_) | Error::InvalidToken(_) => "unauthorized",
            Error::InvalidKey => "invalid_key",
            Error::Forbidden(_) | Error::ForbiddenBecause(_) => "forbidden",
            Error::Refused(code, _) => code,
            Error::LimitExceeded(_) => "limit_exceeded",
            Error::NotFound(_) => "not_found",
            Error::Conflict(_) => "conflict",
            Error::PayloadTooLarge => "payload_too_large",
            Error::MethodNotAllowed => "method_not_allowed",
            Error::UnsupportedMediaType(_) => "unsupported_media_type",
            Error::Unavailable => "unavailable",
            Error::GatewayRequired => "gateway_required",
            Error::Internal(_) => "internal_error",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::InvalidRequest(_)
            | Error::InvalidValue(..)
            | Error::WeakPassword(_)
            | Error::InvalidGrant(_) => StatusCode::BAD_REQUEST,
            Error::InvalidCredentials
            | Error::Unauthorized(_)
            | Error::InvalidToken(_)
            | Error::InvalidKey => StatusCode::UNAUTHORIZED,
            Error::EmailNotVerified
            | Error::UserBanned
            | Error::Forbidden(_)
            | Error::ForbiddenBecause(_)
            | Error::Refused(..)
            | Error::LimitExceeded(_)
            | Error::GatewayRequired => StatusCode::FORBIDDEN,
            Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Error::InvalidRequest(message.into())
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        Error::Internal(anyhow::Error::new(err).context("database"))
    }
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `invalid_credentials`.
    pub error: &'static str,
    /// Human-readable explanation; wording may change.
    pub message: String,
}

/// Marks a response as an internal error so the logging middleware can report its cause once,
/// inside the request span, without the cause ever reaching the client.
#[derive(Clone)]
pub struct InternalErrorCause(pub std::sync::Arc<String>);

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            Error::Internal(_) => "an internal error occurred".to_owned(),
            other => other.to_string(),
        };
        let body = ErrorBody {
            error: self.code(),
            message,
        };
        let mut response = (status, axum::Json(body)).into_response();
        match self {
            Error::RateLimited { retry_after } => {
                let secs = retry_after.as_secs().max(1);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            }
            Error::Unauthorized(_) => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Error::InvalidToken(_) | Error::InvalidKey => {
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer error=\"invalid_token\""),
                );
            }
            Error::Internal(err) => {
                response
                    .extensions_mut()
                    .insert(InternalErrorCause(std::sync::Arc::new(format!("{err:#}"))));
            }
            _ => {}
        }
        response
    }
}
