//! `/platform/v1/…`: the platform instance's API relayed on the dashboard's own origin, with
//! refresh tokens kept in a cookie (see the module above).
//!
//! Only this origin's scripts may use it: the platform's publishable key must be sent in
//! `X-AuthStack-Key` (a custom header, which a cross-site form or image cannot send and which a
//! cross-origin script could send only after a preflight this origin never answers), a request
//! that names another `Origin` is refused, and the cookie is `SameSite=Strict`.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::Response;
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use super::{
    PREFIX, SEAL_CONTEXT, clear_cookie, cookie_value, refresh_body, revoke_form, set_cookie,
};
use crate::AppState;
use crate::error::{Error, Result};

/// Requests to the platform are small (credentials, names).
const REQUEST_LIMIT: usize = 64 * 1024;
/// Answers are read whole, to move a refresh token out of them.
const RESPONSE_LIMIT: usize = 4 * 1024 * 1024;
const KEY_HEADER: HeaderName = HeaderName::from_static("x-authstack-key");

/// Request headers the platform instance sees; everything else (cookies included) stays here.
const REQUEST_HEADERS: [HeaderName; 6] = [
    header::ACCEPT,
    header::ACCEPT_LANGUAGE,
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    header::USER_AGENT,
    HeaderName::from_static("x-request-id"),
];

/// Answer headers passed back; the platform's own cookies, if it ever set any, are not.
const RESPONSE_HEADERS: [HeaderName; 5] = [
    header::CONTENT_TYPE,
    header::RETRY_AFTER,
    header::WWW_AUTHENTICATE,
    header::CONTENT_LANGUAGE,
    header::LINK,
];

pub fn router() -> axum::Router<AppState> {
    axum::Router::new().route("/platform/{*path}", axum::routing::any(relay))
}

