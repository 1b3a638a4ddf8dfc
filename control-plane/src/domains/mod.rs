//! Custom domains: an instance served at the customer's own host name (`auth.customer.com`)
//! instead of its address on the gateway.
//!
//! The customer sets a domain (plans with `custom_domain`), publishes the TXT record
//! `_authstack-challenge.<domain>` with the token shown, and asks for verification; the control
//! plane resolves the record ([`dns`]). Once verified, the gateway routes requests whose `Host` is
//! the domain to the instance at the root path, and the instance's issuer becomes the domain —
//! with the gateway URL's scheme and port, so `https://auth.customer.com` in production and
//! `http://auth.customer.test:7401` on `authstack dev`. The address issuer
//! (`{gateway}/i/{instance_id}`) stays among the accepted issuers, so tokens issued before keep
//! verifying.

pub mod dns;
pub mod routes;
pub mod store;

use std::net::IpAddr;

use axum::http::Uri;
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::App;
use crate::accounts::Account;
use crate::audit::{self, Actor};
use crate::error::{Error, Result};
use crate::gateway::{address, changes};
use crate::ids::InstanceId;
use crate::instances::Instance;

/// The label under the domain where the verification record lives.
pub const CHALLENGE_LABEL: &str = "_authstack-challenge";

/// A host name a customer may serve an instance at: lowercase, without a trailing dot, at least
/// two labels of letters, digits and inner hyphens, not an IP address, and not the gateway's
/// own host or a name under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain(String);

