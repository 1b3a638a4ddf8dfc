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
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use authstack_control_plane::billing::stripe::signature;
use authstack_control_plane::config::{BillingConfig, StripeConfig};
use axum::extract::State;
use axum::http::{HeaderMap, Method as HttpMethod, Uri};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::{Owner, TestPlatform, spawn_platform_with, test_config};

pub(crate) const SECRET: &str = "whsec_test_current";
const OLD_SECRET: &str = "whsec_test_previous";

/// What the fake Stripe API saw: (path, form fields, idempotency key).
type Recorded = Arc<Mutex<Vec<(String, HashMap<String, String>, Option<String>)>>>;

#[derive(Clone)]
struct FakeStripe {
    recorded: Recorded,
    /// Everything but Checkout and the portal goes to localstripe when set.
    localstripe: Option<String>,
    http: reqwest::Client,
}

async fn fake_stripe(
    State(fake): State<FakeStripe>,
    method: HttpMethod,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = uri.path().to_owned();
    let form: HashMap<String, String> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let idempotency = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    fake.recorded
        .lock()
        .expect("lock")
        .push((path.clone(), form.clone(), idempotency));
    let n = fake.recorded.lock().expect("lock").len();
    match path.as_str() {
        "/v1/checkout/sessions" => axum::Json(json!({
            "id": format!("cs_test_{n}"), "object": "checkout.session",
            "url": format!("https://checkout.stripe.com/c/pay/cs_test_{n}")
        }))
        .into_response(),
        "/v1/billing_portal/sessions" => axum::Json(json!({
            "id": format!("bps_{n}"), "object": "billing_portal.session",
            "url": format!("https://billing.stripe.com/p/session/test_{n}")
        }))
        .into_response(),
        _ => match &fake.localstripe {
            Some(base) => {
                let forwarded = fake
                    .http
                    .request(method, format!("{base}{}", uri))
                    .header("authorization", "Bearer sk_test_authstack")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .expect("localstripe answers");
                let status = forwarded.status();
                let text = forwarded.text().await.unwrap_or_default();
                (status, [("content-type", "application/json")], text).into_response()
            }
            None if path == "/v1/customers" => {
                axum::Json(json!({ "id": format!("cus_test_{n}"), "object": "customer" }))
                    .into_response()
            }
            None => (axum::http::StatusCode::NOT_FOUND, "{}").into_response(),
        },
    }
}

/// A platform billing through Stripe at the fake (which forwards to `localstripe` if set).
async fn stripe_platform(localstripe: Option<String>) -> (TestPlatform, Recorded) {
    crate::helpers::install_tls_provider();
    let recorded: Recorded = Arc::default();
    let fake = FakeStripe {
        recorded: recorded.clone(),
        localstripe,
        http: reqwest::Client::new(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let app = axum::Router::new().fallback(fake_stripe).with_state(fake);
        let _ = axum::serve(listener, app).await;
    });
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let mut config = test_config(dir.path());
    config.billing = BillingConfig::Stripe(StripeConfig {
        api_key: SecretString::from("sk_test_authstack".to_owned()),
        api_base: format!("http://{addr}/"),
        webhook_secrets: vec![
            SecretString::from(SECRET.to_owned()),
            SecretString::from(OLD_SECRET.to_owned()),
        ],
        webhook_tolerance: Duration::from_secs(300),
        return_url: "https://dashboard.authstack.test/billing".into(),
    });
    (spawn_platform_with(dir, config).await, recorded)
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

/// The call the fake Stripe API recorded first for `path`.
fn recorded_call(
    recorded: &Recorded,
    path: &str,
) -> (String, HashMap<String, String>, Option<String>) {
    recorded
        .lock()
        .expect("lock")
        .iter()
        .find(|r| r.0 == path)
        .cloned()
        .unwrap_or_else(|| panic!("no call to {path}"))
}

/// Subscribes the owner to starter (a Checkout Session, still `pending`); returns the Stripe
/// customer the session is for.
async fn checkout(platform: &TestPlatform, owner: &Owner, recorded: &Recorded) -> String {
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
    recorded: &Recorded,
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
