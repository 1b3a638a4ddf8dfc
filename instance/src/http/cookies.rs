//! The instance's own cookies (the hosted pages' SSO session and CSRF token): `HttpOnly`,
//! `SameSite=Lax`, `Path=/`, and `Secure` with the `__Host-` prefix when the issuer is https.

use axum::http::{HeaderMap, HeaderValue, header};

use crate::App;

/// The cookie's name on this instance: `__Host-<base>` behind https, `<base>` on plain http
/// (local development, where browsers refuse `Secure` cookies).
pub fn name(app: &App, base: &str) -> String {
    if secure(app) {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

fn secure(app: &App) -> bool {
    app.issuer.starts_with("https://")
}

/// A `Set-Cookie` value for `base` = `value`, living `max_age` seconds (0 deletes it).
pub fn set(app: &App, base: &str, value: &str, max_age: i64) -> HeaderValue {
    let secure = if secure(app) { "; Secure" } else { "" };
    let cookie = format!(
        "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
        name(app, base),
        max_age.max(0)
    );
    HeaderValue::from_str(&cookie)
        .unwrap_or_else(|_| HeaderValue::from_static("invalid=1; Max-Age=0"))
}

/// The value of the request's cookie `base` (under this instance's name for it).
pub fn read(app: &App, headers: &HeaderMap, base: &str) -> Option<String> {
    let wanted = name(app, base);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == wanted)
        .map(|(_, value)| value.trim().to_owned())
}
