//! Checkout and the billing portal in Stripe's documented form, and the webhook endpoint's
//! refusal of what Stripe did not sign.
//!
//! - `subscribing_starts_a_checkout_session_in_stripes_form`
//! - `bad_signatures_stale_timestamps_and_unknown_secrets_are_refused`
//! - `the_billing_portal_is_a_stripe_session_for_the_accounts_customer`

use serde_json::json;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribing_starts_a_checkout_session_in_stripes_form() {
    let (platform, recorded) = stripe_platform(None).await;
    let owner = platform.owner("billing@acme.test").await;
    let account = owner.account_id.clone();
    let body = json!({ "plan": "starter", "region": "local" });
    let reply = platform
        .post(&owner.account("/subscription"), &owner.token, body)
        .await;
    reply.assert_ok(200);
    let url = reply.str("checkout_url");
    assert!(url.starts_with("https://checkout.stripe.com/"), "{url}");
    assert_eq!(reply.body["subscription"]["status"], "pending");
    let (_, form, idempotency_key) = recorded_call(&recorded, "/v1/checkout/sessions");
    assert_eq!(form["mode"], "subscription");
    assert_eq!(
        form["line_items[0][price]"],
        "price_authstack_starter_monthly"
    );
    assert_eq!(form["line_items[0][quantity]"], "1");
    assert_eq!(form["client_reference_id"], account);
    assert_eq!(form["subscription_data[metadata][account_id]"], account);
    assert_eq!(form["metadata[region]"], "local");
    assert!(idempotency_key.is_some(), "an Idempotency-Key is sent");
    assert!(form["customer"].starts_with("cus_"));
    assert_audited(&platform, &owner, &["billing.checkout_started"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_signatures_stale_timestamps_and_unknown_secrets_are_refused() {
    let (platform, recorded) = stripe_platform(None).await;
    let owner = platform.owner("signatures@acme.test").await;
    let customer = checkout(&platform, &owner, &recorded).await;
    let now = platform.clock.now();
    let created = subscription_created(&owner, &customer, now);
    platform
        .deliver(&created, "whsec_wrong", now)
        .await
        .assert_error(400, "invalid_signature");
    platform
        .deliver(&created, SECRET, now - 3600)
        .await
        .assert_error(400, "invalid_signature");
    let garbled = platform
        .client
        .post(format!("{}/v1/billing/stripe/webhook", platform.cp))
        .header("stripe-signature", "t=abc,v1=zz")
        .body("{}");
    let garbled = platform.send(garbled).await;
    garbled.assert_error(400, "invalid_signature");
    assert_eq!(platform.subscription(&owner).await["status"], "pending");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_billing_portal_is_a_stripe_session_for_the_accounts_customer() {
    let (platform, recorded) = stripe_platform(None).await;
    let (owner, customer, _) = active_subscriber(&platform, "portal@acme.test", &recorded).await;
    let portal = platform
        .post_empty(&owner.account("/billing-portal"), &owner.token)
        .await;
    portal.assert_ok(200);
    assert!(portal.str("url").starts_with("https://billing.stripe.com/"));
    let (_, form, _) = recorded_call(&recorded, "/v1/billing_portal/sessions");
    assert_eq!(form["customer"], customer);
    assert_eq!(
        form["return_url"],
        "https://dashboard.authstack.test/billing"
    );
}
