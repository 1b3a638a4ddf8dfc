//! Billing through Stripe: Checkout and the billing portal against a local server that records
//! Stripe's documented request form (localstripe has neither), signed webhook events in
//! Stripe's current shapes — duplicates, out of order, bad signatures, stale timestamps — and
//! localstripe's own genuinely signed deliveries into our endpoint.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use authstack_control_plane::billing::stripe::signature;
use authstack_control_plane::config::{BillingConfig, StripeConfig};
use axum::extract::State;
use axum::http::{HeaderMap, Method as HttpMethod, Uri};
use reqwest::Method;
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
    let form: HashMap<String, String> = url_decode(&body);
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

fn url_decode(body: &str) -> HashMap<String, String> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            let decode = |s: &str| {
                let s = s.replace('+', " ");
                let bytes = s.as_bytes();
                let mut out = Vec::new();
                let mut i = 0;
                while i < bytes.len() {
                    if bytes[i] == b'%'
                        && i + 2 < bytes.len()
                        && let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16)
                    {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    out.push(bytes[i]);
                    i += 1;
                }
                String::from_utf8_lossy(&out).into_owned()
            };
            Some((decode(k), decode(v)))
        })
        .collect()
}

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

    async fn subscription(&self, owner: &Owner) -> Value {
        let reply = self
            .cp(
                Method::GET,
                &format!("/v1/accounts/{}", owner.account_id),
                &owner.token,
                None,
            )
            .await;
        reply.assert_ok(200);
        reply.body["subscription"].clone()
    }

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_events_apply_exactly_once_in_any_order() {
    let (platform, recorded) = stripe_platform(None).await;
    let owner = platform.owner("billing@acme.test").await;
    let account = owner.account_id.clone();

    // Subscribing starts a Checkout Session in Stripe's documented form.
    let reply = platform
        .cp(
            Method::POST,
            &format!("/v1/accounts/{account}/subscription"),
            &owner.token,
            Some(json!({ "plan": "starter", "region": "local" })),
        )
        .await;
    reply.assert_ok(200);
    assert!(
        reply
            .str("checkout_url")
            .starts_with("https://checkout.stripe.com/"),
        "{}",
        reply.body
    );
    assert_eq!(reply.body["subscription"]["status"], "pending");
    let checkout = recorded
        .lock()
        .expect("lock")
        .iter()
        .find(|r| r.0 == "/v1/checkout/sessions")
        .cloned()
        .expect("checkout call");
    let form = &checkout.1;
    assert_eq!(form["mode"], "subscription");
    assert_eq!(
        form["line_items[0][price]"],
        "price_authstack_starter_monthly"
    );
    assert_eq!(form["line_items[0][quantity]"], "1");
    assert_eq!(form["client_reference_id"], account);
    assert_eq!(form["subscription_data[metadata][account_id]"], account);
    assert_eq!(form["metadata[region]"], "local");
    assert!(checkout.2.is_some(), "an Idempotency-Key is sent");
    let customer = form["customer"].clone();
    assert!(customer.starts_with("cus_"));

    let now = platform.clock.now();
    // Bad signatures, a stale timestamp and a secret we do not hold are refused.
    let created = event(
        "evt_sub_created",
        "customer.subscription.created",
        now,
        subscription_object(
            &account,
            &customer,
            "active",
            "price_authstack_starter_monthly",
            now + 30 * 86400,
            false,
        ),
    );
    platform
        .deliver(&created, "whsec_wrong", now)
        .await
        .assert_error(400, "invalid_signature");
    platform
        .deliver(&created, SECRET, now - 3600)
        .await
        .assert_error(400, "invalid_signature");
    let garbled = platform
        .send(
            platform
                .client
                .post(format!("{}/v1/billing/stripe/webhook", platform.cp))
                .header("stripe-signature", "t=abc,v1=zz")
                .body("{}"),
        )
        .await;
    garbled.assert_error(400, "invalid_signature");
    assert_eq!(platform.subscription(&owner).await["status"], "pending");

    // The subscription event arrives before the checkout completion; signed with the secret
    // being rotated out. It activates; both instances come up.
    platform
        .deliver(&created, OLD_SECRET, now)
        .await
        .assert_ok(200);
    platform.wait_for_instances(&owner, "ready").await;
    let completed = event(
        "evt_checkout_done",
        "checkout.session.completed",
        now - 1,
        json!({
            "id": "cs_test_2", "object": "checkout.session", "mode": "subscription", "customer": customer,
            "subscription": "sub_1QAuthstackTest", "client_reference_id": account, "payment_status": "paid",
            "status": "complete", "metadata": { "account_id": account, "plan": "starter", "region": "local" }
        }),
    );
    let first = platform.deliver(&completed, SECRET, now).await;
    first.assert_ok(200);
    assert_eq!(first.body["duplicate"], false);
    let again = platform.deliver(&completed, SECRET, now).await;
    assert_eq!(
        again.body["duplicate"], true,
        "a retried delivery is applied once"
    );
    assert_eq!(platform.subscription(&owner).await["status"], "active");

    // A failed payment opens the grace period; the instances keep running.
    platform.clock.advance(10);
    let failed = event(
        "evt_pay_failed_1",
        "invoice.payment_failed",
        platform.clock.now(),
        invoice_object(&customer, "open"),
    );
    platform
        .deliver(&failed, SECRET, platform.clock.now())
        .await
        .assert_ok(200);
    let past_due = platform.wait_for_status(&owner, "past_due").await;
    assert!(past_due["grace_until"].is_string());
    // An older "active" update delivered late changes nothing.
    let stale = event(
        "evt_stale_update",
        "customer.subscription.updated",
        now + 1,
        subscription_object(
            &account,
            &customer,
            "active",
            "price_authstack_starter_monthly",
            now + 30 * 86400,
            false,
        ),
    );
    platform
        .deliver(&stale, SECRET, platform.clock.now())
        .await
        .assert_ok(200);
    assert_eq!(platform.subscription(&owner).await["status"], "past_due");

    // The grace period ends: suspended, the instances stop.
    platform
        .clock
        .advance(platform.config.payment_grace.as_secs() as i64 + 1);
    platform.wait_for_status(&owner, "suspended").await;
    platform.wait_for_instances(&owner, "suspended").await;

    // Payment arrives: active again, instances back.
    let paid = event(
        "evt_paid_1",
        "invoice.paid",
        platform.clock.now(),
        invoice_object(&customer, "paid"),
    );
    platform
        .deliver(&paid, SECRET, platform.clock.now())
        .await
        .assert_ok(200);
    platform.wait_for_status(&owner, "active").await;
    platform.wait_for_instances(&owner, "ready").await;

    // An upgrade in the portal arrives as a subscription update with the Pro price.
    platform.clock.advance(10);
    let upgraded = event(
        "evt_upgrade",
        "customer.subscription.updated",
        platform.clock.now(),
        subscription_object(
            &account,
            &customer,
            "active",
            "price_authstack_pro_monthly",
            now + 60 * 86400,
            true,
        ),
    );
    platform
        .deliver(&upgraded, SECRET, platform.clock.now())
        .await
        .assert_ok(200);
    let subscription = platform.wait_for_status(&owner, "active").await;
    assert_eq!(subscription["plan"], "pro");
    assert_eq!(subscription["cancel_at_period_end"], true);
    let instances = platform.wait_for_instances(&owner, "ready").await;
    assert!(
        instances.iter().all(|i| i["plan"] == "pro"),
        "{instances:#?}"
    );

    // The billing portal is a Stripe session for the account's customer.
    let portal = platform
        .cp(
            Method::POST,
            &format!("/v1/accounts/{account}/billing-portal"),
            &owner.token,
            None,
        )
        .await;
    portal.assert_ok(200);
    assert!(portal.str("url").starts_with("https://billing.stripe.com/"));
    let portal_call = recorded
        .lock()
        .expect("lock")
        .iter()
        .find(|r| r.0 == "/v1/billing_portal/sessions")
        .cloned()
        .expect("portal call");
    assert_eq!(portal_call.1["customer"], customer);
    assert_eq!(
        portal_call.1["return_url"],
        "https://dashboard.authstack.test/billing"
    );

    // The subscription ends: canceled, instances suspended, data deleted after retention.
    platform.clock.advance(10);
    let deleted = event(
        "evt_deleted",
        "customer.subscription.deleted",
        platform.clock.now(),
        subscription_object(
            &account,
            &customer,
            "canceled",
            "price_authstack_pro_monthly",
            now + 60 * 86400,
            false,
        ),
    );
    platform
        .deliver(&deleted, SECRET, platform.clock.now())
        .await
        .assert_ok(200);
    platform.wait_for_status(&owner, "canceled").await;
    platform.wait_for_instances(&owner, "suspended").await;
    platform
        .clock
        .advance(platform.config.data_retention.as_secs() as i64 + 1);
    platform.wait_for_status(&owner, "deleted").await;

    let audit = platform
        .cp(
            Method::GET,
            &format!("/v1/accounts/{account}/audit-logs?limit=200"),
            &owner.token,
            None,
        )
        .await;
    let text = audit.body.to_string();
    for action in [
        "billing.checkout_started",
        "billing.stripe.checkout.session.completed",
        "billing.stripe.invoice.payment_failed",
        "subscription.suspended",
        "billing.stripe.customer.subscription.deleted",
        "subscription.data_deleted",
    ] {
        assert!(text.contains(action), "{action} missing from {text}");
    }
}

