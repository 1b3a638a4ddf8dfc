//! Webhook endpoints of an organization: its admins (`webhooks:manage`) register their own
//! endpoints for their organization's audit events, a feed for their SIEM that the customer's
//! customers configure themselves.
//!
//! An endpoint receives the events whose audit row names its organization (`organization.*`:
//! members, invitations, roles, API keys, its webhooks, ...), filtered by its patterns, never
//! another organization's and never an instance-wide event. It is delivered like an endpoint of the
//! configuration, by the same outbox, signer and worker, with the same retries, log, replay and
//! disabling after sustained failure; its secret is created with it, sealed under the master
//! key and shown once, in the answer that creates it (then by a rotation).
//!
//! Its URL is held to the rules of outbound requests ([`crate::outbound`]): `https` (or `http`
//! to a loopback host), and no loopback, private or link-local address unless the instance runs
//! in development (`--allow-private-webhooks`), checked when it is registered (the address if
//! the URL names one, else what the name resolves to) and again at every delivery, as names can
//! resolve elsewhere later.

pub mod routes;
pub mod store;

use std::time::Duration;

use super::{Endpoint, ORGANIZATION_ENDPOINT_PREFIX};
use crate::clock::UnixTime;
use crate::error::{Error, Result};
use crate::outbound::{is_public, refused_literal};

/// The permission that lets a member (or an API key) manage the organization's endpoints.
pub const MANAGE: &str = "webhooks:manage";
/// How many endpoints an organization may register.
pub const MAX_PER_ORGANIZATION: i64 = 10;
/// How many patterns an endpoint may list.
pub const MAX_EVENTS: usize = 20;
/// The longest URL an endpoint may have, in bytes.
pub const MAX_URL_BYTES: usize = 2048;
/// How long registering waits for a name to resolve; a name that does not resolve in time is
/// accepted (every delivery checks it again).
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

/// An organization's endpoint as stored.
#[derive(Debug, Clone)]
pub struct OrgEndpoint {
    pub endpoint: Endpoint,
    pub organization_id: String,
    /// The user or API key (`orgkey_…`) that registered it.
    pub created_by: Option<String>,
    pub created_at: UnixTime,
}

/// A fresh endpoint id, `whe_org_` and 32 hex digits.
pub fn new_id() -> String {
    format!(
        "{ORGANIZATION_ENDPOINT_PREFIX}{}",
        uuid::Uuid::now_v7().simple()
    )
}

/// The patterns an endpoint lists: one to [`MAX_EVENTS`] names, prefixes or `*`, each once.
pub fn parse_events(events: &[String]) -> Result<Vec<String>> {
    if events.is_empty() || events.len() > MAX_EVENTS {
        return Err(Error::invalid(format!(
            "events must list 1 to {MAX_EVENTS} event names (organization.member_added), prefixes (organization.*) or *"
        )));
    }
    let mut out: Vec<String> = Vec::new();
    for event in events {
        if event.len() > 100 || !crate::config::is_event_pattern(event) {
            return Err(Error::invalid(format!(
                "events: {:?} is not an event name like organization.member_added, a prefix like organization.*, or *",
                event.chars().take(100).collect::<String>()
            )));
        }
        if !out.contains(event) {
            out.push(event.clone());
        }
    }
    Ok(out)
}

/// The URL's syntax: absolute, `https` (or `http` to a loopback host), with a host, without
/// credentials or a fragment.
pub fn parse_url(raw: &str) -> Result<reqwest::Url> {
    let invalid = |why: &str| Error::invalid(format!("url {why}"));
    if raw.len() > MAX_URL_BYTES {
        return Err(invalid("must be at most 2048 bytes"));
    }
    if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(invalid("must not contain spaces or control characters"));
    }
    let url = reqwest::Url::parse(raw)
        .map_err(|_| invalid("must be an absolute URL like https://siem.example.com/hooks"))?;
    let Some(host) = url.host_str() else {
        return Err(invalid("must name a host"));
    };
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(invalid("must use https (http only for localhost)")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "must not contain credentials (receivers verify the signature instead)",
        ));
    }
    if url.fragment().is_some() {
        return Err(invalid("must not contain a fragment"));
    }
    Ok(url)
}

/// Refuses a URL the instance may not send to: an address that is not public, or a name that
/// resolves to no public address (unless `allow_private`).
pub async fn check_target(url: &reqwest::Url, allow_private: bool) -> Result<()> {
    let refused = |why: String| {
        Error::InvalidValue(
            "url_not_allowed",
            format!("url {why}: webhooks may not target loopback, private or link-local addresses"),
        )
    };
    if let Some(reason) = refused_literal(url, allow_private) {
        return Err(refused(reason));
    }
    if allow_private {
        return Ok(());
    }
    let Some(url::Host::Domain(name)) = url.host() else {
        return Ok(());
    };
    let port = url.port_or_known_default().unwrap_or(443);
    let resolved = tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((name, port)));
    if let Ok(Ok(addresses)) = resolved.await {
        let addresses: Vec<_> = addresses.collect();
        if !addresses.is_empty() && !addresses.iter().any(|a| is_public(a.ip())) {
            return Err(refused(format!(
                "is refused: {name} resolves to no public address"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_https_with_a_host_and_no_credentials() {
        assert!(parse_url("https://siem.example.com/hooks?x=1").is_ok());
        assert!(parse_url("http://127.0.0.1:8080/hooks").is_ok());
        for bad in [
            "siem.example.com/hooks",
            "http://siem.example.com/hooks",
            "ftp://siem.example.com/",
            "https://user:pass@siem.example.com/",
            "https://siem.example.com/#frag",
            "https://siem.example.com/a b",
        ] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn inside_addresses_are_refused_outside_development() {
        for url in [
            "https://127.0.0.1/h",
            "https://10.0.0.1/h",
            "https://[::1]/h",
            "https://169.254.169.254/h",
        ] {
            let url = parse_url(url).expect("a URL");
            let refused = check_target(&url, false).await.expect_err("refused");
            assert_eq!(refused.code(), "url_not_allowed");
            assert!(check_target(&url, true).await.is_ok());
        }
        let public = parse_url("https://93.184.216.34/h").expect("a URL");
        assert!(check_target(&public, false).await.is_ok());
    }

    #[test]
    fn patterns_are_names_prefixes_or_all_each_once() {
        let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_events(&list(&["organization.*", "*", "organization.*"])).expect("valid"),
            list(&["organization.*", "*"])
        );
        assert!(parse_events(&[]).is_err());
        assert!(parse_events(&list(&["Membership"])).is_err());
        assert!(parse_events(&list(&["organization.*.x"])).is_err());
        assert!(parse_events(&vec!["a.b".to_owned(); MAX_EVENTS + 1]).is_err());
    }
}
