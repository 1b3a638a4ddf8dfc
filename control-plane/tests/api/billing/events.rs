//! Stripe's events applied exactly once and in any order through a subscription's life:
//! activation before Checkout completes, retried deliveries, a failed payment's grace period,
//! suspension and recovery, an upgrade, and the end with its data retention.
//!
//! - `an_early_subscription_event_activates_and_a_retried_delivery_applies_once`
//! - `a_failed_payment_opens_a_grace_period_that_a_late_older_update_does_not_close`
//! - `the_grace_period_ends_in_suspension_and_a_payment_resumes`
//! - `an_upgrade_in_the_portal_moves_both_instances_to_the_new_plan`
//! - `a_deleted_subscription_suspends_and_its_data_is_deleted_after_retention`

use serde_json::json;

use super::*;

/// `invoice.payment_failed` now, ten seconds on: the subscription is past due.
async fn fail_payment(platform: &TestPlatform, owner: &Owner, customer: &str) -> Value {
    platform.clock.advance(10);
    let now = platform.clock.now();
    let failed = event(
        "evt_pay_failed_1",
        "invoice.payment_failed",
        now,
        invoice_object(customer, "open"),
    );
    platform.deliver(&failed, SECRET, now).await.assert_ok(200);
    platform.wait_for_status(owner, "past_due").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_early_subscription_event_activates_and_a_retried_delivery_applies_once() {
    let (platform, recorded) = stripe_platform(None).await;
    // The subscription event arrives before the checkout completion; signed with the secret
    // being rotated out. It activates; both instances come up.
    let (owner, customer, now) = active_subscriber(&platform, "early@acme.test", &recorded).await;
    let account = owner.account_id.clone();
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
    let duplicate = &again.body["duplicate"];
    assert_eq!(duplicate, true, "a retried delivery is applied once");
    assert_eq!(platform.subscription(&owner).await["status"], "active");
    let completed = "billing.stripe.checkout.session.completed";
    assert_audited(&platform, &owner, &[completed]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_payment_opens_a_grace_period_that_a_late_older_update_does_not_close() {
    let (platform, recorded) = stripe_platform(None).await;
    let (owner, customer, now) = active_subscriber(&platform, "grace@acme.test", &recorded).await;
    // The instances keep running.
    let past_due = fail_payment(&platform, &owner, &customer).await;
    assert!(past_due["grace_until"].is_string());
    let starter = "price_authstack_starter_monthly";
    let object = subscription_object(
        &owner.account_id,
        &customer,
        "active",
        starter,
        now + 30 * 86400,
        false,
    );
    let stale = event(
        "evt_stale_update",
        "customer.subscription.updated",
        now + 1,
        object,
    );
    let at = platform.clock.now();
    platform.deliver(&stale, SECRET, at).await.assert_ok(200);
    assert_eq!(platform.subscription(&owner).await["status"], "past_due");
    let failed = "billing.stripe.invoice.payment_failed";
    assert_audited(&platform, &owner, &[failed]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grace_period_ends_in_suspension_and_a_payment_resumes() {
    let (platform, recorded) = stripe_platform(None).await;
    let (owner, customer, _) = active_subscriber(&platform, "suspend@acme.test", &recorded).await;
    fail_payment(&platform, &owner, &customer).await;
    // The grace period ends: suspended, the instances stop.
    let grace = platform.config.payment_grace.as_secs() as i64;
    platform.clock.advance(grace + 1);
    platform.wait_for_status(&owner, "suspended").await;
    platform.wait_for_instances(&owner, "suspended").await;
    // Payment arrives: active again, instances back.
    let now = platform.clock.now();
    let paid = event(
        "evt_paid_1",
        "invoice.paid",
        now,
        invoice_object(&customer, "paid"),
    );
    platform.deliver(&paid, SECRET, now).await.assert_ok(200);
    platform.wait_for_status(&owner, "active").await;
    platform.wait_for_instances(&owner, "ready").await;
    assert_audited(&platform, &owner, &["subscription.suspended"]).await;
}

/// The subscription as the portal leaves it on Pro, ten seconds on.
async fn on_pro(
    platform: &TestPlatform,
    owner: &Owner,
    customer: &str,
    (id, kind, status, cancel): (&str, &str, &str, bool),
    started: i64,
) {
    platform.clock.advance(10);
    let now = platform.clock.now();
    let pro = "price_authstack_pro_monthly";
    let object = subscription_object(
        &owner.account_id,
        customer,
        status,
        pro,
        started + 60 * 86400,
        cancel,
    );
    let update = event(id, kind, now, object);
    platform.deliver(&update, SECRET, now).await.assert_ok(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_in_the_portal_moves_both_instances_to_the_new_plan() {
    let (platform, recorded) = stripe_platform(None).await;
    let (owner, customer, now) = active_subscriber(&platform, "upgrade@acme.test", &recorded).await;
    // A subscription update with the Pro price.
    let upgrade = (
        "evt_upgrade",
        "customer.subscription.updated",
        "active",
        true,
    );
    on_pro(&platform, &owner, &customer, upgrade, now).await;
    let subscription = platform.wait_for_status(&owner, "active").await;
    assert_eq!(subscription["plan"], "pro");
    assert_eq!(subscription["cancel_at_period_end"], true);
    let instances = platform.wait_for_instances(&owner, "ready").await;
    let all_pro = instances.iter().all(|i| i["plan"] == "pro");
    assert!(all_pro, "{instances:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_subscription_suspends_and_its_data_is_deleted_after_retention() {
    let (platform, recorded) = stripe_platform(None).await;
    let (owner, customer, now) = active_subscriber(&platform, "ended@acme.test", &recorded).await;
    let deleted = (
        "evt_deleted",
        "customer.subscription.deleted",
        "canceled",
        false,
    );
    on_pro(&platform, &owner, &customer, deleted, now).await;
    platform.wait_for_status(&owner, "canceled").await;
    platform.wait_for_instances(&owner, "suspended").await;
    let retention = platform.config.data_retention.as_secs() as i64;
    platform.clock.advance(retention + 1);
    platform.wait_for_status(&owner, "deleted").await;
    let actions = [
        "billing.stripe.customer.subscription.deleted",
        "subscription.data_deleted",
    ];
    assert_audited(&platform, &owner, &actions).await;
}
