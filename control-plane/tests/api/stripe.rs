//! Stripe: the API client against a recording server (localstripe has no Checkout or portal),
//! and the whole loop against localstripe when `AUTHSTACK_TEST_LOCALSTRIPE_URL` is set
//! (`scripts/localstripe start`). Webhook signatures and events are unit tests next to their
//! code (`billing/stripe/signature.rs`, `billing/stripe/events/tests.rs`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authstack_control_plane::billing::stripe::events::{self, EventKind, SubscriptionStatus};
use authstack_control_plane::billing::stripe::signature::{self, SignatureError};
use authstack_control_plane::billing::stripe::{CheckoutRequest, STRIPE_VERSION, StripeClient};
use authstack_control_plane::config::StripeConfig;
use authstack_control_plane::error::Error;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use secrecy::SecretString;
use serde_json::{Value, json};

const ACCOUNT: &str = "acc_01936b2e8f4a7c1d9e2b3a4c5d6e7f80";

const TOLERANCE: Duration = Duration::from_secs(300);

fn secrets(values: &[&str]) -> Vec<SecretString> {
    values.iter().map(|s| SecretString::from(*s)).collect()
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64
}

// ---------------------------------------------------------------------------------------------
// The client, against a server that records what it is sent and answers like Stripe

#[derive(Debug, Clone)]
struct Recorded {
    method: Method,
    path: String,
    headers: HeaderMap,
    form: Vec<(String, String)>,
}

#[derive(Clone, Default)]
struct Recorder {
    requests: Arc<Mutex<Vec<Recorded>>>,
    /// Answer every request with this Stripe error instead.
    error: Option<(StatusCode, Value)>,
}

impl Recorder {
    fn take(&self) -> Vec<Recorded> {
        std::mem::take(&mut *self.requests.lock().expect("the lock"))
    }
}

async fn record(
    State(recorder): State<Recorder>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<Vec<(String, String)>>,
) -> (StatusCode, axum::Json<Value>) {
    let path = uri.path().to_owned();
    // Compared as sets: the order of form fields carries no meaning to Stripe.
    let mut form = form;
    form.sort();
    recorder.requests.lock().expect("the lock").push(Recorded {
        method,
        path: path.clone(),
        headers,
        form,
    });
    if let Some((status, body)) = recorder.error {
        return (status, axum::Json(body));
    }
    let body = match path.as_str() {
        "/v1/customers" => json!({ "id": "cus_S3kQ9vXw2LmN7p", "object": "customer" }),
        "/v1/checkout/sessions" => json!({
            "id": "cs_test_a1pQ3rStUvWx4yZ5", "object": "checkout.session",
            "url": "https://checkout.stripe.com/c/pay/cs_test_a1pQ3rStUvWx4yZ5#fidkdWxOYHwnPyd1blpxYHZxWjA0"
        }),
        "/v1/billing_portal/sessions" => json!({
            "id": "bps_1RAb3gD5Gf3hT2aBqRsTuVwX", "object": "billing_portal.session",
            "url": "https://billing.stripe.com/p/session/test_YWNjdF8xUXpYeUQ1R2YzaFQyYUIsU3RyaXBl"
        }),
        _ => {
            return (
                StatusCode::NOT_FOUND,
                axum::Json(
                    json!({ "error": { "message": "Unrecognized request URL", "type": "invalid_request_error" } }),
                ),
            );
        }
    };
    (StatusCode::OK, axum::Json(body))
}

/// Starts the recorder on 127.0.0.1; returns its base URL.
async fn serve_recorder(recorder: Recorder) -> String {
    let app = Router::new().fallback(record).with_state(recorder);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("the recorder") });
    format!("http://{addr}")
}

fn config(api_base: &str, api_key: &str) -> StripeConfig {
    StripeConfig {
        api_key: SecretString::from(api_key),
        api_base: api_base.to_owned(),
        webhook_secrets: secrets(&["whsec_test"]),
        webhook_tolerance: TOLERANCE,
        return_url: "https://dashboard.authstack.example/billing".into(),
    }
}

fn header<'a>(request: &'a Recorded, name: &str) -> &'a str {
    request
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .expect("ASCII")
}

/// The fields of a form, sorted like [`Recorded::form`].
fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = expected
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    pairs.sort();
    pairs
}

