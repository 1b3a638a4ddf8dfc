//! The Stripe client against a server that records what it is sent and answers like Stripe.
//!
//! - `client_checkout_session_form`
//! - `client_checkout_idempotency_keys_are_derived_from_the_request`
//! - `client_customer_and_portal_forms`
//! - `client_stripe_error_is_bad_gateway`
//! - `client_debug_hides_the_key`

use authstack_control_plane::billing::stripe::{CheckoutRequest, STRIPE_VERSION, StripeClient};
use authstack_control_plane::error::Error;
use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{ACCOUNT, config};
use crate::helpers::{FakeStripe, StripeRequest as Recorded};

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

/// A checkout request for the pro plan with an idempotency key of its own.
fn checkout_request() -> CheckoutRequest {
    CheckoutRequest {
        customer: "cus_S3kQ9vXw2LmN7p".into(),
        price_id: "price_authstack_pro_monthly".into(),
        account_id: ACCOUNT.into(),
        plan: "pro".into(),
        region: "eu-central-1".into(),
        success_url: "https://dashboard.authstack.example/billing?checkout=success".into(),
        cancel_url: "https://dashboard.authstack.example/billing?checkout=cancelled".into(),
        idempotency_key: Some("checkout_0193a1b2c3d4e5f6".into()),
    }
}

#[tokio::test]
async fn client_checkout_session_form() {
    let recorder = FakeStripe::default();
    // No trailing slash: the client adds it.
    let base = recorder.start().await;
    let client = StripeClient::new(&config(&base, "sk_test_recorder")).expect("a client");
    let request = checkout_request();
    let session = client
        .create_checkout_session(&request)
        .await
        .expect("a session");
    // The fake's answer, read back: its id and its URL with the fragment Stripe's carry.
    assert_eq!(session.id, "cs_test_1");
    assert_eq!(
        session.url,
        "https://checkout.stripe.com/c/pay/cs_test_1#fidkdWxOYHwnPyd1blpxYHZxWjA0"
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
}

#[tokio::test]
async fn client_checkout_idempotency_keys_are_derived_from_the_request() {
    let recorder = FakeStripe::default();
    let base = recorder.start().await;
    let client = StripeClient::new(&config(&base, "sk_test_recorder")).expect("a client");
    // Without a key, one is derived from the request: the same request gets the same key.
    let derived = CheckoutRequest {
        idempotency_key: None,
        ..checkout_request()
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
    let recorder = FakeStripe::default();
    let base = recorder.start().await;
    let client =
        StripeClient::new(&config(&format!("{base}/"), "sk_test_recorder")).expect("a client");

    let customer = client
        .create_customer(ACCOUNT, "Acme Inc.", Some("billing+stripe@acme.example"))
        .await
        .expect("a customer");
    assert_eq!(customer, crate::helpers::customer_id(1));
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
    assert_eq!(url, "https://billing.stripe.com/p/session/test_3");
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
    let recorder = FakeStripe::failing_with(
        StatusCode::BAD_REQUEST,
        json!({ "error": {
                "code": "resource_missing",
                "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
                "message": "No such price: 'price_authstack_pro_monthly'",
                "param": "line_items[0][price]",
                "request_log_url": "https://dashboard.stripe.com/test/logs/req_Pq7RsT2uVw3XyZ?t=1745000000",
                "type": "invalid_request_error"
            } }),
    );
    let base = recorder.start().await;
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
