//! Usage: an instance's own counts against the plan, per environment, for its account only.
//!
//! - `a_new_instance_has_no_usage`
//! - `usage_counts_the_end_users_and_organizations_against_the_plan`
//! - `the_test_instance_counts_apart_and_others_get_clear_errors`

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Owner, PASSWORD, Reply, TestPlatform, spawn_platform};

async fn usage(platform: &TestPlatform, owner: &Owner, env: &str, token: &str) -> Reply {
    platform.get(&owner.instance(env, "/usage"), token).await
}

/// An end user of the customer signs up through the gateway, creates an organization and
/// invites a colleague.
async fn end_user_with_an_organization(platform: &TestPlatform, live_id: &str, key: &str) {
    let signup = platform
        .sign_up_user(key, "enduser@example.com", PASSWORD)
        .await;
    signup.assert_ok(202);
    let mailed = platform
        .mailed_token(live_id, "enduser@example.com", "verify_email")
        .await;
    let verify = json!({ "token": mailed });
    let verified = platform
        .via_key(
            Method::POST,
            "/v1/auth/email/verify",
            key,
            None,
            Some(verify),
        )
        .await;
    verified.assert_ok(200);
    let token = verified.str("access_token");
    let org = json!({ "name": "Customer's customer" });
    let org = platform
        .via_key(
            Method::POST,
            "/v1/organizations",
            key,
            Some(&token),
            Some(org),
        )
        .await;
    org.assert_ok(201);
    let invitations = format!("/v1/organizations/{}/invitations", org.str("id"));
    let invitation = json!({ "email": "colleague@example.com", "role": "member" });
    platform
        .via_key(
            Method::POST,
            &invitations,
            key,
            Some(&token),
            Some(invitation),
        )
        .await
        .assert_ok(201);
}

#[tokio::test]
async fn a_new_instance_has_no_usage() {
    let platform = spawn_platform().await;
    let (owner, live_id, _) = platform.live_customer("empty@example.com", "starter").await;
    let empty = usage(&platform, &owner, "live", &owner.token).await;
    empty.assert_ok(200);
    assert_eq!(empty.body["instance_id"], live_id.as_str());
    assert_eq!(empty.body["plan"], "starter");
    assert_eq!(empty.body["users"], 0);
}

#[tokio::test]
async fn usage_counts_the_end_users_and_organizations_against_the_plan() {
    let platform = spawn_platform().await;
    let (owner, live_id, key) = platform.live_customer("usage@example.com", "starter").await;
    end_user_with_an_organization(&platform, &live_id, &key).await;
    let usage = usage(&platform, &owner, "live", &owner.token).await;
    usage.assert_ok(200);
    let plan = platform.config.catalog.plan("starter");
    let limits = &plan.expect("the starter plan").limits;
    assert_eq!(usage.body["users"], 1);
    assert_eq!(
        usage.body["monthly_active_users"],
        json!({ "used": 1, "limit": limits.monthly_active_users })
    );
    assert_eq!(
        usage.body["organizations"],
        json!({ "used": 1, "limit": limits.organizations })
    );
    assert_eq!(
        usage.body["members_per_organization"]["limit"],
        json!(limits.members_per_organization)
    );
    let largest = &usage.body["members_per_organization"]["data"][0];
    assert_eq!(
        (
            &largest["name"],
            &largest["members"],
            &largest["pending_invitations"]
        ),
        (&json!("Customer's customer"), &json!(1), &json!(1)),
        "{}",
        usage.body
    );
    let daily = usage.body["daily_active_users"]
        .as_array()
        .expect("a daily series");
    assert_eq!(daily.len(), 30);
    assert_eq!(daily[29]["users"], 1);
}

#[tokio::test]
async fn the_test_instance_counts_apart_and_others_get_clear_errors() {
    let platform = spawn_platform().await;
    let (owner, live_id, key) = platform.live_customer("apart@example.com", "starter").await;
    end_user_with_an_organization(&platform, &live_id, &key).await;
    let test = usage(&platform, &owner, "test", &owner.token).await;
    test.assert_ok(200);
    assert_eq!(test.body["users"], 0);
    usage(&platform, &owner, "staging", &owner.token)
        .await
        .assert_error(400, "invalid_request");
    let stranger = platform.owner("stranger@example.com").await;
    let denied = usage(&platform, &owner, "live", &stranger.token).await;
    let refused = denied.status == 403 || denied.status == 404;
    assert!(refused, "{}", denied.body);
}