/// localstripe from `AUTHSTACK_TEST_LOCALSTRIPE_URL` (started by scripts/test); skipped
/// without it, except under CI=true.
fn localstripe() -> Option<String> {
    match std::env::var("AUTHSTACK_TEST_LOCALSTRIPE_URL") {
        Ok(url) if !url.is_empty() => Some(url.trim_end_matches('/').to_owned()),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "CI=true but AUTHSTACK_TEST_LOCALSTRIPE_URL is not set: run scripts/localstripe start"
            )
        }
        _ => {
            eprintln!("skipped: set AUTHSTACK_TEST_LOCALSTRIPE_URL (scripts/localstripe start)");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn localstripe_webhooks_activate_and_end_a_subscription() {
    let Some(localstripe) = localstripe() else {
        return;
    };
    crate::helpers::install_tls_provider();
    let (platform, _recorded) = stripe_platform(Some(localstripe.clone())).await;
    let owner = platform.owner("localstripe@acme.test").await;
    let account = owner.account_id.clone();
    let http = reqwest::Client::new();
    let stripe = |method: Method, path: &str| {
        http.request(method, format!("{localstripe}{path}"))
            .bearer_auth("sk_test_authstack")
    };

    // localstripe delivers every event, genuinely signed, to our endpoint.
    let hook = format!("authstack_{}", uuid::Uuid::new_v4().simple());
    let registered = stripe(Method::POST, &format!("/_config/webhooks/{hook}"))
        .form(&[
            ("url", format!("{}/v1/billing/stripe/webhook", platform.cp)),
            ("secret", SECRET.to_owned()),
            ("events[]", "customer.subscription.created".to_owned()),
            ("events[]", "customer.subscription.deleted".to_owned()),
            ("events[]", "invoice.payment_succeeded".to_owned()),
        ])
        .send()
        .await
        .expect("register webhook");
    assert!(
        registered.status().is_success(),
        "{}",
        registered.text().await.unwrap_or_default()
    );

    // Checkout: the customer is created in localstripe, the session by the recording server.
    platform
        .cp(
            Method::POST,
            &format!("/v1/accounts/{account}/subscription"),
            &owner.token,
            Some(json!({ "plan": "starter", "region": "local" })),
        )
        .await
        .assert_ok(200);
    let customer: String =
        sqlx::query_scalar("SELECT stripe_customer_id FROM accounts WHERE id = $1")
            .bind(&account)
            .fetch_one(&platform.app().db.pool)
            .await
            .expect("customer stored");

    // Paying in Checkout creates the subscription; here we create it in localstripe directly.
    let _ = stripe(Method::POST, "/v1/plans")
        .form(&[
            ("id", "price_authstack_starter_monthly"),
            ("amount", "2500"),
            ("currency", "usd"),
            ("interval", "month"),
            ("product[name]", "AuthStack Starter"),
        ])
        .send()
        .await
        .expect("plan");
    let card = stripe(Method::POST, "/v1/payment_methods")
        .form(&[
            ("type", "card"),
            ("card[number]", "4242424242424242"),
            ("card[exp_month]", "12"),
            ("card[exp_year]", "2030"),
            ("card[cvc]", "123"),
        ])
        .send()
        .await
        .expect("card")
        .json::<Value>()
        .await
        .expect("json");
    let card_id = card["id"].as_str().expect("payment method id").to_owned();
    stripe(
        Method::POST,
        &format!("/v1/payment_methods/{card_id}/attach"),
    )
    .form(&[("customer", customer.as_str())])
    .send()
    .await
    .expect("attach");
    stripe(Method::POST, &format!("/v1/customers/{customer}"))
        .form(&[("invoice_settings[default_payment_method]", card_id.as_str())])
        .send()
        .await
        .expect("default card");
    let subscription = stripe(Method::POST, "/v1/subscriptions")
        .form(&[
            ("customer", customer.as_str()),
            ("items[0][plan]", "price_authstack_starter_monthly"),
            ("metadata[account_id]", account.as_str()),
        ])
        .send()
        .await
        .expect("subscription")
        .json::<Value>()
        .await
        .expect("json");
    assert_eq!(subscription["status"], "active", "{subscription}");

    platform.wait_for_status(&owner, "active").await;
    platform.wait_for_instances(&owner, "ready").await;

    // Cancelling in Stripe ends it here.
    let sub_id = subscription["id"].as_str().expect("id");
    stripe(Method::DELETE, &format!("/v1/subscriptions/{sub_id}"))
        .send()
        .await
        .expect("cancel");
    platform.wait_for_status(&owner, "canceled").await;
    platform.wait_for_instances(&owner, "suspended").await;
    // localstripe cannot delete a webhook: silence ours so later events go nowhere.
    let _ = stripe(Method::POST, &format!("/_config/webhooks/{hook}"))
        .json(&json!({ "url": format!("{}/v1/billing/stripe/webhook", platform.cp), "secret": SECRET, "events": [] }))
        .send()
        .await;
}
