//! Forwarding one request to its instance: the headers the instance may see, the ones the gateway
//! sets, and the streaming of both bodies over a keep-alive pool of upstream connections.

use std::error::Error as _;
use std::net::IpAddr;
use std::time::Duration;

use axum::body::Body;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::http::{Request, Response, Version};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

use super::routes::{Route, RouteSecrets};
use crate::error::Error;

/// The header that carries a publishable key.
pub const KEY_HEADER: HeaderName = HeaderName::from_static("x-authstack-key");
/// The header in which the gateway proves to the instance that a request came through it.
pub const GATEWAY_HEADER: HeaderName = HeaderName::from_static("x-authstack-gateway");
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");
const FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");
const FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");

/// Headers that describe one connection, not the request (RFC 9110 §7.6.1), plus the
/// non-standard ones clients still send.
const HOP_BY_HOP: [HeaderName; 9] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    header::PROXY_AUTHENTICATE,
    header::PROXY_AUTHORIZATION,
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// What the gateway adds about the original request.
pub struct Forwarded<'a> {
    /// The client's address as the gateway saw it.
    pub client_ip: Option<IpAddr>,
    pub request_id: &'a HeaderValue,
    /// Replace the caller's `Authorization` (its secret key) with the instance's admin key.
    pub as_admin: bool,
}

/// The keep-alive pool of connections to instances.
pub struct Upstreams {
    client: Client<HttpConnector, Body>,
    timeout: Duration,
}

impl Upstreams {
    pub fn new(timeout: Duration) -> Upstreams {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(Duration::from_secs(5)));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(256)
            .build(connector);
        Upstreams { client, timeout }
    }

    /// Sends `request` to `route`'s instance and returns its response, whose body streams.
    pub async fn forward(
        &self,
        route: &Route,
        secrets: &RouteSecrets,
        request: Request<Body>,
        forwarded: Forwarded<'_>,
    ) -> Result<Response<Body>, Error> {
        let upstream = route.upstream.as_ref().ok_or(Error::InstanceUnavailable)?;
        let (mut parts, body) = request.into_parts();
        parts.uri = upstream
            .uri(parts.uri.path_and_query())
            .ok_or_else(|| Error::invalid("the request path cannot be forwarded"))?;
        parts.version = Version::HTTP_11;
        let headers = &mut parts.headers;
        strip_hop_by_hop(headers);
        // The client's Host becomes X-Forwarded-Host; the client sets Host from the URI.
        match headers.remove(header::HOST) {
            Some(host) => headers.insert(FORWARDED_HOST, host),
            None => headers.remove(FORWARDED_HOST),
        };
        headers.remove(KEY_HEADER);
        headers.insert(GATEWAY_HEADER, secrets.gateway.clone());
        if forwarded.as_admin {
            headers.insert(header::AUTHORIZATION, secrets.admin_authorization.clone());
        }
        // The instance takes the left-most X-Forwarded-For address as the client: a value sent
        // by the client would let it choose its own IP (and escape per-IP limits), so the
        // gateway, the edge, replaces it.
        match forwarded.client_ip {
            Some(ip) => headers.insert(FORWARDED_FOR, ip_header(ip)),
            None => headers.remove(FORWARDED_FOR),
        };
        headers.insert(FORWARDED_PROTO, HeaderValue::from_static("http"));
        headers.insert(REQUEST_ID_HEADER, forwarded.request_id.clone());

        let sent = self.client.request(Request::from_parts(parts, body));
        let response = match tokio::time::timeout(self.timeout, sent).await {
            Ok(Ok(response)) => response,
            Ok(Err(err)) => return Err(upstream_error(route, &err)),
            Err(_) => {
                tracing::warn!(instance_id = %route.instance_id, "the instance did not answer in time");
                return Err(Error::UpstreamTimeout);
            }
        };
        let (mut parts, body) = response.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        Ok(Response::from_parts(parts, Body::new(body)))
    }
}

fn ip_header(ip: IpAddr) -> HeaderValue {
    // An IP address is always a valid header value.
    HeaderValue::try_from(ip.to_string()).unwrap_or(HeaderValue::from_static("unknown"))
}

/// Removes hop-by-hop headers, including those the `Connection` header names.
fn strip_hop_by_hop(headers: &mut HeaderMap) {
    // Most requests and responses carry none: one pass over a handful of headers is cheaper
    // than nine removals that find nothing.
    if !headers.keys().any(|name| HOP_BY_HOP.contains(name)) {
        return;
    }
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|name| HeaderName::try_from(name.trim()).ok())
        .collect();
    for name in named {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

/// Maps a failed exchange: an instance that refuses or drops connections is unavailable (the
/// client may retry); a response that is not HTTP is a bad gateway.
fn upstream_error(route: &Route, err: &hyper_util::client::legacy::Error) -> Error {
    tracing::warn!(
        instance_id = %route.instance_id,
        error = %error_chain(err),
        "forwarding to the instance failed"
    );
    let mut source = err.source();
    while let Some(cause) = source {
        if let Some(hyper_err) = cause.downcast_ref::<hyper::Error>() {
            if hyper_err.is_parse() {
                return Error::BadGateway("the instance sent an invalid response".into());
            }
            if hyper_err.is_user() {
                return Error::invalid("the request body could not be read");
            }
        }
        source = cause.source();
    }
    Error::InstanceUnavailable
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_and_the_ones_connection_names_go() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, X-Drop-Me"),
        );
        headers.insert("x-drop-me", HeaderValue::from_static("1"));
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        headers.insert(header::TE, HeaderValue::from_static("trailers"));
        headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        strip_hop_by_hop(&mut headers);
        assert_eq!(headers.len(), 1);
        assert!(headers.contains_key(header::ACCEPT));
    }
}