fn assert_stripe_headers(request: &Recorded, api_key: &str) {
    assert_eq!(request.method, Method::POST);
    assert_eq!(
        header(request, "authorization"),
        format!("Bearer {api_key}")
    );
    assert_eq!(
        header(request, "content-type"),
        "application/x-www-form-urlencoded"
    );
    assert_eq!(header(request, "stripe-version"), STRIPE_VERSION);
    assert!(!header(request, "idempotency-key").is_empty());
}

#[tokio::test]
async fn client_checkout_session_form() {
    let recorder = Recorder::default();
    // No trailing slash: the client adds it.
    let base = serve_recorder(recorder.clone()).await;
    let client = StripeClient::new(&config(&base, "sk_test_recorder")).expect("a client");
    let request = CheckoutRequest {
        customer: "cus_S3kQ9vXw2LmN7p".into(),
        price_id: "price_authstack_pro_monthly".into(),
        account_id: ACCOUNT.into(),
        plan: "pro".into(),
        region: "eu-central-1".into(),
        success_url: "https://dashboard.authstack.example/billing?checkout=success".into(),
        cancel_url: "https://dashboard.authstack.example/billing?checkout=cancelled".into(),
        idempotency_key: Some("checkout_0193a1b2c3d4e5f6".into()),
    };
    let session = client
        .create_checkout_session(&request)
        .await
        .expect("a session");
    assert_eq!(session.id, "cs_test_a1pQ3rStUvWx4yZ5");
    assert_eq!(
        session.url,
        "https://checkout.stripe.com/c/pay/cs_test_a1pQ3rStUvWx4yZ5#fidkdWxOYHwnPyd1blpxYHZxWjA0"
    );
    let requests = recorder.take();
    assert_eq!(requests.len(), 1);
    let sent = &requests[0];
    assert_eq!(sent.path, "/v1/checkout/sessions");
    assert_stripe_headers(sent, "sk_test_recorder");
    assert_eq!(header(sent, "idempotency-key"), "checkout_0193a1b2c3d4e5f6");
    assert_eq!(
        sent.form,
        pairs(&[
            ("mode", "subscription"),
            ("customer", "cus_S3kQ9vXw2LmN7p"),
            ("client_reference_id", ACCOUNT),
            ("line_items[0][price]", "price_authstack_pro_monthly"),
            ("line_items[0][quantity]", "1"),
            (
                "success_url",
                "https://dashboard.authstack.example/billing?checkout=success"
            ),
            (
                "cancel_url",
                "https://dashboard.authstack.example/billing?checkout=cancelled"
            ),
            ("metadata[account_id]", ACCOUNT),
            ("metadata[plan]", "pro"),
            ("metadata[region]", "eu-central-1"),
            ("subscription_data[metadata][account_id]", ACCOUNT),
            ("subscription_data[metadata][plan]", "pro"),
            ("subscription_data[metadata][region]", "eu-central-1"),
        ])
    );

    // Without a key, one is derived from the request: the same request gets the same key.
    let derived = CheckoutRequest {
        idempotency_key: None,
        ..request.clone()
    };
    client
        .create_checkout_session(&derived)
        .await
        .expect("a session");
    client
        .create_checkout_session(&derived)
        .await
        .expect("a session");
    client
        .create_checkout_session(&CheckoutRequest {
            plan: "starter".into(),
            ..derived
        })
        .await
        .expect("a session");
    let keys: Vec<String> = recorder
        .take()
        .iter()
        .map(|r| header(r, "idempotency-key").to_owned())
        .collect();
    assert_eq!(keys[0], keys[1]);
    assert_ne!(keys[0], keys[2]);
    assert_ne!(keys[0], "checkout_0193a1b2c3d4e5f6");
}

