//! OAuth 2.0 error answers (RFC 6749 §5.2, RFC 6750 §3): `{"error", "error_description"}`,
//! never cached. Internal errors keep the crate's body so that the middleware logs them once.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::Error;

#[derive(Debug)]
pub enum OAuthError {
    /// An error code from RFC 6749 / 6750 with its status and description.
    Protocol {
        status: StatusCode,
        code: &'static str,
        description: String,
        /// `WWW-Authenticate` challenge to send (`Basic`, or `Bearer error="invalid_token"`).
        challenge: Option<&'static str>,
    },
    Internal(Error),
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    error_description: &'a str,
}

impl OAuthError {
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::bad(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    pub fn invalid_grant(description: impl Into<String>) -> Self {
        Self::bad(StatusCode::BAD_REQUEST, "invalid_grant", description)
    }

    pub fn unsupported_grant_type() -> Self {
        Self::bad(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be authorization_code, refresh_token or client_credentials",
        )
    }

    pub fn invalid_scope(description: impl Into<String>) -> Self {
        Self::bad(StatusCode::BAD_REQUEST, "invalid_scope", description)
    }

    pub fn unauthorized_client(description: impl Into<String>) -> Self {
        Self::bad(StatusCode::BAD_REQUEST, "unauthorized_client", description)
    }

    /// Client authentication failed; `basic` when the client tried HTTP Basic.
    pub fn invalid_client(basic: bool) -> Self {
        OAuthError::Protocol {
            status: StatusCode::UNAUTHORIZED,
            code: "invalid_client",
            description: "client authentication failed".into(),
            challenge: basic.then_some("Basic realm=\"token\", charset=\"UTF-8\""),
        }
    }

    pub fn invalid_token() -> Self {
        OAuthError::Protocol {
            status: StatusCode::UNAUTHORIZED,
            code: "invalid_token",
            description: "the access token is invalid, expired or revoked".into(),
            challenge: Some("Bearer error=\"invalid_token\""),
        }
    }

    fn bad(status: StatusCode, code: &'static str, description: impl Into<String>) -> Self {
        OAuthError::Protocol {
            status,
            code,
            description: description.into(),
            challenge: None,
        }
    }
}

impl From<Error> for OAuthError {
    fn from(err: Error) -> Self {
        OAuthError::Internal(err)
    }
}

impl From<sqlx::Error> for OAuthError {
    fn from(err: sqlx::Error) -> Self {
        OAuthError::Internal(err.into())
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response = match self {
            OAuthError::Protocol {
                status,
                code,
                description,
                challenge,
            } => {
                let mut response = (
                    status,
                    axum::Json(Body {
                        error: code,
                        error_description: &description,
                    }),
                )
                    .into_response();
                if let Some(challenge) = challenge {
                    response.headers_mut().insert(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static(challenge),
                    );
                }
                response
            }
            OAuthError::Internal(err) => err.into_response(),
        };
        no_store(&mut response);
        response
    }
}

/// `Cache-Control: no-store` and `Pragma: no-cache`, as token responses require.
pub fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}
