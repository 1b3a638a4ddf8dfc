//! Extractors whose rejections are our error body (`{"error": code, "message": ...}`), not
//! axum's plain text.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// A JSON body whose rejection is our error body.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        if !authstack_instance::http::utf8_or_unspecified(req.headers()) {
            return Err(Error::UnsupportedMediaType(
                "application/json; charset=utf-8",
            ));
        }
        if !authstack_instance::http::json_content_type(req.headers()) {
            return Err(Error::UnsupportedMediaType("application/json"));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
                _ => Error::InvalidRequest(rejection.body_text()),
            })?;
        // serde reads a struct from a JSON array too (`[null, null]` as its fields in order).
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(Error::invalid("the request body must be a JSON object"));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// An optional JSON body: none (or only whitespace, or `null`) is `T::default()`; otherwise it
/// must be a JSON object (serde would take an array for a struct of optional fields: `[]` is
/// not `{}`).
pub fn optional_json<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, Error> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| Error::invalid(format!("invalid JSON body: {e}")))?;
    if value.is_null() {
        return Ok(T::default());
    }
    if !value.is_object() {
        return Err(Error::invalid("the body must be a JSON object"));
    }
    serde_json::from_value(value).map_err(|e| Error::invalid(format!("invalid body: {e}")))
}

/// Query-string parameters whose rejection (an unknown or malformed parameter) is our error body.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|rejection: QueryRejection| Error::InvalidRequest(rejection.body_text()))
    }
}

/// Path parameters whose rejection (one that does not parse, such as a revision number beyond
/// 64 bits) is our error body, not axum's plain text.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|rejection: PathRejection| Error::InvalidRequest(rejection.body_text()))
    }
}

fn json_rejection(rejection: JsonRejection) -> Error {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Error::UnsupportedMediaType("application/json"),
        _ => Error::InvalidRequest(rejection.body_text()),
    }
}
