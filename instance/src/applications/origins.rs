//! The browser origins a public application (`spa`, `native`) calls the token, revocation and
//! userinfo endpoints from (`allowed_cors_origins`; see `oidc::cors`). An origin is compared
//! with the request's `Origin` character for character, so it is stored as a browser sends it:
//! `scheme://host[:port]`, lowercase, without the default port, path, query or fragment. A
//! confidential application (`web`, `machine`) calls those endpoints from its server, where
//! there is no CORS, so it has none.

use super::Kind;
use crate::error::{Error, Result};

const MAX_ORIGINS: usize = 20;
const MAX_ORIGIN_LENGTH: usize = 300;
/// The error code of every refusal of `allowed_cors_origins`.
pub const INVALID_CORS_ORIGIN: &str = "invalid_cors_origin";

fn invalid(message: String) -> Error {
    Error::InvalidValue(INVALID_CORS_ORIGIN, message)
}

/// Validates and normalises `kind`'s allowed origins; errors name the offending entry
/// (`allowed_cors_origins[1]: …`). Duplicates (after normalisation) are dropped, the order kept.
pub fn parse_cors_origins(kind: Kind, origins: &[String]) -> Result<Vec<String>> {
    if origins.is_empty() {
        return Ok(Vec::new());
    }
    if kind.is_confidential() {
        return Err(invalid(format!(
            "allowed_cors_origins: only public applications (spa, native) have them; a {} \
             application calls the token endpoint from its server",
            kind.as_str()
        )));
    }
    if origins.len() > MAX_ORIGINS {
        return Err(invalid(format!(
            "allowed_cors_origins: at most {MAX_ORIGINS} origins"
        )));
    }
    let mut out: Vec<String> = Vec::with_capacity(origins.len());
    for (i, raw) in origins.iter().enumerate() {
        let origin = normalize_origin(raw)
            .map_err(|why| invalid(format!("allowed_cors_origins[{i}]: {why}")))?;
        if !out.contains(&origin) {
            out.push(origin);
        }
    }
    Ok(out)
}

/// An origin as browsers send it in `Origin`: `https://host[:port]` (or `http` on a loopback
/// host), lowercase, without the default port. One trailing `/` is accepted and dropped (it is
/// what copying a site's address gives); any other path, a query, a fragment, credentials or a
/// wildcard is refused.
pub fn normalize_origin(raw: &str) -> std::result::Result<String, &'static str> {
    let text = raw.trim();
    if text.is_empty() {
        return Err("must not be empty");
    }
    if text.len() > MAX_ORIGIN_LENGTH {
        return Err("is longer than 300 characters");
    }
    if text.contains('*') {
        return Err("must not contain wildcards (list each origin)");
    }
    if text
        .chars()
        .any(|c| c.is_ascii_control() || c == ' ' || !c.is_ascii())
    {
        return Err("must not contain spaces, control or non-ASCII characters");
    }
    let url = url::Url::parse(text).map_err(|_| "must be an origin: scheme://host[:port]")?;
    match url.scheme() {
        "https" => {}
        "http" if matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]")) => {}
        "http" => return Err("must use https (http only for localhost, 127.0.0.1 or [::1])"),
        _ => return Err("must be an https origin (or http on a loopback host)"),
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err("must have a host");
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain credentials");
    }
    // `Url` gives a bare `scheme://host` the path `/`, as it does the same with a trailing
    // slash: both are the origin; any other path is not.
    if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
        return Err("must be an origin without path, query or fragment: scheme://host[:port]");
    }
    Ok(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised_as_browsers_send_them() {
        for (raw, normal) in [
            ("https://app.example.com", "https://app.example.com"),
            ("https://app.example.com/", "https://app.example.com"),
            ("HTTPS://App.Example.COM", "https://app.example.com"),
            ("https://app.example.com:443", "https://app.example.com"),
            (
                "https://app.example.com:8443",
                "https://app.example.com:8443",
            ),
            ("http://localhost:5173", "http://localhost:5173"),
            ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
            ("http://[::1]:3000", "http://[::1]:3000"),
        ] {
            assert_eq!(normalize_origin(raw).as_deref(), Ok(normal), "{raw}");
        }
        for bad in [
            "",
            "https://app.example.com/callback",
            "https://app.example.com//",
            "https://app.example.com/?x=1",
            "https://app.example.com?x=1",
            "https://app.example.com#x",
            "https://*.example.com",
            "*",
            "null",
            "javascript:alert(1)",
            "data:text/html,x",
            "file:///etc/passwd",
            "http://app.example.com",
            "ftp://app.example.com",
            "https://user:pw@app.example.com",
            "app.example.com",
            "https://app example.com",
            "https:\\\\app.example.com\\callback",
        ] {
            assert!(normalize_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_public_applications_have_origins() {
        let origins = vec!["https://a.example".to_owned()];
        assert!(parse_cors_origins(Kind::Spa, &origins).is_ok());
        assert!(parse_cors_origins(Kind::Native, &origins).is_ok());
        for kind in [Kind::Web, Kind::Machine] {
            let err = parse_cors_origins(kind, &origins).expect_err("confidential");
            assert_eq!(err.code(), INVALID_CORS_ORIGIN);
            assert!(parse_cors_origins(kind, &[]).is_ok());
        }
        let twice = vec![
            "https://A.example/".to_owned(),
            "https://a.example".to_owned(),
        ];
        assert_eq!(
            parse_cors_origins(Kind::Spa, &twice).expect("valid"),
            ["https://a.example"]
        );
    }
}
