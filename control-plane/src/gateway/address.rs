//! Each instance's public address on the gateway, `{gateway}/i/{instance_id}/`: its issuer
//! (`iss`), and where standard libraries find its discovery document and JWKS by a plain GET,
//! without any AuthStack header (PyJWT's `PyJWKClient`, jose's `createRemoteJWKSet`, Go's
//! keyfunc). Requests under the address that present a key work as they do at the gateway's
//! root, but only for the key's own instance.

use axum::http::Method;

const PREFIX: &str = "/i/";

/// The issuer of `instance_id` behind the gateway at `gateway_url` (no trailing slash, so that
/// `{iss}/.well-known/openid-configuration` is the discovery URL).
pub fn issuer(gateway_url: &str, instance_id: &str) -> String {
    format!("{}{PREFIX}{instance_id}", gateway_url.trim_end_matches('/'))
}

/// `/i/{id}/rest` → `(id, "/rest")`; `/i/{id}` → `(id, "/")`. `None` for other paths and for
/// ids that cannot be instance ids.
pub fn split(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix(PREFIX)?;
    let (id, tail) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let plausible = (4..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    plausible.then_some((id, tail))
}

/// What anyone may reach under an instance's address without a key: the documents a verifier
/// needs (public by nature); the pages mailed links open, whose forms carry the mailed
/// single-use token as their credential; and the OpenID Provider, which authenticates its
/// callers itself (the hosted sign-in, sign-up, forgot-password and consent pages by the flow
/// and its CSRF token; the token, revocation and introspection endpoints by the client's
/// credentials; userinfo by the access token; logout by the ID token hint or the user's
/// confirmation).
///
/// A CORS preflight (`OPTIONS`) on the endpoints that browser applications call themselves
/// ([`instance_answers_cors`]) is public too: it carries no key, and the instance answers it.
pub fn is_public(method: &Method, path: &str) -> bool {
    let read = method == Method::GET || method == Method::HEAD;
    let post = method == Method::POST;
    if method == Method::OPTIONS {
        return instance_answers_cors(path);
    }
    match path {
        "/.well-known/openid-configuration"
        | "/.well-known/jwks.json"
        | "/v1/config/public"
        | "/oauth2/authorize" => read,
        "/verify-email"
        | "/reset-password"
        | "/accept-invitation"
        | "/login"
        | "/signup"
        | "/forgot-password"
        | "/consent"
        | "/choose-organization"
        | "/oauth2/userinfo"
        | "/oauth2/logout" => read || post,
        "/oauth2/token" | "/oauth2/revoke" | "/oauth2/introspect" => post,
        _ => false,
    }
}

/// The OpenID Provider endpoints whose CORS answers are the instance's: it knows which
/// application calls and the browser origins that application lists. The gateway forwards their
/// preflights and adds no CORS header of its own.
pub fn instance_answers_cors(path: &str) -> bool {
    matches!(
        path,
        "/oauth2/token" | "/oauth2/revoke" | "/oauth2/userinfo"
    )
}

/// The public documents any origin may read without a key: `Access-Control-Allow-Origin: *`
/// (they hold no secret and no user data). The other keyless paths are navigations (the
/// hosted pages, authorization, logout) or calls whose CORS the instance answers.
pub fn is_public_document(path: &str) -> bool {
    matches!(
        path,
        "/.well-known/openid-configuration" | "/.well-known/jwks.json" | "/v1/config/public"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_into_instance_and_path() {
        assert_eq!(
            split("/i/ins_0123abcd/.well-known/jwks.json"),
            Some(("ins_0123abcd", "/.well-known/jwks.json"))
        );
        assert_eq!(split("/i/ins_0123abcd"), Some(("ins_0123abcd", "/")));
        assert_eq!(split("/i/ins_0123abcd/"), Some(("ins_0123abcd", "/")));
        assert_eq!(split("/v1/auth/login"), None);
        assert_eq!(split("/i/../v1"), None);
        assert_eq!(split("/i/a%2fb/x"), None);
        assert_eq!(
            issuer("http://127.0.0.1:7401/", "ins_1"),
            "http://127.0.0.1:7401/i/ins_1"
        );
    }

    #[test]
    fn only_verifier_documents_mailed_pages_and_the_provider_are_public() {
        assert!(is_public(&Method::GET, "/.well-known/jwks.json"));
        assert!(is_public(
            &Method::HEAD,
            "/.well-known/openid-configuration"
        ));
        assert!(!is_public(&Method::POST, "/.well-known/jwks.json"));
        assert!(!is_public(&Method::GET, "/v1/admin/users"));
        assert!(!is_public(&Method::GET, "/v1/me"));
        assert!(is_public(&Method::POST, "/verify-email"));
        assert!(!is_public(&Method::DELETE, "/reset-password"));
        assert!(is_public(&Method::GET, "/oauth2/authorize"));
        assert!(!is_public(&Method::POST, "/oauth2/authorize"));
        assert!(is_public(&Method::POST, "/oauth2/token"));
        assert!(!is_public(&Method::GET, "/oauth2/token"));
        assert!(is_public(&Method::POST, "/login"));
        for page in [
            "/signup",
            "/forgot-password",
            "/consent",
            "/choose-organization",
        ] {
            assert!(is_public(&Method::GET, page) && is_public(&Method::POST, page));
        }
        assert!(is_public(&Method::POST, "/oauth2/revoke"));
        assert!(is_public(&Method::POST, "/oauth2/introspect"));
        assert!(!is_public(&Method::GET, "/oauth2/introspect"));
        assert!(is_public(&Method::GET, "/oauth2/logout"));
        assert!(!is_public(&Method::GET, "/v1/admin/applications"));
    }

    #[test]
    fn preflights_reach_the_instance_only_where_it_answers_cors() {
        for path in ["/oauth2/token", "/oauth2/revoke", "/oauth2/userinfo"] {
            assert!(is_public(&Method::OPTIONS, path), "{path}");
            assert!(!is_public_document(path), "{path}");
        }
        for path in [
            "/oauth2/authorize",
            "/oauth2/introspect",
            "/login",
            "/v1/auth/signup",
            "/.well-known/jwks.json",
        ] {
            assert!(!is_public(&Method::OPTIONS, path), "{path}");
        }
        assert!(is_public_document("/.well-known/jwks.json"));
        assert!(!is_public_document("/login"));
    }
}
