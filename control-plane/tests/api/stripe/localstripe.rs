//! localstripe: real API calls and genuinely signed webhook deliveries, when
//! `AUTHSTACK_TEST_LOCALSTRIPE_URL` is set. Each test is its own run: its own customer, its own
//! webhook secret and receiver, silenced at the end.
//!
//! - `localstripe_stores_the_customer_our_client_creates`
//! - `localstripe_deliveries_are_signed_with_the_webhooks_secret`
//! - `localstripe_subscription_created_parses_with_our_metadata`
//! - `localstripe_invoice_and_deletion_events_parse`
//! - `localstripe_refuses_a_bad_key_as_a_bad_gateway`

use std::collections::HashMap;
use std::time::Duration;

use authstack_control_plane::billing::stripe::StripeClient;
use authstack_control_plane::billing::stripe::events::{self, EventKind, SubscriptionStatus};
use authstack_control_plane::billing::stripe::signature::{self, SignatureError};
use authstack_control_plane::error::Error;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::{Value, json};

use super::{TOLERANCE, config, secrets, unix_now};

/// The events each run's webhook asks for.
const WANTED: [&str; 4] = [
    "customer.created",
    "customer.subscription.created",
    "invoice.payment_succeeded",
    "customer.subscription.deleted",
];

/// A delivery as received: the `Stripe-Signature` header and the raw body.
type Delivery = (String, Bytes);

async fn receive(
    State(deliveries): State<tokio::sync::mpsc::UnboundedSender<Delivery>>,
    headers: HeaderMap,
    body: Bytes,
) {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let _ = deliveries.send((signature, body));
}

fn id(object: &Value) -> String {
    object["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {object}"))
        .to_owned()
}

/// One test's run against localstripe: an account id, a webhook secret and a receiver.
struct Run {
    url: String,
    http: reqwest::Client,
    account_id: String,
    secret: String,
    webhook: String,
    receiver_url: String,
    deliveries: tokio::sync::mpsc::UnboundedReceiver<Delivery>,
}

/// What a run bought: a customer subscribed to a plan (subscription since deleted), and the
/// deliveries about that customer by event type.
struct Purchase {
    customer: String,
    plan_id: String,
    subscription: String,
    deliveries: HashMap<String, Delivery>,
}

impl Run {
    const KEY: &str = "sk_test_authstack";

    /// Starts a run's receiver and registers its webhook; `None` without localstripe.
    async fn start() -> Option<Run> {
        let url = crate::helpers::localstripe_url()?;
        // reqwest is built without a TLS provider; the control plane installs one at start.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let run = uuid::Uuid::now_v7().simple().to_string();
        // localstripe delivers every event to every webhook registered with it, so deliveries
        // are picked by this run's customer.
        let (sender, deliveries) = tokio::sync::mpsc::unbounded_channel();
        let receiver = Router::new()
            .route("/stripe", axum::routing::post(receive))
            .with_state(sender);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let address = listener.local_addr().expect("an address");
        tokio::spawn(async move { axum::serve(listener, receiver).await.expect("the receiver") });
        let run = Run {
            url,
            http: reqwest::Client::new(),
            account_id: format!("acc_{run}"),
            secret: format!("whsec_{run}"),
            webhook: format!("/_config/webhooks/authstack-{run}"),
            receiver_url: format!("http://{address}/stripe"),
            deliveries,
        };
        let mut form = vec![
            ("url", run.receiver_url.as_str()),
            ("secret", run.secret.as_str()),
        ];
        form.extend(WANTED.iter().map(|event| ("events[]", *event)));
        let webhook = format!("{}{}", run.url, run.webhook);
        let response = run.http.post(webhook).form(&form).send().await;
        let status = response.expect("localstripe answers").status();
        assert!(status.is_success(), "{status}");
        Some(run)
    }

    /// localstripe cannot forget a webhook; an empty event list silences this run's.
    async fn finish(self) {
        let body = json!({ "url": self.receiver_url, "secret": self.secret, "events": [] });
        let webhook = format!("{}{}", self.url, self.webhook);
        let response = self.http.post(webhook).json(&body).send().await;
        let status = response.expect("localstripe answers").status();
        assert!(status.is_success(), "{status}");
    }

