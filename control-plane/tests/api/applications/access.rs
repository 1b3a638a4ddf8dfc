//! Who may see and change applications: roles that manage keys, in their own account, while the
//! instance runs.
//!
//! - `a_member_sees_applications_but_changes_none`
//! - `a_viewer_does_not_see_them_and_an_admin_manages_them`
//! - `another_account_finds_nothing`
//! - `a_suspended_instance_is_a_state_of_the_account_not_an_outage`

use serde_json::json;

use super::{applications, create, customer, rotate, web_app};
use crate::accounts::join_as;
use crate::helpers::spawn_platform;

#[tokio::test]
async fn a_member_sees_applications_but_changes_none() {
    let platform = spawn_platform().await;
    let (owner, _) = customer(&platform, "roles@example.com", "live").await;
    let apps = applications(&owner, "live");
    let one = format!(
        "{apps}/{}",
        create(&platform, &owner, web_app("Web")).await.str("id")
    );

    // As they see keys.
    let member = join_as(&platform, &owner, "member@roles.test", "member").await;
    let listed = platform.get(&apps, &member).await;
    listed.assert_ok(200);
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(1));
    platform.get(&one, &member).await.assert_ok(200);
    let refused = platform.post(&apps, &member, web_app("Mine")).await;
    refused.assert_error(403, "forbidden");
    let message = refused.str("message");
    assert!(message.contains("keys:manage"), "{message}");
    rotate(&platform, &one, &member, None)
        .await
        .assert_error(403, "forbidden");
    platform
        .patch(&one, &member, json!({ "name": "x" }))
        .await
        .assert_error(403, "forbidden");
    platform
        .delete(&one, &member)
        .await
        .assert_error(403, "forbidden");
}

#[tokio::test]
async fn a_viewer_does_not_see_them_and_an_admin_manages_them() {
    let platform = spawn_platform().await;
    let (owner, _) = customer(&platform, "viewer@example.com", "live").await;
    let apps = applications(&owner, "live");
    create(&platform, &owner, web_app("Web")).await;
    let viewer = join_as(&platform, &owner, "viewer@roles.test", "viewer").await;
    platform
        .get(&apps, &viewer)
        .await
        .assert_error(403, "forbidden");
    let admin = join_as(&platform, &owner, "admin@roles.test", "admin").await;
    platform
        .post(&apps, &admin, web_app("Admin's"))
        .await
        .assert_ok(201);
    let listed = platform.get(&apps, &owner.token).await;
    let count = listed.body["data"].as_array().map(Vec::len);
    assert_eq!(count, Some(2), "{}", listed.body);
}

#[tokio::test]
async fn another_account_finds_nothing() {
    let platform = spawn_platform().await;
    let (owner, _) = customer(&platform, "mine@example.com", "live").await;
    let apps = applications(&owner, "live");
    let one = format!(
        "{apps}/{}",
        create(&platform, &owner, web_app("Web")).await.str("id")
    );
    // Not the account, not its applications.
    let other = platform.owner("other@example.com").await;
    let not_found = |reply: crate::helpers::Reply| reply.assert_error(404, "not_found");
    not_found(platform.get(&apps, &other.token).await);
    not_found(platform.get(&one, &other.token).await);
    not_found(platform.post(&apps, &other.token, web_app("Theirs")).await);
    not_found(rotate(&platform, &one, &other.token, None).await);
    not_found(platform.delete(&one, &other.token).await);
    // ... and no instance of its own before it subscribes.
    not_found(
        platform
            .get(&applications(&other, "live"), &other.token)
            .await,
    );
    let listed = platform.get(&apps, &owner.token).await;
    let count = listed.body["data"].as_array().map(Vec::len);
    assert_eq!(count, Some(1), "{}", listed.body);
}

#[tokio::test]
async fn a_suspended_instance_is_a_state_of_the_account_not_an_outage() {
    let platform = spawn_platform().await;
    let (owner, _) = customer(&platform, "suspended@example.com", "live").await;
    let apps = applications(&owner, "live");
    platform
        .delete(&owner.account("/subscription"), &owner.token)
        .await
        .assert_ok(200);
    platform.wait_for_instances(&owner, "suspended").await;
    platform
        .get(&apps, &owner.token)
        .await
        .assert_error(409, "instance_not_running");
    platform
        .post(&apps, &owner.token, web_app("Late"))
        .await
        .assert_error(409, "instance_not_running");
}
