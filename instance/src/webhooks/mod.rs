//! Webhooks: the instance's events POSTed, signed per the Standard Webhooks specification, to
//! the endpoints its configuration lists (`webhooks: [{url, events}]`).
//!
//! Durability comes from an outbox: when an audit event is recorded, one `webhook_outbox` row per
//! matching endpoint is inserted in the same transaction as the audit row ([`store::enqueue`]),
//! so a queued delivery survives a crash and a rolled-back change queues nothing. The
//! [`delivery`] worker sends each endpoint's rows oldest first, one at a time (so they arrive
//! in order), and retries a failure with backoff for three days.
//!
//! An endpoint is known by the SHA-256 of its URL ([`endpoint_id`]), so a configuration that
//! reorders or re-describes endpoints keeps their history and secret. Each endpoint's secret
//! (`whsec_` and base64 of 24 random bytes) is created on first use and sealed under the master
//! key; it is shown once, by the rotation that creates a new one (the list shows its first
//! characters only); rotating keeps the previous one signing too for 24 hours.
//!
//! An endpoint whose attempts have all failed for a day is disabled ([`DISABLE_AFTER_SECS`],
//! [`DISABLE_AFTER_ATTEMPTS`]): the state is kept in the database, apart from the configuration
//! (which lists it still), so it stays disabled across revisions and restarts until
//! `POST /v1/admin/webhooks/{id}/enable`. Its events keep being queued and wait; enabling sends
//! them, oldest first. The instance's owner (`AUTHSTACK_NOTIFY_EMAIL`) is mailed when it happens.
//!
//! Endpoints come from two sources: the configuration, and the database for the endpoints an
//! organization's admins register for their organization's events ([`organization`]). Both share
//! the outbox, the secrets, the standing and the worker; an event goes to an organization's
//! endpoints only when it is that organization's (its audit row names the organization).

pub mod delivery;
pub mod organization;
pub mod routes;
pub mod store;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::clock::{UnixTime, rfc3339};
use crate::config::Webhook;

/// The payload format's version, in every payload as `version`.
pub const PAYLOAD_VERSION: u32 = 1;
/// Attempts stop when the event is older than this; the row is then `failed`.
pub const GIVE_UP_AFTER_SECS: i64 = 3 * 24 * 3600;
/// How long a rotated-out secret still signs.
pub const PREVIOUS_SECRET_SECS: i64 = 24 * 3600;
/// An endpoint is disabled when its attempts have all failed for this long...
pub const DISABLE_AFTER_SECS: i64 = 24 * 3600;
/// ...and this many in a row (so two failures a day apart do not disable it). With the
/// backoff below, one event that keeps failing reaches its tenth attempt after about 25 hours.
pub const DISABLE_AFTER_ATTEMPTS: i64 = 10;
/// The event type of `POST /v1/admin/webhooks/{id}/test`.
pub const TEST_EVENT: &str = "webhook.test";
/// How many leading characters of a secret the endpoint list shows (`whsec_` and four).
pub const SECRET_PREFIX_CHARS: usize = 10;
/// How much of a receiver's answer the delivery log keeps.
pub const EXCERPT_BYTES: usize = 500;

/// The webhook event type of each audit action that has one. Actions absent here are sent
/// under their own name. The README's event catalogue lists this table.
const EVENT_TYPES: &[(&str, &str)] = &[
    ("auth.signup", "user.created"),
    ("admin.user_created", "user.created"),
    ("admin.users_imported", "user.imported"),
    ("admin.user_updated", "user.updated"),
    ("admin.user_deleted", "user.deleted"),
    ("user.deleted", "user.deleted"),
    ("admin.user_banned", "user.banned"),
    ("admin.user_unbanned", "user.unbanned"),
    ("auth.email_verified", "user.email_verified"),
    ("auth.password_changed", "user.password_changed"),
    ("auth.password_reset", "user.password_reset"),
    ("auth.login_succeeded", "session.created"),
    ("auth.logout", "session.ended"),
    ("auth.session_ended", "session.ended"),
    ("admin.sessions_revoked", "session.revoked"),
    ("auth.refresh_token_reused", "session.refresh_token_reused"),
    ("admin.application_created", "application.created"),
    ("admin.application_updated", "application.updated"),
    ("admin.application_deleted", "application.deleted"),
    (
        "admin.application_secret_rotated",
        "application.secret_rotated",
    ),
];

/// The webhook event type an audit action is sent as.
pub fn event_type(action: &str) -> &str {
    EVENT_TYPES
        .iter()
        .find(|(a, _)| *a == action)
        .map_or(action, |(_, t)| t)
}

/// Whether a configured pattern (`user.created`, `user.*`, `*`) selects `event_type`.
pub fn matches(pattern: &str, event_type: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some("") => true,
        Some(prefix) if prefix.ends_with('.') => event_type.starts_with(prefix),
        _ => pattern == event_type,
    }
}

/// How the ids of organizations' endpoints start (those of the configuration are `whe_` and
/// hex digits).
pub const ORGANIZATION_ENDPOINT_PREFIX: &str = "whe_org_";

/// Whether `id` names an organization's endpoint rather than one of the configuration.
pub fn is_organization_endpoint(id: &str) -> bool {
    id.starts_with(ORGANIZATION_ENDPOINT_PREFIX)
}

/// The stable id of the endpoint at `url`.
pub fn endpoint_id(url: &str) -> String {
    let digest = Sha256::digest(url.as_bytes());
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("whe_{hex}")
}