    fn client(&self) -> StripeClient {
        StripeClient::new(&config(&self.url, Self::KEY)).expect("a client")
    }

    /// Calls localstripe's own API (what a Stripe dashboard or Checkout would do).
    async fn call(&self, method: reqwest::Method, path: &str, form: &[(&str, &str)]) -> Value {
        let request = self
            .http
            .request(method.clone(), format!("{}{path}", self.url));
        let response = request
            .bearer_auth(Self::KEY)
            .form(form)
            .send()
            .await
            .expect("localstripe answers");
        let status = response.status();
        let body: Value = response.json().await.expect("JSON");
        assert!(status.is_success(), "{method} {path}: {status} {body}");
        body
    }

    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Value {
        self.call(reqwest::Method::POST, path, form).await
    }

    /// Our client creates a customer; then what Checkout would do: a price (a plan in 2017), a
    /// card, a subscription with our metadata; then the subscription is deleted. Waits for the
    /// four deliveries about the customer.
    async fn purchase(&mut self) -> Purchase {
        let customer = self
            .client()
            .create_customer(&self.account_id, "Acme Inc.", Some("billing@acme.example"))
            .await
            .expect("a customer");
        let product = id(&self
            .post("/v1/products", &[("name", "AuthStack Pro")])
            .await);
        let plan_id = format!("price_authstack_pro_{}", &self.secret["whsec_".len()..]);
        let plan = [
            ("id", plan_id.as_str()),
            ("product", &product),
            ("amount", "4900"),
            ("currency", "usd"),
            ("interval", "month"),
        ];
        self.post("/v1/plans", &plan).await;
        let card = [
            ("type", "card"),
            ("card[number]", "4242424242424242"),
            ("card[exp_month]", "12"),
            ("card[exp_year]", "2034"),
            ("card[cvc]", "123"),
        ];
        let card = id(&self.post("/v1/payment_methods", &card).await);
        let attach = format!("/v1/payment_methods/{card}/attach");
        self.post(&attach, &[("customer", &customer)]).await;
        let default_card = [("invoice_settings[default_payment_method]", card.as_str())];
        self.post(&format!("/v1/customers/{customer}"), &default_card)
            .await;
        let subscription = [
            ("customer", customer.as_str()),
            ("items[0][plan]", &plan_id),
            ("metadata[account_id]", &self.account_id),
            ("metadata[plan]", "pro"),
            ("metadata[region]", "eu-central-1"),
        ];
        let subscription = self.post("/v1/subscriptions", &subscription).await;
        assert_eq!(subscription["status"], "active", "{subscription}");
        let subscription = id(&subscription);
        let path = format!("/v1/subscriptions/{subscription}");
        self.call(reqwest::Method::DELETE, &path, &[]).await;

        let mut deliveries = HashMap::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while deliveries.len() < WANTED.len() {
            let (header, body) = tokio::time::timeout_at(deadline, self.deliveries.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!("deliveries missing after 30 s: {:?}", deliveries.keys())
                })
                .expect("the receiver runs");
            let json: Value = serde_json::from_slice(&body).expect("JSON");
            let object = &json["data"]["object"];
            if object["customer"] != customer.as_str() && object["id"] != customer.as_str() {
                continue; // another test's event
            }
            let kind = json["type"].as_str().expect("a type").to_owned();
            deliveries.insert(kind, (header, body));
        }
        Purchase {
            customer,
            plan_id,
            subscription,
            deliveries,
        }
    }
}

impl Purchase {
    /// The delivery of event type `kind`, parsed.
    fn event(&self, kind: &str) -> events::Event {
        let (_, body) = &self.deliveries[kind];
        events::parse(body).unwrap_or_else(|err| panic!("{err}: {kind}"))
    }
}

