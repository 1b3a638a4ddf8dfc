//! The dashboard's sign-in session, held by the control plane as its backend-for-frontend.
//!
//! The dashboard talks to the platform instance through `/platform/…` on its own origin
//! ([`routes`]). Whenever the platform answers with a refresh token, the control plane moves it,
//! sealed with its master key, into an `HttpOnly`, `SameSite=Strict` cookie that no script can
//! read (and whose copy in a browser's cookie jar is no token anywhere else), and the browser's SDK
//! receives a *handle* in its place: a name for that token (it changes with every rotation, so
//! the SDK's tabs notice a rotation as before) that is useless without the cookie. Refresh and
//! revocation requests carry the handle; the control plane puts the cookie's token back before
//! forwarding. Only short-lived access tokens are ever readable by the dashboard's scripts.

pub mod routes;

use axum::http::{HeaderMap, HeaderValue, header};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Where the platform instance's API is relayed on the control plane's origin.
pub const PREFIX: &str = "/platform";
/// The cookie that holds the platform refresh token.
pub const COOKIE: &str = "authstack_refresh";
/// The context the cookie's token is sealed under (no other sealed value opens as one).
pub const SEAL_CONTEXT: &str = "dashboard_refresh_cookie";
/// The cookie goes only to the relayed auth endpoints (refresh, revoke, logout, sign-in).
const COOKIE_PATH: &str = "/platform/v1/auth/";
/// What every handle starts with: the SDK stores it where it would store a refresh token.
pub const HANDLE_PREFIX: &str = "bff_";

/// The handle the browser holds for `refresh_token`: 128 bits of its SHA-256, which names the
/// token without revealing it.
pub fn handle(refresh_token: &str) -> String {
    let digest = Sha256::digest(refresh_token.as_bytes());
    let mut out = String::with_capacity(HANDLE_PREFIX.len() + 32);
    out.push_str(HANDLE_PREFIX);
    for byte in &digest[..16] {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Whether `presented` is the handle of `refresh_token` (in constant time).
pub fn handle_matches(presented: &str, refresh_token: &str) -> bool {
    handle(refresh_token)
        .as_bytes()
        .ct_eq(presented.as_bytes())
        .into()
}

/// The cookie that stores `sealed` (the sealed refresh token, base64) for `max_age_secs` (the
/// session's absolute lifetime). `Secure` when the dashboard is served over TLS.
pub fn set_cookie(sealed: &str, max_age_secs: u64, secure: bool) -> Option<HeaderValue> {
    // Only base64 is stored (never anything that could end the cookie or add an attribute).
    if sealed.is_empty()
        || !sealed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    {
        return None;
    }
    cookie(sealed, max_age_secs, secure)
}

/// The header that removes the cookie.
pub fn clear_cookie(secure: bool) -> HeaderValue {
    // Nothing in it comes from a request: it is always a valid header value.
    cookie("", 0, secure).unwrap_or(HeaderValue::from_static(""))
}

fn cookie(value: &str, max_age_secs: u64, secure: bool) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path={COOKIE_PATH}; Max-Age={max_age_secs}; HttpOnly; SameSite=Strict{secure}"
    ))
    .ok()
}

/// The cookie's (sealed) value, if the request has one.
pub fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

/// A token answer with its refresh token moved out: the body with the handle in its place, and
/// the token for the cookie. `None` when the body holds no refresh token.
pub fn take_refresh_token(body: &[u8]) -> Option<(Vec<u8>, String)> {
    let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object_mut()?;
    let token = object.get("refresh_token")?.as_str()?.to_owned();
    object.insert("refresh_token".into(), handle(&token).into());
    Some((serde_json::to_vec(&value).ok()?, token))
}

