//! CORS for the endpoints a browser application calls itself: `POST /oauth2/token`,
//! `POST /oauth2/revoke` and `GET|POST /oauth2/userinfo`.
//!
//! An answer is readable by the browser only at an origin the calling application lists in
//! `allowed_cors_origins` (the client is the one the token request names or authenticates, or
//! the one the access token was issued to): `Access-Control-Allow-Origin: <that origin>` and
//! `Vary: Origin`, never `*`. A preflight names no client, so it is admitted when any
//! application of the instance lists the origin; the actual request is then checked against
//! its own client. The authorization endpoint and the hosted pages are navigations, not
//! fetches, and get no CORS headers; the discovery document and JWKS are public documents,
//! which the gateway serves to any origin.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::applications::{Application, store};

const ALLOWED_METHODS: HeaderValue = HeaderValue::from_static("GET, POST");
const ALLOWED_HEADERS: HeaderValue = HeaderValue::from_static("authorization, content-type");
const MAX_AGE: HeaderValue = HeaderValue::from_static("600");
const VARY_ORIGIN: HeaderValue = HeaderValue::from_static("Origin");

/// The request's `Origin` as it is compared with the listed ones (lowercase); `None` without
/// one, for `null` or when it is not text.
fn origin(headers: &HeaderMap) -> Option<(&HeaderValue, String)> {
    let value = headers.get(header::ORIGIN)?;
    let text = value.to_str().ok()?.trim().to_ascii_lowercase();
    (!text.is_empty() && text != "null").then_some((value, text))
}

/// Lets the browser read `response` when the request's origin is one `caller` lists.
pub fn allow(response: &mut Response, request: &HeaderMap, caller: Option<&Application>) {
    let Some((value, origin)) = origin(request) else {
        return;
    };
    if caller.is_some_and(|app| app.allows_origin(&origin)) {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value.clone());
        headers.append(header::VARY, VARY_ORIGIN);
    }
}

/// `OPTIONS` on the three endpoints: `204`, with the CORS headers when some application lists
/// the origin and without them (the browser then stops) otherwise.
pub async fn preflight(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    let Some((value, origin)) = origin(&headers) else {
        return response;
    };
    match store::any_lists_origin(&app.db, &origin).await {
        Ok(true) => {
            let out = response.headers_mut();
            out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, value.clone());
            out.append(header::VARY, VARY_ORIGIN);
            out.insert(header::ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS);
            out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, ALLOWED_HEADERS);
            out.insert(header::ACCESS_CONTROL_MAX_AGE, MAX_AGE);
            response
        }
        Ok(false) => response,
        Err(err) => crate::error::Error::from(err).into_response(),
    }
}
