//! An application's secret and its changes: shown once, never listed, replaced by a rotation
//! (or kept a while), minted only after a recent sign-in; changes and deletions audited.
//!
//! - `a_web_applications_secret_is_shown_once_and_never_listed`
//! - `a_rotation_shows_a_new_secret_once_and_a_public_application_has_none`
//! - `a_change_replaces_what_it_names_and_each_environment_has_its_own`
//! - `a_deleted_application_is_gone`
//! - `each_change_is_audited_by_its_member_without_a_secret`
//! - `a_rotation_may_keep_the_old_secret_working_a_while`
//! - `minting_needs_a_recent_sign_in`

use serde_json::json;

use super::{REDIRECT, applications, create, customer, rotate, web_app};
use crate::helpers::{Owner, TestPlatform, spawn_platform};

/// A web application with a post-logout address: its id and its secret.
async fn web_application(platform: &TestPlatform, owner: &Owner) -> (String, String) {
    let created = create(
        platform,
        owner,
        json!({
            "name": "Web app", "kind": "web", "redirect_uris": [REDIRECT],
            "post_logout_redirect_uris": ["https://app.example.com/signed-out"],
        }),
    )
    .await;
    (created.str("id"), created.str("client_secret"))
}

#[tokio::test]
async fn a_web_applications_secret_is_shown_once_and_never_listed() {
    let platform = spawn_platform().await;
    let (owner, live_id) = customer(&platform, "apps@example.com", "live").await;
    let apps = applications(&owner, "live");
    let issuer = format!("{}/i/{live_id}", platform.gateway);
    let discovery_url = format!("{issuer}/.well-known/openid-configuration");
    let created = create(
        &platform,
        &owner,
        json!({ "name": "Web app", "kind": "web", "redirect_uris": [REDIRECT] }),
    )
    .await;
    let id = created.str("id");
    let secret = created.str("client_secret");
    assert!(id.starts_with("app_"), "{id}");
    assert!(secret.starts_with("acs_"), "{secret}");
    assert_eq!(created.body["kind"], "web");
    assert_eq!(created.body["redirect_uris"], json!([REDIRECT]));
    assert_eq!(created.body["issuer"], issuer.as_str());
    assert_eq!(created.body["discovery_url"], discovery_url.as_str());
    // `first_party` is the instance's, with the instance's default.
    assert_eq!(created.body["first_party"], true);

    let listed = platform.get(&apps, &owner.token).await;
    listed.assert_ok(200);
    assert_eq!(listed.body["issuer"], issuer.as_str());
    assert_eq!(listed.body["discovery_url"], discovery_url.as_str());
    let data = listed.body["data"].as_array().expect("data");
    assert_eq!(data.len(), 1, "{}", listed.body);
    assert_eq!(data[0]["id"], id.as_str());
    assert_eq!(data[0]["issuer"], issuer.as_str());
    assert!(data[0].get("client_secret").is_none(), "{}", listed.body);
    assert!(!listed.body.to_string().contains(&secret));
    let got = platform.get(&format!("{apps}/{id}"), &owner.token).await;
    got.assert_ok(200);
    assert_eq!(got.body["name"], "Web app");
    assert!(got.body.get("client_secret").is_none(), "{}", got.body);
}

#[tokio::test]
async fn a_rotation_shows_a_new_secret_once_and_a_public_application_has_none() {
    let platform = spawn_platform().await;
    let (owner, live_id) = customer(&platform, "rotate@example.com", "live").await;
    let apps = applications(&owner, "live");
    let (id, secret) = web_application(&platform, &owner).await;
    let rotated = rotate(&platform, &format!("{apps}/{id}"), &owner.token, None).await;
    rotated.assert_ok(200);
    let new_secret = rotated.str("client_secret");
    assert!(new_secret.starts_with("acs_") && new_secret != secret);
    let issuer = format!("{}/i/{live_id}", platform.gateway);
    assert_eq!(rotated.body["issuer"], issuer.as_str());
    let listed = platform.get(&apps, &owner.token).await;
    assert!(!listed.body.to_string().contains(&new_secret));

    // A public application has no secret, to show or to rotate.
    let spa = json!({ "name": "SPA", "kind": "spa", "redirect_uris": ["http://localhost:5173/callback"] });
    let spa = create(&platform, &owner, spa).await;
    assert!(spa.body.get("client_secret").is_none(), "{}", spa.body);
    let spa_one = format!("{apps}/{}", spa.str("id"));
    rotate(&platform, &spa_one, &owner.token, None)
        .await
        .assert_error(409, "conflict");
}

