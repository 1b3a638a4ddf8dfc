//! Requests the instance makes to addresses its customer chose: webhooks and back-channel
//! logout. One client for both ([`client`], on `App`), which follows no redirects and guards
//! against server-side request forgery: it refuses addresses that reach inside the instance's
//! own network (loopback, private, link-local, unique-local, shared and unspecified addresses)
//! unless the server runs with `--allow-private-webhooks` (`authstack dev`, the tests).
//!
//! The check is on resolved addresses, not names: the HTTP client resolves through
//! [`GuardedResolver`], which drops refused addresses, so it connects only to addresses that
//! were checked (a name that resolves to a public address once and a private one later cannot
//! slip through). An IP literal in the URL is not resolved by the client and is checked by
//! [`refused_literal`] before sending.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// Whether the instance may POST to `ip`.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b);
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || shared
        || a == 0)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let unique_local = (first & 0xfe00) == 0xfc00;
    let link_local = (first & 0xffc0) == 0xfe80;
    !(ip.is_unspecified() || ip.is_loopback() || ip.is_multicast() || unique_local || link_local)
}

/// When `url`'s host is an IP literal the instance may not reach, the reason.
pub fn refused_literal(url: &reqwest::Url, allow_private: bool) -> Option<String> {
    let host = url.host_str()?;
    let ip: IpAddr = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .ok()?;
    (!allow_private && !is_public(ip)).then(|| format!("refused: {ip} is not a public address"))
}

/// Resolves names for the outbound client, keeping only the addresses it may connect to.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    pub allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|addr| allow_private || is_public(addr.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!("refused: {host} resolves to no public address").into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The outbound client: no redirects followed, no proxy, names resolved through
/// [`GuardedResolver`]. Callers set each request's timeout.
pub fn client(allow_private: bool) -> reqwest::Client {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .dns_resolver(Arc::new(GuardedResolver { allow_private }))
        .no_proxy()
        .user_agent("AuthStack")
        .build()
        .unwrap_or_default()
}

/// The kind of failure, without the URL reqwest's message names.
pub fn failure(error: &reqwest::Error) -> String {
    let mut source = std::error::Error::source(error);
    let mut refused = false;
    while let Some(cause) = source {
        refused |= cause.to_string().starts_with("refused: ");
        source = cause.source();
    }
    match () {
        _ if refused => "refused: the host resolves to no public address".into(),
        _ if error.is_timeout() => "timeout".into(),
        _ if error.is_connect() => "connection failed".into(),
        _ => "request failed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().expect("an address")), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1::1", "1.1.1.1"] {
            assert!(is_public(ip.parse().expect("an address")), "{ip}");
        }
    }

    #[test]
    fn literals_are_checked_before_sending() {
        let url = |u: &str| reqwest::Url::parse(u).expect("a URL");
        assert!(refused_literal(&url("http://127.0.0.1:9/h"), false).is_some());
        assert!(refused_literal(&url("http://[::1]:9/h"), false).is_some());
        assert!(refused_literal(&url("http://127.0.0.1:9/h"), true).is_none());
        assert!(refused_literal(&url("https://hooks.example.com/h"), false).is_none());
    }
}
