//! Browser sessions: the first-party SSO cookie of the hosted sign-in pages. The cookie holds
//! a 256-bit secret, stored as its SHA-256, that names a session of this module; the session's
//! revocation and expiry end it.

use axum::http::{HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use sqlx::Row;

use super::Session;
use crate::App;
use crate::crypto::{random_secret, sha256_hex};
use crate::error::Result;
use crate::http::cookies;

const COOKIE: &str = "authstack_session";
const PREFIX: &str = "bs_";

/// Binds a new browser secret to `session`; returns the `Set-Cookie` value carrying it.
pub async fn attach(app: &App, session: &Session) -> Result<HeaderValue> {
    let secret: SecretString = random_secret(PREFIX, 32);
    sqlx::query(
        "INSERT INTO browser_sessions (token_hash, session_id, created_at) VALUES ($1, $2, $3)",
    )
    .bind(sha256_hex(secret.expose_secret()))
    .bind(&session.id)
    .bind(app.clock.now())
    .execute(&app.db.writer)
    .await?;
    let max_age = session.expires_at - app.clock.now();
    Ok(cookies::set(app, COOKIE, secret.expose_secret(), max_age))
}

/// The live session the request's SSO cookie names, if any.
pub async fn current(app: &App, headers: &HeaderMap) -> Result<Option<Session>> {
    let Some(secret) = cookies::read(app, headers, COOKIE) else {
        return Ok(None);
    };
    if !secret.starts_with(PREFIX) || secret.len() > 100 {
        return Ok(None);
    }
    let row = sqlx::query("SELECT session_id FROM browser_sessions WHERE token_hash = $1")
        .bind(sha256_hex(&secret))
        .fetch_optional(&app.db.pool)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let session_id: String = row.try_get("session_id")?;
    let now = app.clock.now();
    Ok(super::find(app, &session_id)
        .await?
        .filter(|s| s.is_live(now)))
}

/// The `Set-Cookie` value that drops the SSO cookie.
pub fn forget(app: &App) -> HeaderValue {
    cookies::set(app, COOKIE, "", 0)
}
