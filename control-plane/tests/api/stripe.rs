//! Stripe without an SDK: webhook signatures, events in Stripe's current and localstripe's 2017
//! shapes, the API client against a recording server (localstripe has no Checkout or portal),
//! and the whole loop against localstripe when `AUTHSTACK_TEST_LOCALSTRIPE_URL` is set
//! (`scripts/localstripe start`).

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
// Signatures

const PAYLOAD: &[u8] = br#"{"id":"evt_1RAb3dD5Gf3hT2aBa8cQw3Rt","object":"event"}"#;
const NOW: i64 = 1_745_000_000;

#[test]
fn signature_valid() {
    let header = signature::sign(PAYLOAD, "whsec_current", NOW);
    assert!(header.starts_with("t=1745000000,v1="), "{header}");
    assert_eq!(
        signature::verify(
            &header,
            PAYLOAD,
            &secrets(&["whsec_current"]),
            NOW,
            TOLERANCE
        ),
        Ok(())
    );
}

#[test]
fn signature_one_valid_among_several_v1() {
    let valid = signature::sign(PAYLOAD, "whsec_current", NOW);
    let valid_v1 = valid.split_once(",v1=").expect("a v1").1;
    let forged = "0".repeat(64);
    let header = format!("t={NOW},v1={forged},v1=nothex,v1={valid_v1},v0={forged}");
    assert_eq!(
        signature::verify(
            &header,
            PAYLOAD,
            &secrets(&["whsec_current"]),
            NOW,
            TOLERANCE
        ),
        Ok(())
    );
    // Spaces after commas, as some proxies write them.
    let spaced = header.replace(',', ", ");
    assert_eq!(
        signature::verify(
            &spaced,
            PAYLOAD,
            &secrets(&["whsec_current"]),
            NOW,
            TOLERANCE
        ),
        Ok(())
    );
}