#[tokio::test]
async fn a_change_replaces_what_it_names_and_each_environment_has_its_own() {
    let platform = spawn_platform().await;
    let (owner, live_id) = customer(&platform, "change@example.com", "live").await;
    let (id, _) = web_application(&platform, &owner).await;
    let one = format!("{}/{id}", applications(&owner, "live"));
    let change =
        json!({ "name": "Renamed", "redirect_uris": [REDIRECT, "https://app.example.com/other"] });
    let changed = platform.patch(&one, &owner.token, change).await;
    changed.assert_ok(200);
    assert_eq!(changed.body["name"], "Renamed");
    assert_eq!(
        changed.body["redirect_uris"].as_array().map(Vec::len),
        Some(2)
    );
    assert_eq!(
        changed.body["post_logout_redirect_uris"],
        json!(["https://app.example.com/signed-out"])
    );

    // The test instance is another provider with its own applications.
    let test = platform
        .get(&applications(&owner, "test"), &owner.token)
        .await;
    test.assert_ok(200);
    assert_eq!(test.body["data"], json!([]));
    let issuer = format!("{}/i/{live_id}", platform.gateway);
    assert_ne!(test.body["issuer"], issuer.as_str());
}

#[tokio::test]
async fn a_deleted_application_is_gone() {
    let platform = spawn_platform().await;
    let (owner, _) = customer(&platform, "delete@example.com", "live").await;
    let created = create(&platform, &owner, web_app("Doomed")).await;
    let one = format!("{}/{}", applications(&owner, "live"), created.str("id"));
    platform.delete(&one, &owner.token).await.assert_ok(204);
    platform
        .get(&one, &owner.token)
        .await
        .assert_error(404, "not_found");
    platform
        .delete(&one, &owner.token)
        .await
        .assert_error(404, "not_found");
}

#[tokio::test]
async fn each_change_is_audited_by_its_member_without_a_secret() {
    let platform = spawn_platform().await;
    let (owner, live_id) = customer(&platform, "audit@example.com", "live").await;
    let apps = applications(&owner, "live");
    let (id, secret) = web_application(&platform, &owner).await;
    let one = format!("{apps}/{id}");
    let rotated = rotate(&platform, &one, &owner.token, None).await;
    let new_secret = rotated.str("client_secret");
    let spa = json!({ "name": "SPA", "kind": "spa", "redirect_uris": ["http://localhost:5173/callback"] });
    let spa_one = format!("{apps}/{}", create(&platform, &owner, spa).await.str("id"));
    let change =
        json!({ "name": "Renamed", "redirect_uris": [REDIRECT, "https://app.example.com/other"] });
    platform
        .patch(&one, &owner.token, change)
        .await
        .assert_ok(200);
    platform.delete(&spa_one, &owner.token).await.assert_ok(204);

    let audit = owner.account("/audit-logs?action=application.");
    let audit = platform.get(&audit, &owner.token).await;
    audit.assert_ok(200);
    let events = audit.body["data"].as_array().expect("a page");
    let actions: Vec<&str> = events.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(
        actions,
        [
            "application.deleted",
            "application.updated",
            "application.created",
            "application.secret_rotated",
            "application.created"
        ],
        "newest first"
    );
    let by_a_user =
        |e: &serde_json::Value| e["actor"].as_str().is_some_and(|a| a.starts_with("user:"));
    assert!(events.iter().all(by_a_user));
    assert!(
        events
            .iter()
            .all(|e| e["detail"]["instance_id"] == live_id.as_str())
    );
    assert_eq!(
        events[1]["detail"]["changed"],
        json!(["name", "redirect_uris"])
    );
    assert_eq!(events[4]["target"], id.as_str());
    let text = audit.body.to_string();
    assert!(!text.contains(&secret) && !text.contains(&new_secret));
}