#[tokio::test]
async fn localstripe_stores_the_customer_our_client_creates() {
    let Some(run) = Run::start().await else {
        return;
    };
    let customer = run
        .client()
        .create_customer(&run.account_id, "Acme Inc.", Some("billing@acme.example"))
        .await
        .expect("a customer");
    assert!(customer.starts_with("cus_"), "{customer}");
    let path = format!("/v1/customers/{customer}");
    let stored = run.call(reqwest::Method::GET, &path, &[]).await;
    assert_eq!(stored["name"], "Acme Inc.");
    assert_eq!(stored["email"], "billing@acme.example");
    assert_eq!(stored["metadata"]["account_id"], run.account_id.as_str());
    run.finish().await;
}

#[tokio::test]
async fn localstripe_deliveries_are_signed_with_the_webhooks_secret() {
    let Some(mut run) = Run::start().await else {
        return;
    };
    let purchase = run.purchase().await;
    for (header, body) in purchase.deliveries.values() {
        let rotated = secrets(&["whsec_rotated_out", &run.secret]);
        let verified = signature::verify(header, body, &rotated, unix_now(), TOLERANCE);
        assert_eq!(verified, Ok(()), "{header}");
        let foreign = secrets(&["whsec_someone_else"]);
        let verified = signature::verify(header, body, &foreign, unix_now(), TOLERANCE);
        assert_eq!(verified, Err(SignatureError::Mismatch));
    }
    run.finish().await;
}

#[tokio::test]
async fn localstripe_subscription_created_parses_with_our_metadata() {
    let Some(mut run) = Run::start().await else {
        return;
    };
    let purchase = run.purchase().await;
    match purchase.event("customer.subscription.created").kind {
        EventKind::SubscriptionChanged {
            subscription_id,
            customer,
            status,
            price_id,
            current_period_end,
            cancel_at_period_end,
            account_id,
            deleted,
        } => {
            assert_eq!(subscription_id, purchase.subscription);
            assert_eq!(customer.as_deref(), Some(purchase.customer.as_str()));
            assert_eq!(status, SubscriptionStatus::Active);
            assert_eq!(price_id.as_deref(), Some(purchase.plan_id.as_str()));
            assert!(
                current_period_end.is_some_and(|end| end > unix_now() + 27 * 86_400),
                "{current_period_end:?}"
            );
            assert!(!cancel_at_period_end);
            assert_eq!(account_id.as_deref(), Some(run.account_id.as_str()));
            assert!(!deleted);
        }
        other => panic!("{other:?}"),
    }
    run.finish().await;
}

#[tokio::test]
async fn localstripe_invoice_and_deletion_events_parse() {
    let Some(mut run) = Run::start().await else {
        return;
    };
    let purchase = run.purchase().await;
    assert_eq!(
        purchase.event("customer.created").kind,
        EventKind::Other("customer.created".into())
    );
    match purchase.event("invoice.payment_succeeded").kind {
        EventKind::InvoicePaid {
            invoice_id,
            subscription,
            customer,
            period_end,
        } => {
            assert!(invoice_id.starts_with("in_"), "{invoice_id}");
            assert_eq!(
                subscription.as_deref(),
                Some(purchase.subscription.as_str())
            );
            assert_eq!(customer.as_deref(), Some(purchase.customer.as_str()));
            assert!(
                period_end.is_some_and(|end| end > unix_now() + 27 * 86_400),
                "{period_end:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let deleted = purchase.event("customer.subscription.deleted");
    assert!(
        matches!(
            &deleted.kind,
            EventKind::SubscriptionChanged { subscription_id, status: SubscriptionStatus::Canceled, deleted: true, .. }
                if *subscription_id == purchase.subscription
        ),
        "{deleted:?}"
    );
    run.finish().await;
}

/// localstripe's errors are Stripe's shape: a refused key is a bad gateway with its message.
#[tokio::test]
async fn localstripe_refuses_a_bad_key_as_a_bad_gateway() {
    let Some(run) = Run::start().await else {
        return;
    };
    let refused = StripeClient::new(&config(&run.url, "not_a_secret_key")).expect("a client");
    match refused
        .create_customer(&run.account_id, "Acme Inc.", None)
        .await
    {
        Err(Error::BadGateway(message)) => assert!(message.contains("Unauthorized"), "{message}"),
        other => panic!("{other:?}"),
    }
    run.finish().await;
}
