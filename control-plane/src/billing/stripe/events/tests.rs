//! Webhook events from fixtures: Stripe's shapes across API versions and localstripe's.

use std::time::Duration;

use axum::http::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};

use super::*;
use crate::billing::stripe::signature;
use crate::error::Error;

const TOLERANCE: Duration = Duration::from_secs(300);

fn secrets(values: &[&str]) -> Vec<SecretString> {
    values.iter().map(|s| SecretString::from(*s)).collect()
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/stripe/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn parse_fixture(name: &str) -> Event {
    parse(&fixture(name)).unwrap_or_else(|err| panic!("{name}: {err}"))
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
        let event = parse(&payload).unwrap_or_else(|err| panic!("{name}: {err}"));
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
        let err = parse(&payload).expect_err(missing);
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
    let err = parse(&serde_json::to_vec(&subscription).expect("JSON")).expect_err("no status");
    assert!(err.to_string().contains("data.object.status"), "{err}");
    for payload in [
        &b"not json"[..],
        b"[]",
        br#"{"id":"evt_1","type":"x","created":"yesterday","data":{"object":{}}}"#,
    ] {
        assert!(
            parse(payload).is_err(),
            "{}",
            String::from_utf8_lossy(payload)
        );
    }
    // Unknown types need only the envelope.
    let other =
        parse(br#"{"id":"evt_1","type":"charge.refunded","created":1,"data":{"object":{}}}"#)
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
    let event = parse(&serde_json::to_vec(&payload).expect("JSON")).expect("an event");
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
    let event = parse(&serde_json::to_vec(&payload).expect("JSON")).expect("an event");
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
    let event = parse(&serde_json::to_vec(&payload).expect("JSON")).expect("an event");
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
