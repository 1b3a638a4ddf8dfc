//! Which instance a request addresses: by its `Host` when that is an instance's verified custom
//! domain (the whole path then belongs to the instance: `/.well-known/openid-configuration`,
//! `/oauth2/authorize`, `/login`, …), else by an address path `/i/{instance_id}/…`, else none
//! (the key alone names the instance).

use axum::extract::Request;
use axum::http::header;

use super::{Gateway, address};
use crate::error::Error;

impl Gateway {
    /// The instance `request` addresses, with an address prefix removed from its URI.
    pub(super) async fn addressed(&self, request: &mut Request) -> Result<Option<String>, Error> {
        if let Some(host) = custom_host(request) {
            match self.routes.lookup_domain(&host).await {
                Ok(Some(instance_id)) => return Ok(Some(instance_id.to_string())),
                Ok(None) => {}
                Err(err) => return Err(Error::Internal(err)),
            }
        }
        let Some((instance_id, rest)) = address::split(request.uri().path()) else {
            return Ok(None);
        };
        let instance_id = instance_id.to_owned();
        let uri = strip_address(request, rest)?;
        *request.uri_mut() = uri;
        Ok(Some(instance_id))
    }
}

/// The request's host, lowercase and without port or trailing dot, when it could be a custom
/// domain: IP literals (the gateway reached by address) never are, and are not looked up.
fn custom_host(request: &Request) -> Option<String> {
    let raw = match request.headers().get(header::HOST) {
        Some(value) => value.to_str().ok()?,
        None => request.uri().authority()?.as_str(),
    };
    let authority: axum::http::uri::Authority = raw.trim().parse().ok()?;
    let host = authority.host().trim_end_matches('.').to_ascii_lowercase();
    let is_ip = host.starts_with('[') || host.parse::<std::net::IpAddr>().is_ok();
    (!host.is_empty() && !is_ip && host.contains('.')).then_some(host)
}

/// The request's URI with the instance address removed from its path (query kept).
fn strip_address(request: &Request, rest: &str) -> Result<axum::http::Uri, Error> {
    let path_and_query = match request.uri().query() {
        Some(query) => format!("{rest}?{query}"),
        None => rest.to_owned(),
    };
    axum::http::Uri::builder()
        .path_and_query(path_and_query)
        .build()
        .map_err(|_| Error::invalid("the request path cannot be forwarded"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host_of(host: &str) -> Option<String> {
        let request = Request::builder()
            .uri("/.well-known/openid-configuration")
            .header(header::HOST, host)
            .body(axum::body::Body::empty())
            .expect("request");
        custom_host(&request)
    }

    #[test]
    fn only_host_names_are_looked_up_as_custom_domains() {
        assert_eq!(
            host_of("Auth.Customer.Test:7401").as_deref(),
            Some("auth.customer.test")
        );
        assert_eq!(
            host_of("auth.customer.com.").as_deref(),
            Some("auth.customer.com")
        );
        assert_eq!(host_of("127.0.0.1:7401"), None);
        assert_eq!(host_of("[::1]:7401"), None);
        assert_eq!(host_of("localhost:7401"), None);
        assert_eq!(host_of("bad host"), None);
    }
}
