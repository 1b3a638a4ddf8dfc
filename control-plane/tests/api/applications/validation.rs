//! The instance's validation errors come back through the control plane as 400 naming the
//! field; the request's shape is checked here, and only application ids reach the instance.
//!
//! - `the_instances_validation_errors_come_back_as_400_naming_the_field`
//! - `a_change_is_checked_the_same_way`
//! - `only_application_ids_reach_the_instance`

use serde_json::{Value, json};

use super::{REDIRECT, applications, create, customer, web_app};
use crate::helpers::spawn_platform;

#[tokio::test]
async fn the_instances_validation_errors_come_back_as_400_naming_the_field() {
    let platform = spawn_platform().await;
    let (owner, _) = customer(&platform, "invalid@example.com", "live").await;
    let apps = applications(&owner, "live");
    let create = |body: Value| platform.post(&apps, &owner.token, body);

    // The instance's rules and words, passed through.
    let bad = create(json!({ "name": "Web", "kind": "web", "redirect_uris": [
        "https://a.example.com/cb", "https://b.example.com/cb", "http://app.example.com/cb",
    ] }))
    .await;
    bad.assert_error(400, "invalid_request");
    let message = bad.body["message"].as_str().expect("message");
    assert!(
        message.starts_with("redirect_uris[2]: must use https"),
        "{message}"
    );
    let bad = create(json!({ "name": "Web", "kind": "web", "post_logout_redirect_uris": ["https://app.example.com/#x"] })).await;
    bad.assert_error(400, "invalid_request");
    let message = bad.str("message");
    assert!(
        message.starts_with("post_logout_redirect_uris[0]:"),
        "{message}"
    );
    let bad = create(json!({ "name": " ", "kind": "web" })).await;
    bad.assert_error(400, "invalid_request");
    assert!(bad.str("message").starts_with("name:"), "{}", bad.body);

    // The request's shape is checked here: no fields the instance does not have.
    create(json!({ "name": "Web", "kind": "service" }))
        .await
        .assert_error(400, "invalid_request");
    create(json!({ "name": "Web", "kind": "web", "client_secret": "acs_mine" }))
        .await
        .assert_error(400, "invalid_request");
    platform
        .get(&applications(&owner, "prod"), &owner.token)
        .await
        .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn a_change_is_checked_the_same_way() {
    let platform = spawn_platform().await;
    let (owner, _) = customer(&platform, "invalid-change@example.com", "live").await;
    let created = create(&platform, &owner, web_app("Web")).await;
    let one = format!("{}/{}", applications(&owner, "live"), created.str("id"));
    let wildcard = json!({ "redirect_uris": [REDIRECT, "https://*.example.com/cb"] });
    let bad = platform.patch(&one, &owner.token, wildcard).await;
    bad.assert_error(400, "invalid_request");
    let message = bad.str("message");
    assert!(
        message.starts_with("redirect_uris[1]: must not contain wildcards"),
        "{message}"
    );
    platform
        .patch(&one, &owner.token, json!({ "kind": "spa" }))
        .await
        .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn only_application_ids_reach_the_instance() {
    let platform = spawn_platform().await;
    let (owner, _) = customer(&platform, "ids@example.com", "live").await;
    let apps = applications(&owner, "live");
    // Not a path into the rest of its admin API.
    for id in [
        "..%2Fusers",
        "app_nothex",
        "usr_0123456789abcdef0123456789abcdef",
        "app_0123456789abcdef0123456789abcdef",
    ] {
        platform
            .get(&format!("{apps}/{id}"), &owner.token)
            .await
            .assert_error(404, "not_found");
    }
}