impl Domain {
    /// Validates `raw` against the rules above; `gateway_url` names the host customers may not
    /// take.
    pub fn parse(raw: &str, gateway_url: &str) -> std::result::Result<Domain, String> {
        let name = raw.trim().trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() {
            return Err("domain: a host name such as auth.example.com".into());
        }
        if name.len() > 253 {
            return Err("domain: at most 253 characters".into());
        }
        let unbracketed = name.trim_start_matches('[').trim_end_matches(']');
        if unbracketed.parse::<IpAddr>().is_ok() {
            return Err(format!(
                "domain: '{name}' is an IP address, not a host name"
            ));
        }
        let labels: Vec<&str> = name.split('.').collect();
        if labels.len() < 2 {
            return Err(format!(
                "domain: '{name}' needs at least two labels (auth.example.com)"
            ));
        }
        for label in &labels {
            let valid = (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-');
            if !valid {
                return Err(format!(
                    "domain: '{name}' is not a host name (labels of letters, digits and inner hyphens, at most 63 each)"
                ));
            }
        }
        if labels
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(format!("domain: '{name}' has a numeric top-level label"));
        }
        if let Some(gateway) = gateway_host(gateway_url)
            && (name == gateway || name.ends_with(&format!(".{gateway}")))
        {
            return Err(format!(
                "domain: '{name}' is the gateway's own host or under it"
            ));
        }
        Ok(Domain(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The host of the gateway's public URL, lowercase.
fn gateway_host(gateway_url: &str) -> Option<String> {
    let uri: Uri = gateway_url.parse().ok()?;
    Some(uri.host()?.to_ascii_lowercase())
}

/// An instance's custom domain as stored.
#[derive(Debug, Clone)]
pub struct CustomDomain {
    pub instance_id: InstanceId,
    pub domain: String,
    /// The value the TXT record must hold.
    pub token: String,
    pub verified_at: Option<i64>,
    pub created_at: i64,
}

impl CustomDomain {
    /// `_authstack-challenge.<domain>`.
    pub fn challenge_name(&self) -> String {
        format!("{CHALLENGE_LABEL}.{}", self.domain)
    }

    pub fn is_verified(&self) -> bool {
        self.verified_at.is_some()
    }
}

/// The DNS record the customer creates.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Verification {
    /// Always `TXT`.
    #[serde(rename = "type")]
    pub record_type: &'static str,
    /// `_authstack-challenge.<domain>`.
    pub name: String,
    /// The token the record must hold.
    pub value: String,
}

/// Whether the domain serves the instance yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DomainStatus {
    /// Set, waiting for its TXT record to be verified.
    Pending,
    /// Verified: the gateway routes it and it is the instance's issuer.
    Verified,
}

/// An instance's custom domain as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DomainView {
    pub domain: String,
    pub status: DomainStatus,
    pub verification: Verification,
    /// The issuer the instance has once the domain is verified.
    pub issuer: String,
    /// When it was verified (RFC 3339), if it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    pub verified_at: Option<String>,
}

impl DomainView {
    pub fn of(app: &App, domain: &CustomDomain) -> DomainView {
        DomainView {
            status: if domain.is_verified() {
                DomainStatus::Verified
            } else {
                DomainStatus::Pending
            },
            verification: Verification {
                record_type: "TXT",
                name: domain.challenge_name(),
                value: domain.token.clone(),
            },
            issuer: issuer(&app.gateway_url, &domain.domain),
            verified_at: domain.verified_at.map(authstack_instance::clock::rfc3339),
            domain: domain.domain.clone(),
        }
    }
}

/// The issuer of an instance served at `domain`: the gateway URL's scheme and port with the
/// domain as host (`https://gw.example` → `https://<domain>`, `http://127.0.0.1:7401` →
/// `http://<domain>:7401`).
pub fn issuer(gateway_url: &str, domain: &str) -> String {
    let uri = gateway_url.parse::<Uri>().ok();
    let scheme = uri.as_ref().and_then(Uri::scheme_str).unwrap_or("https");
    match uri.as_ref().and_then(Uri::port_u16) {
        Some(port) => format!("{scheme}://{domain}:{port}"),
        None => format!("{scheme}://{domain}"),
    }
}

/// The domain the instance is served at: its verified domain, while its plan still includes
/// custom domains.
pub async fn served_at(app: &App, instance: &Instance) -> anyhow::Result<Option<String>> {
    if instance.account_id.is_none() || !plan_allows(app, &instance.plan) {
        return Ok(None);
    }
    Ok(store::of_instance(&app.db, &instance.id)
        .await?
        .filter(CustomDomain::is_verified)
        .map(|domain| domain.domain))
}

/// What an instance served at `domain` (if any) announces: its issuer, and the earlier issuers
/// whose tokens it still accepts. The domain is the issuer; the address on the gateway, and the
/// bare gateway URL that every instance had before addresses existed, stay accepted.
pub fn issuers_at(app: &App, instance: &Instance, domain: Option<&str>) -> (String, Vec<String>) {
    let address = address::issuer(&app.gateway_url, &instance.id);
    match domain {
        Some(domain) => (
            issuer(&app.gateway_url, domain),
            vec![address, app.gateway_url.clone()],
        ),
        None => (address, vec![app.gateway_url.clone()]),
    }
}

/// The instance's issuer and previous issuers ([`issuers_at`] its [`served_at`] domain).
pub async fn issuers(app: &App, instance: &Instance) -> anyhow::Result<(String, Vec<String>)> {
    let domain = served_at(app, instance).await?;
    Ok(issuers_at(app, instance, domain.as_deref()))
}

/// Whether plan `plan` includes custom domains.
pub fn plan_allows(app: &App, plan: &str) -> bool {
    app.config
        .catalog
        .plan(plan)
        .is_some_and(|p| p.limits.custom_domain)
}

/// Sets the instance's domain. The same domain again keeps its token and status; a new one
/// replaces the old (which stops serving) and starts pending with a fresh token.
pub async fn set(
    app: &App,
    account: &Account,
    instance: &Instance,
    raw: &str,
    user_id: &str,
) -> Result<CustomDomain> {
    if !plan_allows(app, &instance.plan) {
        return Err(Error::PlanFeature(format!(
            "custom domains are not part of the {} plan: upgrade to Pro or Enterprise",
            instance.plan
        )));
    }
    let domain = Domain::parse(raw, &app.gateway_url).map_err(Error::InvalidRequest)?;
    let current = store::of_instance(&app.db, &instance.id).await?;
    if let Some(current) = current.as_ref().filter(|c| c.domain == domain.as_str()) {
        return Ok(current.clone());
    }
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    store::release_deleted(&mut tx, domain.as_str()).await?;
    if let Some(owner) = store::owner_of(&mut tx, domain.as_str()).await?
        && owner != instance.id.as_str()
    {
        return Err(Error::DomainTaken(format!(
            "the domain {} is already used by another instance",
            domain.as_str()
        )));
    }
    let set = CustomDomain {
        instance_id: instance.id.clone(),
        domain: domain.as_str().to_owned(),
        token: authstack_instance::crypto::random_secret("asd_", 24)
            .expose_secret()
            .to_owned(),
        verified_at: None,
        created_at: now,
    };
    match store::replace(&mut tx, &set).await {
        Ok(()) => {}
        // Another instance took it between the check and the insert.
        Err(sqlx::Error::Database(err)) if err.is_unique_violation() => {
            return Err(Error::DomainTaken(format!(
                "the domain {} is already used by another instance",
                domain.as_str()
            )));
        }
        Err(err) => return Err(err.into()),
    }
    audit::record(
        &mut *tx,
        now,
        Some(&account.id),
        Actor::User(user_id),
        "domain.set",
        Some(&instance.id),
        serde_json::json!({ "domain": set.domain }),
    )
    .await?;
    let was_serving = current.as_ref().is_some_and(CustomDomain::is_verified);
    if was_serving {
        changes::record(&mut *tx, now).await?;
    }
    tx.commit().await?;
    if was_serving {
        app.reconciler.forget(&instance.id);
    }
    Ok(set)
}

/// Resolves the domain's TXT record; when it holds the token, the domain is verified: the
/// gateway routes it and the instance is re-applied with the domain as its issuer.
pub async fn verify(
    app: &App,
    account: &Account,
    instance: &Instance,
    user_id: &str,
) -> Result<CustomDomain> {
    let mut domain = store::of_instance(&app.db, &instance.id)
        .await?
        .ok_or(Error::NotFound("domain"))?;
    if domain.is_verified() {
        return Ok(domain);
    }
    if !plan_allows(app, &instance.plan) {
        return Err(Error::PlanFeature(format!(
            "custom domains are not part of the {} plan: upgrade to Pro or Enterprise",
            instance.plan
        )));
    }
    let name = domain.challenge_name();
    let found = dns::txt_values(app.config.dns_nameserver, &name)
        .await
        .map_err(|err| {
            Error::DomainNotVerified(format!(
                "looking up the TXT record {name} failed ({err}); create it with the value {} and retry",
                domain.token
            ))
        })?;
    if !found.iter().any(|value| value == &domain.token) {
        let seen = if found.is_empty() {
            "no TXT record was found".to_owned()
        } else {
            format!("it holds {}", found.join(", "))
        };
        return Err(Error::DomainNotVerified(format!(
            "the domain {} is not verified: create the TXT record {name} with the value {} ({seen}), then retry",
            domain.domain, domain.token
        )));
    }
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    if !store::mark_verified(&mut tx, &instance.id, &domain.domain, now).await? {
        return Err(Error::Conflict(
            "the instance's domain changed during verification; retry".into(),
        ));
    }
    audit::record(
        &mut *tx,
        now,
        Some(&account.id),
        Actor::User(user_id),
        "domain.verified",
        Some(&instance.id),
        serde_json::json!({ "domain": domain.domain }),
    )
    .await?;
    changes::record(&mut *tx, now).await?;
    tx.commit().await?;
    app.reconciler.forget(&instance.id);
    domain.verified_at = Some(now);
    Ok(domain)
}

/// Removes the instance's domain: the gateway stops routing it and the instance goes back to
/// its address as issuer.
pub async fn remove(
    app: &App,
    account: &Account,
    instance: &Instance,
    user_id: &str,
) -> Result<()> {
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    let removed = store::remove(&mut tx, &instance.id)
        .await?
        .ok_or(Error::NotFound("domain"))?;
    audit::record(
        &mut *tx,
        now,
        Some(&account.id),
        Actor::User(user_id),
        "domain.removed",
        Some(&instance.id),
        serde_json::json!({ "domain": removed.domain }),
    )
    .await?;
    if removed.is_verified() {
        changes::record(&mut *tx, now).await?;
    }
    tx.commit().await?;
    if removed.is_verified() {
        app.reconciler.forget(&instance.id);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GATEWAY: &str = "https://gw.authstack.example";

    #[test]
    fn domains_are_lowercase_host_names() {
        let parsed = Domain::parse(" Auth.Customer.COM. ", GATEWAY).expect("valid");
        assert_eq!(parsed.as_str(), "auth.customer.com");
        for bad in [
            "",
            "localhost",
            "auth..customer.com",
            "-auth.customer.com",
            "auth-.customer.com",
            "auth_customer.com",
            "https://auth.customer.com",
            "auth.customer.com/path",
            "auth.customer.com:443",
            "10.0.0.1",
            "[::1]",
            "::1",
            "1.2.3.4.5",
            "ünicode.example",
        ] {
            assert!(Domain::parse(bad, GATEWAY).is_err(), "{bad:?} accepted");
        }
        assert!(Domain::parse(&format!("{}.com", "a".repeat(64)), GATEWAY).is_err());
    }

    #[test]
    fn the_gateways_own_host_is_not_a_customer_domain() {
        assert!(Domain::parse("gw.authstack.example", GATEWAY).is_err());
        assert!(Domain::parse("x.gw.authstack.example", GATEWAY).is_err());
        assert!(Domain::parse("authstack.example", GATEWAY).is_ok());
        assert!(Domain::parse("xgw.authstack.example", GATEWAY).is_ok());
    }

    #[test]
    fn the_issuer_takes_the_gateways_scheme_and_port() {
        assert_eq!(
            issuer(GATEWAY, "auth.customer.com"),
            "https://auth.customer.com"
        );
        assert_eq!(
            issuer("http://127.0.0.1:7401", "auth.customer.test"),
            "http://auth.customer.test:7401"
        );
    }
}