async fn relay(State(app): State<AppState>, request: Request) -> Result<Response> {
    let (parts, body) = request.into_parts();
    let path = parts
        .uri
        .path()
        .strip_prefix(PREFIX)
        .filter(|path| path.starts_with("/v1/"))
        .ok_or(Error::NotFound("route"))?
        .to_owned();
    if let Some(origin) = parts.headers.get(header::ORIGIN)
        && !same_origin(origin, parts.headers.get(header::HOST))
        && !dashboard_origin(&app, origin)
    {
        return Err(Error::Forbidden(
            "the platform session is used only by the dashboard's own origin".into(),
        ));
    }
    let key = crate::platform_publishable_key(&app).await?;
    let presented = parts.headers.get(KEY_HEADER).map(HeaderValue::as_bytes);
    if !presented.is_some_and(|p| bool::from(p.ct_eq(key.expose_secret().as_bytes()))) {
        return Err(Error::InvalidApiKey);
    }
    let body = axum::body::to_bytes(body, REQUEST_LIMIT)
        .await
        .map_err(|_| Error::PayloadTooLarge)?;
    // A cookie that does not open (another control plane's, or tampered with) counts as none.
    let cookie_token = cookie_value(&parts.headers)
        .and_then(|sealed| app.master.open(&sealed, SEAL_CONTEXT).ok())
        .and_then(|token| String::from_utf8(token).ok());
    let mut body = body.to_vec();
    // Revoking the cookie's own token, or signing out, ends the cookie too once accepted.
    let mut ends_session = false;
    match (&parts.method, path.as_str(), &cookie_token) {
        (&Method::POST, "/v1/auth/refresh", Some(token)) => {
            // A handle that is not the cookie's goes on as it is and is refused as any unknown
            // refresh token is.
            if let Some(forwarded) = refresh_body(&body, token) {
                body = forwarded;
            }
        }
        (&Method::POST, "/v1/auth/revoke", Some(token)) => {
            if let Some(forwarded) = revoke_form(&body, token) {
                body = forwarded;
                ends_session = true;
            }
        }
        (&Method::POST, "/v1/auth/logout", _) => ends_session = true,
        _ => {}
    }

    let rotation = parts.method == Method::POST && path == "/v1/auth/refresh";
    let target = match parts.uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    let mut upstream = app
        .platform
        .request(&app.http, parts.method.clone(), &target)
        .body(body);
    for name in REQUEST_HEADERS {
        for value in parts.headers.get_all(&name) {
            upstream = upstream.header(&name, value);
        }
    }
    // The platform limits sign-ins per client address: the browser's, as the gateway would.
    if let Some(ConnectInfo(peer)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
        upstream = upstream.header("x-forwarded-for", peer.ip().to_string());
    }
    let answer = upstream.send().await.map_err(|err| {
        tracing::warn!(error = %err, "relaying to the platform instance failed");
        if err.is_timeout() {
            Error::UpstreamTimeout
        } else {
            Error::InstanceUnavailable
        }
    })?;
    let status = answer.status();
    let mut headers = axum::http::HeaderMap::new();
    for name in RESPONSE_HEADERS {
        for value in answer.headers().get_all(&name) {
            headers.append(&name, value.clone());
        }
    }
    let mut bytes = Vec::new();
    let mut answer = answer;
    while let Some(chunk) = answer
        .chunk()
        .await
        .map_err(|_| Error::InstanceUnavailable)?
    {
        if bytes.len() + chunk.len() > RESPONSE_LIMIT {
            return Err(Error::BadGateway(
                "the platform's answer is too large".into(),
            ));
        }
        bytes.extend_from_slice(&chunk);
    }

    let secure = app.dashboard_url.starts_with("https://");
    if status.is_success() {
        if let Some((rewritten, token)) = super::take_refresh_token(&bytes) {
            let lifetime = crate::platform::instance_config(&app.dashboard_url)
                .tokens
                .session_lifetime_secs;
            let sealed = app.master.seal(token.as_bytes(), SEAL_CONTEXT)?;
            let cookie = set_cookie(&sealed, lifetime, secure)
                .ok_or_else(|| anyhow::anyhow!("a sealed value is not base64"))?;
            headers.append(header::SET_COOKIE, cookie);
            bytes = rewritten;
            // A new sign-in in this browser replaces the session of the cookie it had: that
            // one ends now rather than live on, unreachable, until it expires. (A refresh
            // rotates the same session; its old token is spent already.)
            if let Some(replaced) = cookie_token.filter(|old| !rotation && *old != token) {
                revoke(&app, &replaced).await;
            }
        } else if ends_session {
            headers.append(header::SET_COOKIE, clear_cookie(secure));
        }
    }
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    Ok(response)
}

/// Revokes a platform refresh token the browser no longer holds (RFC 7009; failures are
/// logged, the sign-in that replaced it stands).
async fn revoke(app: &AppState, refresh_token: &str) {
    let sent = app
        .platform
        .request(&app.http, Method::POST, "/v1/auth/revoke")
        .form(&[
            ("token", refresh_token),
            ("token_type_hint", "refresh_token"),
        ])
        .send()
        .await;
    match sent {
        Ok(answer) if answer.status().is_success() => {}
        Ok(answer) => {
            tracing::warn!(status = %answer.status(), "revoking the replaced dashboard session was refused");
        }
        Err(err) => tracing::warn!(error = %err, "revoking the replaced dashboard session failed"),
    }
}

/// Whether `Origin` is where the dashboard is published (`dashboard_url`, or one of
/// `dashboard_origins`): a proxy in front of the control plane may change `Host`.
fn dashboard_origin(app: &AppState, origin: &HeaderValue) -> bool {
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let published = reqwest::Url::parse(&app.dashboard_url)
        .map(|url| url.origin().ascii_serialization())
        .is_ok_and(|published| published == origin);
    published || app.config.dashboard_origins.iter().any(|o| o == origin)
}

/// Whether `Origin` names the host the request was sent to (the scheme is not compared: TLS
/// may end in front of the control plane).
fn same_origin(origin: &HeaderValue, host: Option<&HeaderValue>) -> bool {
    let (Ok(origin), Some(Ok(host))) = (origin.to_str(), host.map(HeaderValue::to_str)) else {
        return false;
    };
    origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .is_some_and(|authority| authority.eq_ignore_ascii_case(host))
}