/// Whether the instance's introspection endpoint accepts `secret` for application `id`: it
/// authenticates the client first, 200 for a working secret (the token is nobody's), 401
/// `invalid_client` otherwise.
async fn works(platform: &TestPlatform, issuer: &str, id: &str, secret: &str) -> bool {
    let request = platform
        .client
        .post(format!("{issuer}/oauth2/introspect"))
        .basic_auth(id, Some(secret))
        .form(&[("token", "not-a-token")]);
    let reply = platform.send(request).await;
    match reply.status {
        200 => true,
        401 => false,
        other => panic!("introspection answered {other}: {}", reply.body),
    }
}

/// A rotation may keep the old secret working for a grace period, so that running deployments
/// switch without downtime.
#[tokio::test]
async fn a_rotation_may_keep_the_old_secret_working_a_while() {
    let platform = spawn_platform().await;
    let (owner, _) = customer(&platform, "grace@example.com", "live").await;
    let created = create(&platform, &owner, web_app("Web")).await;
    let (id, first, issuer) = (
        created.str("id"),
        created.str("client_secret"),
        created.str("issuer"),
    );
    assert!(created.body["previous_secret_expires_at"].is_null());
    let one = format!("{}/{id}", applications(&owner, "live"));
    let grace = json!({ "grace_period_secs": 3600 });
    let kept = rotate(&platform, &one, &owner.token, Some(grace)).await;
    kept.assert_ok(200);
    let second = kept.str("client_secret");
    let expires = &kept.body["previous_secret_expires_at"];
    assert!(expires.is_string(), "{}", kept.body);
    let old_works = works(&platform, &issuer, &id, &first).await;
    assert!(old_works, "the old secret works during the grace period");
    assert!(works(&platform, &issuer, &id, &second).await);

    // No body: the previous secret ends at once.
    let ended = rotate(&platform, &one, &owner.token, None).await;
    ended.assert_ok(200);
    let third = ended.str("client_secret");
    assert!(!works(&platform, &issuer, &id, &second).await);
    assert!(!works(&platform, &issuer, &id, &first).await);
    assert!(works(&platform, &issuer, &id, &third).await);
    for body in [
        json!({ "grace_period_secs": 604_801 }),
        json!({ "grace_period_secs": -1 }),
        json!([]),
    ] {
        rotate(&platform, &one, &owner.token, Some(body))
            .await
            .assert_error(400, "invalid_request");
    }
    let still = works(&platform, &issuer, &id, &third).await;
    assert!(still, "a refused rotation changes nothing");
}

/// An application's secret outlives the session that makes it, so creating, changing and
/// rotating need a sign-in within the last 10 minutes.
#[tokio::test]
async fn minting_needs_a_recent_sign_in() {
    let platform = spawn_platform().await;
    let (owner, _) = customer(&platform, "recent@example.com", "live").await;
    let apps = applications(&owner, "live");
    let created = create(&platform, &owner, web_app("Web")).await;
    let (id, secret, issuer) = (
        created.str("id"),
        created.str("client_secret"),
        created.str("issuer"),
    );
    let one = format!("{apps}/{id}");

    // Eleven minutes on (the session itself is still valid): reading works, minting does not.
    platform.clock.advance(11 * 60);
    platform.get(&apps, &owner.token).await.assert_ok(200);
    platform
        .post(&apps, &owner.token, web_app("Stale"))
        .await
        .assert_error(403, "reauthentication_required");
    rotate(&platform, &one, &owner.token, None)
        .await
        .assert_error(403, "reauthentication_required");
    let evil = json!({ "redirect_uris": ["https://evil.example.com/cb"] });
    platform
        .patch(&one, &owner.token, evil)
        .await
        .assert_error(403, "reauthentication_required");
    assert!(works(&platform, &issuer, &id, &secret).await);
    let listed = platform.get(&apps, &owner.token).await;
    assert_eq!(listed.body["data"][0]["redirect_uris"], json!([REDIRECT]));
}