#[tokio::test]
async fn client_customer_and_portal_forms() {
    let recorder = Recorder::default();
    let base = serve_recorder(recorder.clone()).await;
    let client =
        StripeClient::new(&config(&format!("{base}/"), "sk_test_recorder")).expect("a client");

    let customer = client
        .create_customer(ACCOUNT, "Acme Inc.", Some("billing+stripe@acme.example"))
        .await
        .expect("a customer");
    assert_eq!(customer, "cus_S3kQ9vXw2LmN7p");
    client
        .create_customer(ACCOUNT, "Acme Inc.", None)
        .await
        .expect("a customer");
    let url = client
        .create_portal_session(
            "cus_S3kQ9vXw2LmN7p",
            "https://dashboard.authstack.example/billing",
        )
        .await
        .expect("a portal session");
    assert_eq!(
        url,
        "https://billing.stripe.com/p/session/test_YWNjdF8xUXpYeUQ1R2YzaFQyYUIsU3RyaXBl"
    );
    client
        .create_portal_session(
            "cus_S3kQ9vXw2LmN7p",
            "https://dashboard.authstack.example/billing",
        )
        .await
        .expect("a portal session");

    let requests = recorder.take();
    assert_eq!(requests.len(), 4);
    for request in &requests {
        assert_stripe_headers(request, "sk_test_recorder");
    }
    assert_eq!(requests[0].path, "/v1/customers");
    // `+` and `@` survive the form encoding.
    assert_eq!(
        requests[0].form,
        pairs(&[
            ("name", "Acme Inc."),
            ("email", "billing+stripe@acme.example"),
            ("metadata[account_id]", ACCOUNT),
        ])
    );
    assert_eq!(
        requests[1].form,
        pairs(&[("name", "Acme Inc."), ("metadata[account_id]", ACCOUNT)])
    );
    assert_ne!(
        header(&requests[0], "idempotency-key"),
        header(&requests[1], "idempotency-key")
    );
    assert_eq!(requests[2].path, "/v1/billing_portal/sessions");
    assert_eq!(
        requests[2].form,
        pairs(&[
            ("customer", "cus_S3kQ9vXw2LmN7p"),
            ("return_url", "https://dashboard.authstack.example/billing"),
        ])
    );
    // Portal sessions expire within minutes: each gets a fresh key, never a replay.
    assert_ne!(
        header(&requests[2], "idempotency-key"),
        header(&requests[3], "idempotency-key")
    );
}

#[tokio::test]
async fn client_stripe_error_is_bad_gateway() {
    let recorder = Recorder {
        error: Some((
            StatusCode::BAD_REQUEST,
            json!({ "error": {
                "code": "resource_missing",
                "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
                "message": "No such price: 'price_authstack_pro_monthly'",
                "param": "line_items[0][price]",
                "request_log_url": "https://dashboard.stripe.com/test/logs/req_Pq7RsT2uVw3XyZ?t=1745000000",
                "type": "invalid_request_error"
            } }),
        )),
        ..Recorder::default()
    };
    let base = serve_recorder(recorder.clone()).await;
    let client = StripeClient::new(&config(&base, "sk_test_recorder")).expect("a client");
    let err = client
        .create_portal_session(
            "cus_S3kQ9vXw2LmN7p",
            "https://dashboard.authstack.example/billing",
        )
        .await
        .expect_err("Stripe refused");
    match &err {
        Error::BadGateway(message) => assert!(
            message.contains("No such price: 'price_authstack_pro_monthly'"),
            "{message}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(err.status(), StatusCode::BAD_GATEWAY);
    assert!(!err.to_string().contains("sk_test"), "{err}");

    // Nothing listening: also a bad gateway, not an internal error.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        listener.local_addr().expect("an address")
    };
    let client = StripeClient::new(&config(&format!("http://{closed}"), "sk_test_recorder"))
        .expect("a client");
    let err = client
        .create_customer(ACCOUNT, "Acme Inc.", None)
        .await
        .expect_err("unreachable");
    assert!(matches!(err, Error::BadGateway(_)), "{err:?}");
}

#[test]
fn client_debug_hides_the_key() {
    let client = StripeClient::new(&config("https://api.stripe.com", "sk_live_51SecretValue"))
        .expect("a client");
    let debug = format!("{client:?}");
    assert!(debug.contains("https://api.stripe.com/"), "{debug}");
    assert!(!debug.contains("sk_live_51SecretValue"), "{debug}");
    assert!(StripeClient::new(&config("not a url", "sk_test_x")).is_err());
}

// ---------------------------------------------------------------------------------------------
// localstripe: real API calls and genuinely signed webhook deliveries

/// localstripe's URL, or `None` (skip) outside CI; under `CI=true` it must be there.
fn localstripe_url() -> Option<String> {
    match std::env::var("AUTHSTACK_TEST_LOCALSTRIPE_URL") {
        Ok(url) if !url.is_empty() => Some(url.trim_end_matches('/').to_owned()),
        _ if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
            panic!(
                "CI=true but AUTHSTACK_TEST_LOCALSTRIPE_URL is unset: run `scripts/localstripe start` first"
            )
        }
        _ => {
            eprintln!(
                "skipped: set AUTHSTACK_TEST_LOCALSTRIPE_URL (eval \"$(scripts/localstripe start)\")"
            );
            None
        }
    }
}