/// An endpoint: of the configuration (the entries of `webhooks` with one URL merged), or of an
/// organization.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    /// The organization whose events it receives; `None` for an endpoint of the configuration.
    pub organization_id: Option<String>,
}

impl Endpoint {
    /// Whether its patterns select an event of `action`, by its webhook type or by the action
    /// itself (`auth.*` selects sign-ups and logins too).
    pub fn selects(&self, action: &str) -> bool {
        let kind = event_type(action);
        self.events
            .iter()
            .any(|p| matches(p, kind) || matches(p, action))
    }
}

/// The endpoints in `hooks`, in configuration order, one per URL.
pub fn endpoints(hooks: &[Webhook]) -> Vec<Endpoint> {
    let mut out: Vec<Endpoint> = Vec::new();
    for hook in hooks {
        let id = endpoint_id(&hook.url);
        match out.iter_mut().find(|e| e.id == id) {
            Some(known) => known.events.extend(hook.events.iter().cloned()),
            None => out.push(Endpoint {
                id,
                url: hook.url.clone(),
                events: hook.events.clone(),
                description: hook.description.clone(),
                organization_id: None,
            }),
        }
    }
    out
}

/// An audit event as it is recorded, the source of a webhook payload.
pub struct Recorded<'a> {
    pub id: &'a str,
    pub action: &'a str,
    pub occurred_at: UnixTime,
    pub actor_id: Option<&'a str>,
    pub target_id: Option<&'a str>,
    pub organization_id: Option<&'a str>,
    pub data: &'a serde_json::Value,
}

impl Recorded<'_> {
    /// The JSON body every endpoint receives for this event (version 1).
    pub fn payload(&self) -> String {
        serde_json::json!({
            "id": self.id,
            "type": event_type(self.action),
            "timestamp": rfc3339(self.occurred_at),
            "version": PAYLOAD_VERSION,
            "data": {
                "action": self.action,
                "actor_id": self.actor_id,
                "target_id": self.target_id,
                "organization_id": self.organization_id,
                "metadata": self.data,
            },
        })
        .to_string()
    }
}

/// A fresh endpoint secret: `whsec_` and the base64 of 24 random bytes.
pub fn new_secret() -> SecretString {
    let mut key = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut key);
    SecretString::from(format!("whsec_{}", STANDARD.encode(key)))
}

/// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` under `secret` (the key is the
/// base64-decoded part after `whsec_`), or `None` for a malformed secret.
pub fn sign(secret: &SecretString, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let encoded = secret.expose_secret().strip_prefix("whsec_")?;
    let key = STANDARD.decode(encoded).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header: one signature per secret, space-separated.
pub fn signature_header(
    secrets: &[SecretString],
    id: &str,
    timestamp: i64,
    body: &str,
) -> Option<String> {
    let signatures: Option<Vec<String>> = secrets
        .iter()
        .map(|s| sign(s, id, timestamp, body))
        .collect();
    Some(signatures?.join(" "))
}

/// Why an endpoint was disabled: the streak, and how its last attempt failed.
pub fn disabled_reason(failures: i64, failing_secs: i64, last: &store::Attempt) -> String {
    let how = match (&last.status, &last.error) {
        (Some(status), _) => format!("HTTP {status}"),
        (None, Some(error)) => error.clone(),
        (None, None) => "no answer".into(),
    };
    format!(
        "every delivery attempt failed for {} hours ({failures} attempts in a row); the last: {how}",
        failing_secs / 3600
    )
}

/// The first characters of `secret`, which the endpoint list shows to tell secrets apart.
pub fn secret_prefix(secret: &SecretString) -> String {
    secret
        .expose_secret()
        .chars()
        .take(SECRET_PREFIX_CHARS)
        .collect()
}

/// Seconds until the next attempt after `attempts` failed ones: 5 s, 30 s, 2 min, 10 min, 1 h,
/// then every 6 h.
pub fn backoff_secs(attempts: i64) -> i64 {
    match attempts {
        ..=1 => 5,
        2 => 30,
        3 => 120,
        4 => 600,
        5 => 3600,
        _ => 6 * 3600,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_exactly_by_prefix_or_all() {
        assert!(matches("user.created", "user.created"));
        assert!(!matches("user.created", "user.created_x"));
        assert!(matches("user.*", "user.deleted"));
        assert!(!matches("user.*", "users.deleted"));
        assert!(!matches("user.*", "session.created"));
        assert!(matches("*", "organization.created"));
    }

    #[test]
    fn signups_are_user_created_and_others_keep_their_name() {
        assert_eq!(event_type("auth.signup"), "user.created");
        assert_eq!(event_type("organization.created"), "organization.created");
    }

    #[test]
    fn the_signature_is_the_standard_webhooks_one() {
        // The example of the Standard Webhooks specification's reference libraries.
        let secret = SecretString::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned());
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn retries_back_off_to_six_hours() {
        let waits: Vec<i64> = (1..=7).map(backoff_secs).collect();
        assert_eq!(waits, [5, 30, 120, 600, 3600, 21600, 21600]);
    }

    #[test]
    fn one_url_is_one_endpoint() {
        let hook = |url: &str, event: &str| Webhook {
            url: url.into(),
            events: vec![event.into()],
            description: None,
        };
        let merged = endpoints(&[
            hook("https://a.example/h", "user.*"),
            hook("https://b.example/h", "*"),
            hook("https://a.example/h", "session.*"),
        ]);
        assert_eq!(merged.len(), 2);
        assert_eq!(merged[0].events, ["user.*", "session.*"]);
        assert_eq!(merged[0].id, endpoint_id("https://a.example/h"));
        assert_ne!(merged[0].id, merged[1].id);
    }
}
