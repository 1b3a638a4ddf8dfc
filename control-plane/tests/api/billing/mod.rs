//! Billing through Stripe: Checkout and the billing portal against a local server that records
//! Stripe's documented request form (localstripe has neither), signed webhook events in
//! Stripe's current shapes — duplicates, out of order, bad signatures, stale timestamps — and
//! localstripe's own genuinely signed deliveries into our endpoint. One file each:
//!
//! - `checkout`: Checkout and the portal in Stripe's form; webhook signatures.
//! - `events`: events applied exactly once in any order, through the subscription's life.
//! - `localstripe`: localstripe's deliveries activate and end a subscription.

mod checkout;
mod events;
mod localstripe;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authstack_control_plane::billing::stripe::signature;
use authstack_control_plane::config::{BillingConfig, StripeConfig};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::{FakeStripe, Owner, TestPlatform, spawn_platform_with, test_config};

pub(crate) const SECRET: &str = "whsec_test_current";
const OLD_SECRET: &str = "whsec_test_previous";

/// A platform billing through Stripe at the fake (which forwards to `localstripe` if set).
async fn stripe_platform(localstripe: Option<String>) -> (TestPlatform, FakeStripe) {
    crate::helpers::install_tls_provider();
    let fake = FakeStripe::forwarding_to(localstripe);
    let base = fake.start().await;
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = test_config(dir.path());
    config.billing = BillingConfig::Stripe(StripeConfig {
        api_key: SecretString::from("sk_test_authstack".to_owned()),
        api_base: format!("{base}/"),
        webhook_secrets: vec![
            SecretString::from(SECRET.to_owned()),
            SecretString::from(OLD_SECRET.to_owned()),
        ],
        webhook_tolerance: Duration::from_secs(300),
        return_url: "https://dashboard.authstack.test/billing".into(),
    });
    (spawn_platform_with(dir, config).await, fake)
}

impl TestPlatform {
    /// Delivers `event` to the webhook endpoint, signed with `secret` at `at`.
    pub(crate) async fn deliver(
        &self,
        event: &Value,
        secret: &str,
        at: i64,
    ) -> crate::helpers::Reply {
        let payload = serde_json::to_vec(event).expect("json");
        let header = signature::sign(&payload, secret, at);
        self.send(
            self.client
                .post(format!("{}/v1/billing/stripe/webhook", self.cp))
                .header("stripe-signature", header)
                .header("content-type", "application/json")
                .body(payload),
        )
        .await
    }

    /// The account's subscription.
    async fn subscription(&self, owner: &Owner) -> Value {
        let reply = self.get(&owner.account(""), &owner.token).await;
        reply.assert_ok(200);
        reply.body["subscription"].clone()
    }

    /// Waits (30 s at most) for the subscription's `status`.
    async fn wait_for_status(&self, owner: &Owner, status: &str) -> Value {
        let started = Instant::now();
        loop {
            let subscription = self.subscription(owner).await;
            if subscription["status"] == status {
                return subscription;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "status is {subscription}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

pub(crate) fn event(id: &str, kind: &str, created: i64, object: Value) -> Value {
    json!({
        "id": id, "object": "event", "api_version": "2025-03-31.basil", "created": created,
        "type": kind, "livemode": false, "pending_webhooks": 1,
        "request": { "id": null, "idempotency_key": null },
        "data": { "object": object }
    })
}

pub(crate) fn subscription_object(
    account_id: &str,
    customer: &str,
    status: &str,
    price: &str,
    period_end: i64,
    cancel_at_period_end: bool,
) -> Value {
    json!({
        "id": "sub_1QAuthstackTest", "object": "subscription", "customer": customer, "status": status,
        "cancel_at_period_end": cancel_at_period_end, "metadata": { "account_id": account_id },
        "items": { "object": "list", "data": [{
            "id": "si_QAuthstack", "object": "subscription_item",
            "price": { "id": price, "object": "price", "recurring": { "interval": "month" } },
            "current_period_start": period_end - 30 * 86400, "current_period_end": period_end
        }]}
    })
}

pub(crate) fn invoice_object(customer: &str, status: &str) -> Value {
    json!({
        "id": format!("in_{status}"), "object": "invoice", "customer": customer, "status": status,
        "parent": { "type": "subscription_details", "subscription_details": { "subscription": "sub_1QAuthstackTest", "metadata": {} } },
        "next_payment_attempt": null, "period_end": 0
    })
}

/// The call the fake Stripe API recorded first for `path`: its path, form and idempotency key.
fn recorded_call(
    recorded: &FakeStripe,
    path: &str,
) -> (String, HashMap<String, String>, Option<String>) {
    let call = recorded.first(path);
    (
        call.path,
        call.form.into_iter().collect(),
        call.idempotency_key,
    )
}

/// Subscribes the owner to starter (a Checkout Session, still `pending`); returns the Stripe
/// customer the session is for.
async fn checkout(platform: &TestPlatform, owner: &Owner, recorded: &FakeStripe) -> String {
    let body = json!({ "plan": "starter", "region": "local" });
    let reply = platform
        .post(&owner.account("/subscription"), &owner.token, body)
        .await;
    reply.assert_ok(200);
    assert_eq!(reply.body["subscription"]["status"], "pending");
    let (_, form, _) = recorded_call(recorded, "/v1/checkout/sessions");
    form["customer"].clone()
}

/// `customer.subscription.created` for the account at `now`: active on starter for 30 days.
fn subscription_created(owner: &Owner, customer: &str, now: i64) -> Value {
    let starter = "price_authstack_starter_monthly";
    let object = subscription_object(
        &owner.account_id,
        customer,
        "active",
        starter,
        now + 30 * 86400,
        false,
    );
    event(
        "evt_sub_created",
        "customer.subscription.created",
        now,
        object,
    )
}

/// A subscriber on starter, active with both instances ready (the subscription event signed
/// with the secret being rotated out): the owner, the Stripe customer, and the clock's start.
async fn active_subscriber(
    platform: &TestPlatform,
    email: &str,
    recorded: &FakeStripe,
) -> (Owner, String, i64) {
    let owner = platform.owner(email).await;
    let customer = checkout(platform, &owner, recorded).await;
    let now = platform.clock.now();
    let created = subscription_created(&owner, &customer, now);
    platform
        .deliver(&created, OLD_SECRET, now)
        .await
        .assert_ok(200);
    platform.wait_for_instances(&owner, "ready").await;
    assert_eq!(platform.subscription(&owner).await["status"], "active");
    (owner, customer, now)
}

/// Whether each of `actions` is in the account's audit log.
async fn assert_audited(platform: &TestPlatform, owner: &Owner, actions: &[&str]) {
    let audit = owner.account("/audit-logs?limit=200");
    let audit = platform.get(&audit, &owner.token).await;
    let text = audit.body.to_string();
    for action in actions {
        assert!(text.contains(action), "{action} missing from {text}");
    }
}