struct Localstripe {
    url: String,
    http: reqwest::Client,
}

impl Localstripe {
    const KEY: &str = "sk_test_authstack";

    /// POSTs a form to localstripe's own API (what a Stripe dashboard or Checkout would do).
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let response = self
            .http
            .post(format!("{}{path}", self.url))
            .bearer_auth(Self::KEY)
            .form(form)
            .send()
            .await
            .expect("localstripe answers");
        let status = response.status();
        let body: Value = response.json().await.expect("JSON");
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}{path}", self.url))
            .bearer_auth(Self::KEY)
            .send()
            .await
            .expect("localstripe answers");
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.expect("JSON")
    }

    async fn delete(&self, path: &str) -> Value {
        let response = self
            .http
            .delete(format!("{}{path}", self.url))
            .bearer_auth(Self::KEY)
            .send()
            .await
            .expect("localstripe answers");
        assert!(
            response.status().is_success(),
            "DELETE {path}: {}",
            response.status()
        );
        response.json().await.expect("JSON")
    }
}

fn id(object: &Value) -> String {
    object["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {object}"))
        .to_owned()
}

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

#[tokio::test]
async fn localstripe_customer_subscription_and_signed_webhooks() {
    let Some(url) = localstripe_url() else {
        return;
    };
    // reqwest is built without a TLS provider; the control plane installs one at start.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let stripe = Localstripe {
        url,
        http: reqwest::Client::new(),
    };
    let run = uuid::Uuid::now_v7().simple().to_string();
    let account_id = format!("acc_{run}");
    let secret = format!("whsec_{run}");

    // A receiver for this run's webhook; localstripe delivers every event to every webhook
    // registered with it, so deliveries are picked by this run's customer below.
    let (sender, mut deliveries) = tokio::sync::mpsc::unbounded_channel();
    let receiver = Router::new()
        .route("/stripe", axum::routing::post(receive))
        .with_state(sender);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let receiver_url = format!(
        "http://{}/stripe",
        listener.local_addr().expect("an address")
    );
    tokio::spawn(async move { axum::serve(listener, receiver).await.expect("the receiver") });
    let webhook = format!("/_config/webhooks/authstack-{run}");
    let wanted = [
        "customer.created",
        "customer.subscription.created",
        "invoice.payment_succeeded",
        "customer.subscription.deleted",
    ];
    let mut form = vec![("url", receiver_url.as_str()), ("secret", secret.as_str())];
    form.extend(wanted.iter().map(|event| ("events[]", *event)));
    let response = stripe
        .http
        .post(format!("{}{webhook}", stripe.url))
        .form(&form)
        .send()
        .await
        .expect("localstripe answers");
    assert!(response.status().is_success(), "{}", response.status());

    // Our client creates the customer.
    let client = StripeClient::new(&config(&stripe.url, Localstripe::KEY)).expect("a client");
    let customer = client
        .create_customer(&account_id, "Acme Inc.", Some("billing@acme.example"))
        .await
        .expect("a customer");
    assert!(customer.starts_with("cus_"), "{customer}");
    let stored = stripe.get(&format!("/v1/customers/{customer}")).await;
    assert_eq!(stored["name"], "Acme Inc.");
    assert_eq!(stored["email"], "billing@acme.example");
    assert_eq!(stored["metadata"]["account_id"], account_id.as_str());

    // What Checkout would do: a price (a plan in 2017), a card, a subscription with our metadata.
    let product = id(&stripe
        .post("/v1/products", &[("name", "AuthStack Pro")])
        .await);
    let plan_id = format!("price_authstack_pro_{run}");
    stripe
        .post(
            "/v1/plans",
            &[
                ("id", &plan_id),
                ("product", &product),
                ("amount", "4900"),
                ("currency", "usd"),
                ("interval", "month"),
            ],
        )
        .await;
    let card = id(&stripe
        .post(
            "/v1/payment_methods",
            &[
                ("type", "card"),
                ("card[number]", "4242424242424242"),
                ("card[exp_month]", "12"),
                ("card[exp_year]", "2034"),
                ("card[cvc]", "123"),
            ],
        )
        .await);
    stripe
        .post(
            &format!("/v1/payment_methods/{card}/attach"),
            &[("customer", &customer)],
        )
        .await;
    stripe
        .post(
            &format!("/v1/customers/{customer}"),
            &[("invoice_settings[default_payment_method]", &card)],
        )
        .await;
    let subscription = stripe
        .post(
            "/v1/subscriptions",
            &[
                ("customer", &customer),
                ("items[0][plan]", &plan_id),
                ("metadata[account_id]", &account_id),
                ("metadata[plan]", "pro"),
                ("metadata[region]", "eu-central-1"),
            ],
        )
        .await;
    assert_eq!(subscription["status"], "active", "{subscription}");
    let subscription = id(&subscription);
    stripe
        .delete(&format!("/v1/subscriptions/{subscription}"))
        .await;

    // Every delivery of this run is genuinely signed, with this run's secret.
    let mut received: HashMap<String, events::Event> = HashMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while received.len() < wanted.len() {
        let (header, body) = tokio::time::timeout_at(deadline, deliveries.recv())
            .await
            .unwrap_or_else(|_| panic!("deliveries missing after 30 s; got {:?}", received.keys()))
            .expect("the receiver runs");
        let json: Value = serde_json::from_slice(&body).expect("JSON");
        let object = &json["data"]["object"];
        if object["customer"] != customer.as_str() && object["id"] != customer.as_str() {
            continue; // another test's event
        }
        assert_eq!(
            signature::verify(
                &header,
                &body,
                &secrets(&["whsec_rotated_out", &secret]),
                unix_now(),
                TOLERANCE
            ),
            Ok(()),
            "{header}"
        );
        assert_eq!(
            signature::verify(
                &header,
                &body,
                &secrets(&["whsec_someone_else"]),
                unix_now(),
                TOLERANCE
            ),
            Err(SignatureError::Mismatch)
        );
        let event = events::parse(&body).unwrap_or_else(|err| panic!("{err}: {json}"));
        received.insert(json["type"].as_str().expect("a type").to_owned(), event);
    }

    assert_eq!(
        received["customer.created"].kind,
        EventKind::Other("customer.created".into())
    );
    match &received["customer.subscription.created"].kind {
        EventKind::SubscriptionChanged {
            subscription_id,
            customer: event_customer,
            status,
            price_id,
            current_period_end,
            cancel_at_period_end,
            account_id: event_account,
            deleted,
        } => {
            assert_eq!(subscription_id, &subscription);
            assert_eq!(event_customer.as_deref(), Some(customer.as_str()));
            assert_eq!(status, &SubscriptionStatus::Active);
            assert_eq!(price_id.as_deref(), Some(plan_id.as_str()));
            assert!(
                current_period_end.is_some_and(|end| end > unix_now() + 27 * 86_400),
                "{current_period_end:?}"
            );
            assert!(!cancel_at_period_end);
            assert_eq!(event_account.as_deref(), Some(account_id.as_str()));
            assert!(!deleted);
        }
        other => panic!("{other:?}"),
    }
    match &received["invoice.payment_succeeded"].kind {
        EventKind::InvoicePaid {
            invoice_id,
            subscription: paid,
            customer: event_customer,
            period_end,
        } => {
            assert!(invoice_id.starts_with("in_"), "{invoice_id}");
            assert_eq!(paid.as_deref(), Some(subscription.as_str()));
            assert_eq!(event_customer.as_deref(), Some(customer.as_str()));
            assert!(
                period_end.is_some_and(|end| end > unix_now() + 27 * 86_400),
                "{period_end:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(
            &received["customer.subscription.deleted"].kind,
            EventKind::SubscriptionChanged { subscription_id, status: SubscriptionStatus::Canceled, deleted: true, .. }
                if *subscription_id == subscription
        ),
        "{:?}",
        received["customer.subscription.deleted"]
    );

    // localstripe's errors are Stripe's shape: a refused key is a bad gateway with its message.
    let refused = StripeClient::new(&config(&stripe.url, "not_a_secret_key")).expect("a client");
    match refused
        .create_customer(&account_id, "Acme Inc.", None)
        .await
    {
        Err(Error::BadGateway(message)) => assert!(message.contains("Unauthorized"), "{message}"),
        other => panic!("{other:?}"),
    }

    // localstripe cannot forget a webhook; an empty event list silences this run's.
    let response = stripe
        .http
        .post(format!("{}{webhook}", stripe.url))
        .json(&json!({ "url": receiver_url, "secret": secret, "events": [] }))
        .send()
        .await
        .expect("localstripe answers");
    assert!(response.status().is_success(), "{}", response.status());
}