#[test]
fn signature_secret_rotation() {
    let both = secrets(&["whsec_old", "whsec_new"]);
    for secret in ["whsec_old", "whsec_new"] {
        let header = signature::sign(PAYLOAD, secret, NOW);
        assert_eq!(
            signature::verify(&header, PAYLOAD, &both, NOW, TOLERANCE),
            Ok(()),
            "{secret}"
        );
    }
    // During a roll Stripe signs with both secrets in one header.
    let old = signature::sign(PAYLOAD, "whsec_old", NOW);
    let new = signature::sign(PAYLOAD, "whsec_new", NOW);
    let header = format!("{old},v1={}", new.split_once(",v1=").expect("a v1").1);
    assert_eq!(
        signature::verify(&header, PAYLOAD, &secrets(&["whsec_new"]), NOW, TOLERANCE),
        Ok(())
    );
    let header = signature::sign(PAYLOAD, "whsec_retired", NOW);
    assert_eq!(
        signature::verify(&header, PAYLOAD, &both, NOW, TOLERANCE),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn signature_stale_and_future_timestamps() {
    let s = secrets(&["whsec_current"]);
    let tolerance = TOLERANCE.as_secs() as i64;
    let at_edge = signature::sign(PAYLOAD, "whsec_current", NOW - tolerance);
    assert_eq!(
        signature::verify(&at_edge, PAYLOAD, &s, NOW, TOLERANCE),
        Ok(())
    );
    let stale = signature::sign(PAYLOAD, "whsec_current", NOW - tolerance - 1);
    assert_eq!(
        signature::verify(&stale, PAYLOAD, &s, NOW, TOLERANCE),
        Err(SignatureError::TooOld)
    );
    let ahead = signature::sign(PAYLOAD, "whsec_current", NOW + tolerance);
    assert_eq!(
        signature::verify(&ahead, PAYLOAD, &s, NOW, TOLERANCE),
        Ok(())
    );
    let future = signature::sign(PAYLOAD, "whsec_current", NOW + tolerance + 1);
    assert_eq!(
        signature::verify(&future, PAYLOAD, &s, NOW, TOLERANCE),
        Err(SignatureError::FromTheFuture)
    );
    let ancient = signature::sign(PAYLOAD, "whsec_current", i64::MIN);
    assert_eq!(
        signature::verify(&ancient, PAYLOAD, &s, i64::MAX, TOLERANCE),
        Err(SignatureError::TooOld)
    );
}

#[test]
fn signature_tampered_payload() {
    let s = secrets(&["whsec_current"]);
    let header = signature::sign(PAYLOAD, "whsec_current", NOW);
    let tampered = String::from_utf8_lossy(PAYLOAD).replace("evt_1", "evt_2");
    assert_eq!(
        signature::verify(&header, tampered.as_bytes(), &s, NOW, TOLERANCE),
        Err(SignatureError::Mismatch)
    );
    for header in [format!("t={NOW},v1="), format!("t={NOW},v1=nothex")] {
        assert_eq!(
            signature::verify(&header, PAYLOAD, &s, NOW, TOLERANCE),
            Err(SignatureError::Mismatch),
            "{header:?}"
        );
    }
    // The timestamp is signed too.
    let moved = header.replace("t=1745000000", "t=1745000001");
    assert_eq!(
        signature::verify(&moved, PAYLOAD, &s, NOW, TOLERANCE),
        Err(SignatureError::Mismatch)
    );
}

#[test]
fn signature_garbled_header() {
    let s = secrets(&["whsec_current"]);
    let v1 = signature::sign(PAYLOAD, "whsec_current", NOW);
    let v1 = v1.split_once(',').expect("two parts").1;
    for header in [
        String::new(),
        "garbage".to_owned(),
        v1.to_owned(),
        format!("t=soon,{v1}"),
        format!("t=,{v1}"),
        format!("t=1745000000.5,{v1}"),
    ] {
        assert_eq!(
            signature::verify(&header, PAYLOAD, &s, NOW, TOLERANCE),
            Err(SignatureError::Malformed),
            "{header:?}"
        );
    }
}

#[test]
fn signature_missing_v1() {
    let s = secrets(&["whsec_current"]);
    let v0 = signature::sign(PAYLOAD, "whsec_current", NOW).replace("v1=", "v0=");
    for header in [format!("t={NOW}"), v0] {
        assert_eq!(
            signature::verify(&header, PAYLOAD, &s, NOW, TOLERANCE),
            Err(SignatureError::NoSignature),
            "{header:?}"
        );
    }
}

#[test]
fn signature_without_configured_secret() {
    let header = signature::sign(PAYLOAD, "whsec_current", NOW);
    assert_eq!(
        signature::verify(&header, PAYLOAD, &[], NOW, TOLERANCE),
        Err(SignatureError::NoSecret)
    );
}

#[test]
fn signature_error_is_invalid_signature() {
    let err = Error::from(SignatureError::TooOld);
    assert!(matches!(err, Error::InvalidSignature(_)), "{err:?}");
    assert_eq!(err.status(), StatusCode::BAD_REQUEST);
    assert_eq!(err.to_string(), SignatureError::TooOld.message());
}

// ---------------------------------------------------------------------------------------------
// Events

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/stripe/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn parse_fixture(name: &str) -> events::Event {
    events::parse(&fixture(name)).unwrap_or_else(|err| panic!("{name}: {err}"))
}

const ACCOUNT: &str = "acc_01936b2e8f4a7c1d9e2b3a4c5d6e7f80";
const CUSTOMER: &str = "cus_S3kQ9vXw2LmN7p";
const SUBSCRIPTION: &str = "sub_1RAb3cD5Gf3hT2aBqW8eRtYu";
const PRO_PRICE: &str = "price_authstack_pro_monthly";
/// The ends of the fixtures' first and second monthly periods.
const PERIOD_1_END: i64 = 1_747_592_001;
const PERIOD_2_END: i64 = 1_750_270_401;

fn subscription_changed(
    status: SubscriptionStatus,
    price: &str,
    current_period_end: i64,
    cancel_at_period_end: bool,
    deleted: bool,
) -> EventKind {
    EventKind::SubscriptionChanged {
        subscription_id: SUBSCRIPTION.into(),
        customer: Some(CUSTOMER.into()),
        status,
        price_id: Some(price.into()),
        current_period_end: Some(current_period_end),
        cancel_at_period_end,
        account_id: Some(ACCOUNT.into()),
        deleted,
    }
}

#[test]
fn event_checkout_session_completed() {
    let event = parse_fixture("checkout_session_completed.json");
    assert_eq!(event.id, "evt_1RAb3eD5Gf3hT2aBvKp0Lm2N");
    assert_eq!(event.created, 1_745_000_003);
    assert_eq!(
        event.kind,
        EventKind::CheckoutCompleted {
            session_id: "cs_test_b1fG7qYx3kLmN8pQ2rStUvWx4yZa5BcDe6FgHi7JkLm8NoPq9RsTu0VwXy1ZaB2c"
                .into(),
            customer: Some(CUSTOMER.into()),
            subscription: Some(SUBSCRIPTION.into()),
            account_id: Some(ACCOUNT.into()),
            plan: Some("pro".into()),
            region: Some("eu-central-1".into()),
        }
    );
    assert_eq!(event.kind.type_name(), "checkout.session.completed");
}

#[test]
fn event_subscription_created() {
    let event = parse_fixture("customer_subscription_created.json");
    assert_eq!(event.id, "evt_1RAb3dD5Gf3hT2aBa8cQw3Rt");
    assert_eq!(
        event.kind,
        subscription_changed(
            SubscriptionStatus::Active,
            PRO_PRICE,
            PERIOD_1_END,
            false,
            false
        )
    );
}

#[test]
fn event_subscription_updated_cancel_at_period_end() {
    let event = parse_fixture("customer_subscription_updated_cancel_at_period_end.json");
    assert_eq!(
        event.kind,
        subscription_changed(
            SubscriptionStatus::Active,
            PRO_PRICE,
            PERIOD_1_END,
            true,
            false
        )
    );
    assert_eq!(event.kind.type_name(), "customer.subscription.updated");
}

#[test]
fn event_subscription_updated_past_due() {
    let event = parse_fixture("customer_subscription_updated_past_due.json");
    assert_eq!(
        event.kind,
        subscription_changed(
            SubscriptionStatus::PastDue,
            PRO_PRICE,
            PERIOD_2_END,
            false,
            false
        )
    );
}

#[test]
fn event_subscription_deleted() {
    let event = parse_fixture("customer_subscription_deleted.json");
    assert_eq!(
        event.kind,
        subscription_changed(
            SubscriptionStatus::Canceled,
            PRO_PRICE,
            PERIOD_1_END,
            true,
            true
        )
    );
    assert_eq!(event.kind.type_name(), "customer.subscription.deleted");
}

#[test]
fn event_invoice_paid() {
    let event = parse_fixture("invoice_paid.json");
    // A subscription's first invoice has period_start = period_end = its creation; the period
    // paid for is on its line.
    assert_eq!(
        event.kind,
        EventKind::InvoicePaid {
            invoice_id: "in_1RAb3dD5Gf3hT2aBm4NkPq7s".into(),
            subscription: Some(SUBSCRIPTION.into()),
            customer: Some(CUSTOMER.into()),
            period_end: Some(PERIOD_1_END),
        }
    );
    assert_eq!(event.kind.type_name(), "invoice.paid");
}

#[test]
fn event_invoice_payment_failed() {
    let event = parse_fixture("invoice_payment_failed.json");
    assert_eq!(
        event.kind,
        EventKind::InvoicePaymentFailed {
            invoice_id: "in_1RQcE2D5Gf3hT2aBz8XyWv6u".into(),
            subscription: Some(SUBSCRIPTION.into()),
            customer: Some(CUSTOMER.into()),
            next_payment_attempt: Some(1_747_854_805),
        }
    );
}

#[test]
fn event_api_2024_06_20_shapes() {
    // Before 2025-03-31: the period is on the subscription, the subscription on the invoice.
    let event = parse_fixture("customer_subscription_updated_2024-06-20.json");
    assert_eq!(
        event.kind,
        subscription_changed(
            SubscriptionStatus::Active,
            "price_authstack_starter_monthly",
            PERIOD_1_END,
            false,
            false
        )
    );
    let event = parse_fixture("invoice_paid_2024-06-20.json");
    assert_eq!(
        event.kind,
        EventKind::InvoicePaid {
            invoice_id: "in_1RAb3dD5Gf3hT2aBm4NkPq7s".into(),
            subscription: Some(SUBSCRIPTION.into()),
            customer: Some(CUSTOMER.into()),
            period_end: Some(PERIOD_1_END),
        }
    );
}

#[test]
fn event_localstripe_2017_shapes() {
    // Recorded from localstripe 1.15.10 deliveries (API 2017-08-15: plans, not prices).
    let event = parse_fixture("localstripe_customer_subscription_created.json");
    assert_eq!(event.id, "evt_MlTuuQidysDivF");
    assert_eq!(event.created, 1_795_508_905);
    assert_eq!(
        event.kind,
        EventKind::SubscriptionChanged {
            subscription_id: "sub_rlcprJe55t9GbT".into(),
            customer: Some("cus_zvD0vIvEmkJfvS".into()),
            status: SubscriptionStatus::Active,
            price_id: Some("price_pro_monthly".into()),
            current_period_end: Some(1_798_100_905),
            cancel_at_period_end: false,
            account_id: Some("acc_01JQ".into()),
            deleted: false,
        }
    );
    let event = parse_fixture("localstripe_customer_subscription_deleted.json");
    assert!(
        matches!(
            &event.kind,
            EventKind::SubscriptionChanged { subscription_id, status: SubscriptionStatus::Canceled, deleted: true, .. }
                if subscription_id == "sub_rlcprJe55t9GbT"
        ),
        "{event:?}"
    );
    let event = parse_fixture("localstripe_invoice_payment_succeeded.json");
    assert_eq!(
        event.kind,
        EventKind::InvoicePaid {
            invoice_id: "in_vvySMdlUbNu01N".into(),
            subscription: Some("sub_rlcprJe55t9GbT".into()),
            customer: Some("cus_zvD0vIvEmkJfvS".into()),
            period_end: Some(1_798_100_905),
        }
    );
    let event = parse_fixture("localstripe_invoice_payment_failed.json");
    assert_eq!(
        event.kind,
        EventKind::InvoicePaymentFailed {
            invoice_id: "in_VTMDZf64YlqQmM".into(),
            subscription: Some("sub_iTkTtIEH3nF9wW".into()),
            customer: Some("cus_Heaw8RGWiuLhrF".into()),
            next_payment_attempt: Some(1_795_508_915),
        }
    );
    let event = parse_fixture("localstripe_customer_created.json");
    assert_eq!(event.kind, EventKind::Other("customer.created".into()));
    assert_eq!(event.kind.type_name(), "customer.created");
}

#[test]
fn event_fixtures_verify_once_signed() {
    let dir = format!("{}/tests/fixtures/stripe", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("the fixtures folder")
        .map(|entry| {
            entry
                .expect("an entry")
                .file_name()
                .into_string()
                .expect("UTF-8")
        })
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 14, "{names:?}");
    let s = secrets(&["whsec_fixture"]);
    for name in names {
        let payload = fixture(&name);
        let created = serde_json::from_slice::<Value>(&payload).expect("JSON")["created"]
            .as_i64()
            .expect("created");
        let header = signature::sign(&payload, "whsec_fixture", created);
        assert_eq!(
            signature::verify(&header, &payload, &s, created + 1, TOLERANCE),
            Ok(()),
            "{name}"
        );
        let event = events::parse(&payload).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(event.created, created, "{name}");
        assert!(
            !matches!(event.kind, EventKind::Other(_)) || name.contains("customer_created"),
            "{name}"
        );
    }
}

#[test]
fn event_malformed_payloads_are_refused() {
    let valid: Value = serde_json::from_slice(&fixture("invoice_paid.json")).expect("JSON");
    let without = |pointer: &str| {
        let mut event = valid.clone();
        let (parent, key) = pointer.rsplit_once('/').expect("a pointer");
        event
            .pointer_mut(parent)
            .and_then(Value::as_object_mut)
            .expect("the parent")
            .remove(key);
        serde_json::to_vec(&event).expect("JSON")
    };
    for (payload, missing) in [
        (without("/id"), "id"),
        (without("/type"), "type"),
        (without("/created"), "created"),
        (without("/data/object"), "data.object"),
        (without("/data/object/id"), "data.object.id"),
    ] {
        let err = events::parse(&payload).expect_err(missing);
        assert!(
            err.to_string().contains(&format!("`{missing}`")),
            "{missing}: {err}"
        );
        let err = Error::from(err);
        assert_eq!(err.status(), StatusCode::BAD_REQUEST, "{missing}");
    }
    let mut subscription: Value =
        serde_json::from_slice(&fixture("customer_subscription_created.json")).expect("JSON");
    subscription["data"]["object"]
        .as_object_mut()
        .expect("an object")
        .remove("status");
    let err =
        events::parse(&serde_json::to_vec(&subscription).expect("JSON")).expect_err("no status");
    assert!(err.to_string().contains("data.object.status"), "{err}");
    for payload in [
        &b"not json"[..],
        b"[]",
        br#"{"id":"evt_1","type":"x","created":"yesterday","data":{"object":{}}}"#,
    ] {
        assert!(
            events::parse(payload).is_err(),
            "{}",
            String::from_utf8_lossy(payload)
        );
    }
    // Unknown types need only the envelope.
    let other = events::parse(
        br#"{"id":"evt_1","type":"charge.refunded","created":1,"data":{"object":{}}}"#,
    )
    .expect("an event");
    assert_eq!(other.kind, EventKind::Other("charge.refunded".into()));
}

#[test]
fn event_lenient_about_expansion_and_unknown_status() {
    let payload = json!({
        "id": "evt_1", "type": "customer.subscription.updated", "created": 10,
        "data": { "object": {
            "id": "sub_1", "status": "something_new",
            "customer": { "id": "cus_1", "object": "customer" },
            "items": { "data": [
                { "price": "price_plain", "current_period_end": 20 },
                { "price": { "id": "price_second" }, "current_period_end": 30 }
            ] }
        } }
    });
    let event = events::parse(&serde_json::to_vec(&payload).expect("JSON")).expect("an event");
    assert_eq!(
        event.kind,
        EventKind::SubscriptionChanged {
            subscription_id: "sub_1".into(),
            customer: Some("cus_1".into()),
            status: SubscriptionStatus::Other,
            price_id: Some("price_plain".into()),
            current_period_end: Some(30),
            cancel_at_period_end: false,
            account_id: None,
            deleted: false,
        }
    );
    // An invoice naming its subscription only on a line; `invoice.payment_succeeded` as paid.
    let payload = json!({
        "id": "evt_2", "type": "invoice.payment_succeeded", "created": 10,
        "data": { "object": {
            "id": "in_1", "customer": "cus_1", "period_end": 15,
            "lines": { "data": [ { "parent": { "subscription_item_details": { "subscription": "sub_1" } } } ] }
        } }
    });
    let event = events::parse(&serde_json::to_vec(&payload).expect("JSON")).expect("an event");
    assert_eq!(
        event.kind,
        EventKind::InvoicePaid {
            invoice_id: "in_1".into(),
            subscription: Some("sub_1".into()),
            customer: Some("cus_1".into()),
            period_end: Some(15),
        }
    );
    // A checkout without client_reference_id falls back to metadata.account_id.
    let payload = json!({
        "id": "evt_3", "type": "checkout.session.completed", "created": 10,
        "data": { "object": { "id": "cs_1", "client_reference_id": null, "customer": null,
                              "metadata": { "account_id": "acc_1" } } }
    });
    let event = events::parse(&serde_json::to_vec(&payload).expect("JSON")).expect("an event");
    assert_eq!(
        event.kind,
        EventKind::CheckoutCompleted {
            session_id: "cs_1".into(),
            customer: None,
            subscription: None,
            account_id: Some("acc_1".into()),
            plan: None,
            region: None,
        }
    );
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

fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
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