/// A refresh request (`{"refresh_token": handle}`) with the cookie's token in the handle's
/// place; `None` when the body does not name that token.
pub fn refresh_body(body: &[u8], refresh_token: &str) -> Option<Vec<u8>> {
    let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let object = value.as_object_mut()?;
    let presented = object.get("refresh_token")?.as_str()?;
    if !handle_matches(presented, refresh_token) {
        return None;
    }
    object.insert("refresh_token".into(), refresh_token.into());
    serde_json::to_vec(&value).ok()
}

/// A revocation request (RFC 7009 form, `token=handle`) with the cookie's token in the handle's
/// place; `None` when the form does not name that token.
pub fn revoke_form(body: &[u8], refresh_token: &str) -> Option<Vec<u8>> {
    let presented = form_urlencoded::parse(body).find(|(name, _)| name == "token")?;
    if !handle_matches(&presented.1, refresh_token) {
        return None;
    }
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (name, value) in form_urlencoded::parse(body) {
        let value = if name == "token" {
            refresh_token
        } else {
            &value
        };
        form.append_pair(&name, value);
    }
    Some(form.finish().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "rt_0123456789abcdef0123456789abcdef";

    #[test]
    fn a_handle_names_its_token_and_no_other() {
        let handle = handle(TOKEN);
        assert!(handle.starts_with(HANDLE_PREFIX));
        assert!(!handle.contains(TOKEN));
        assert!(handle_matches(&handle, TOKEN));
        assert!(!handle_matches(&handle, "rt_other"));
        assert!(
            !handle_matches(TOKEN, TOKEN),
            "the token itself is not its handle"
        );
    }

    #[test]
    fn token_answers_keep_only_the_handle() {
        let body =
            serde_json::json!({ "access_token": "a", "refresh_token": TOKEN, "expires_in": 300 });
        let (rewritten, token) =
            take_refresh_token(body.to_string().as_bytes()).expect("has a refresh token");
        assert_eq!(token, TOKEN);
        let rewritten: serde_json::Value = serde_json::from_slice(&rewritten).expect("json");
        assert_eq!(rewritten["refresh_token"], handle(TOKEN));
        assert_eq!(rewritten["access_token"], "a");
        assert!(take_refresh_token(br#"{"access_token":"a"}"#).is_none());
        assert!(take_refresh_token(b"not json").is_none());
    }

    #[test]
    fn requests_get_the_cookies_token_only_for_its_handle() {
        let body = serde_json::json!({ "refresh_token": handle(TOKEN) }).to_string();
        let forwarded = refresh_body(body.as_bytes(), TOKEN).expect("matches");
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&forwarded).expect("json")["refresh_token"],
            TOKEN
        );
        assert!(refresh_body(br#"{"refresh_token":"bff_00"}"#, TOKEN).is_none());
        let form = format!("token={}&token_type_hint=refresh_token", handle(TOKEN));
        let forwarded = revoke_form(form.as_bytes(), TOKEN).expect("matches");
        assert_eq!(
            String::from_utf8(forwarded).expect("utf-8"),
            format!("token={TOKEN}&token_type_hint=refresh_token")
        );
        assert!(revoke_form(b"token=bff_00", TOKEN).is_none());
    }

    #[test]
    fn the_cookie_is_http_only_strict_and_read_back() {
        const SEALED: &str = "q83vEjRWeJA+/w==";
        let cookie = set_cookie(SEALED, 60, true).expect("valid");
        let cookie = cookie.to_str().expect("ascii");
        for part in [
            "HttpOnly",
            "SameSite=Strict",
            "Secure",
            "Path=/platform/v1/auth/",
        ] {
            assert!(cookie.contains(part), "{cookie}");
        }
        assert!(
            !set_cookie(SEALED, 60, false)
                .expect("valid")
                .to_str()
                .expect("ascii")
                .contains("Secure")
        );
        assert!(set_cookie("a; Domain=evil", 60, false).is_none());
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("other=1; {COOKIE}={SEALED}")).expect("header"),
        );
        assert_eq!(cookie_value(&headers).as_deref(), Some(SEALED));
        assert!(cookie_value(&HeaderMap::new()).is_none());
    }
}
