//! The control plane authorizes against the platform's live state, not only the token: a
//! teammate removed from the account, or signed out everywhere, loses their rights within
//! seconds although their access token has not expired; minting a secret key needs a recent
//! sign-in.
//!
//! - `a_removed_teammate_loses_access_before_the_token_expires`
//! - `signing_out_everywhere_ends_control_plane_access`
//! - `secret_keys_need_a_recent_sign_in`
//! - `keys_name_their_maker_and_flag_those_of_members_who_left`

use std::time::{Duration, Instant};

use authstack_control_plane::platform::LIVE_TTL;
use reqwest::Method;
use serde_json::{Value, json};

use crate::accounts::join_as;
use crate::helpers::{Owner, Reply, TestPlatform, spawn_platform};

/// Polls `probe` until it answers `status`; returns how long that took (at most `LIVE_TTL`
/// and a second of slack, or the test fails).
async fn answers_within(status: u16, mut probe: impl AsyncFnMut() -> Reply) -> (Duration, Reply) {
    let started = Instant::now();
    loop {
        let reply = probe().await;
        if reply.status == status {
            return (started.elapsed(), reply);
        }
        assert!(
            started.elapsed() < LIVE_TTL + Duration::from_secs(1),
            "still {} after {:?}: {}",
            reply.status,
            started.elapsed(),
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn member_id(platform: &TestPlatform, token: &str) -> String {
    platform
        .via_key(
            Method::GET,
            "/v1/me",
            &platform.platform_key,
            Some(token),
            None,
        )
        .await
        .str("id")
}

/// The owner removes the member whose token is `member` from the account; their user id.
async fn remove_member(platform: &TestPlatform, owner: &Owner, member: &str) -> String {
    let user_id = member_id(platform, member).await;
    platform
        .via_key(
            Method::DELETE,
            &format!(
                "/v1/organizations/{}/members/{user_id}",
                owner.organization_id
            ),
            &platform.platform_key,
            Some(&owner.token),
            None,
        )
        .await
        .assert_ok(204);
    user_id
}

#[tokio::test]
async fn a_removed_teammate_loses_access_before_the_token_expires() {
    let platform = spawn_platform().await;
    let owner = platform.owner("live-owner@example.com").await;
    let admin = join_as(&platform, &owner, "live-admin@example.com", "admin").await;
    let keys = format!("/v1/accounts/{}/keys", owner.account_id);
    platform.get(&keys, &admin).await.assert_ok(200);
    remove_member(&platform, &owner, &admin).await;
    // The access token is still valid for minutes; the control plane asks the platform.
    let (took, reply) = answers_within(403, async || platform.get(&keys, &admin).await).await;
    assert_eq!(reply.body["error"], "forbidden", "{}", reply.body);
    assert!(took <= LIVE_TTL + Duration::from_secs(1), "{took:?}");
    // Nor can they mint a key that would outlive them.
    platform
        .post(
            &keys,
            &admin,
            json!({ "name": "after leaving", "environment": "live", "kind": "secret" }),
        )
        .await
        .assert_error(403, "forbidden");
}

#[tokio::test]
async fn signing_out_everywhere_ends_control_plane_access() {
    let platform = spawn_platform().await;
    let owner = platform.owner("everywhere@example.com").await;
    let account = format!("/v1/accounts/{}", owner.account_id);
    platform.get(&account, &owner.token).await.assert_ok(200);
    platform
        .via_key(
            Method::POST,
            "/v1/auth/logout",
            &platform.platform_key,
            Some(&owner.token),
            Some(json!({ "scope": "global" })),
        )
        .await;
    let (_, reply) = answers_within(401, async || platform.get(&account, &owner.token).await).await;
    assert_eq!(reply.body["error"], "unauthorized", "{}", reply.body);
}

#[tokio::test]
async fn secret_keys_need_a_recent_sign_in() {
    let platform = spawn_platform().await;
    let owner = platform.owner("recent@example.com").await;
    platform.subscribe(&owner, "starter").await;
    let keys = format!("/v1/accounts/{}/keys", owner.account_id);
    let secret = |name: &str| json!({ "name": name, "environment": "live", "kind": "secret" });
    let made = platform.post(&keys, &owner.token, secret("fresh")).await;
    made.assert_ok(201);
    let key_id = made.str("id");
    // Eleven minutes later (the platform session is still valid), the same session may read
    // and make publishable keys, but not mint or rotate secret ones.
    platform.clock.advance(11 * 60);
    platform
        .post(&keys, &owner.token, secret("stale"))
        .await
        .assert_error(403, "reauthentication_required");
    platform
        .post_empty(&format!("{keys}/{key_id}/rotate"), &owner.token)
        .await
        .assert_error(403, "reauthentication_required");
    let publishable: Value =
        json!({ "name": "browser", "environment": "live", "kind": "publishable" });
    platform
        .post(&keys, &owner.token, publishable)
        .await
        .assert_ok(201);
}

/// A key outlives its maker's access: the list names who made each key and flags the keys of
/// members who have since left, so they can be rotated or revoked.
#[tokio::test]
async fn keys_name_their_maker_and_flag_those_of_members_who_left() {
    let platform = spawn_platform().await;
    let owner = platform.owner("makers-owner@example.com").await;
    platform.subscribe(&owner, "starter").await;
    let admin = join_as(&platform, &owner, "makers-admin@example.com", "admin").await;
    let keys = format!("/v1/accounts/{}/keys", owner.account_id);
    let secret = |name: &str| json!({ "name": name, "environment": "live", "kind": "secret" });
    let theirs = platform
        .post(&keys, &admin, secret("made by the admin"))
        .await;
    theirs.assert_ok(201);
    assert_eq!(
        theirs.body["created_by"]["email"], "makers-admin@example.com",
        "{}",
        theirs.body
    );
    let mine = platform
        .post(&keys, &owner.token, secret("made by the owner"))
        .await;
    mine.assert_ok(201);
    let listed = |body: &Value, id: &str| {
        body["data"]
            .as_array()
            .and_then(|keys| keys.iter().find(|k| k["id"] == id).cloned())
            .unwrap_or_else(|| panic!("{id} listed in {body}"))
    };
    let before = platform.get(&keys, &owner.token).await;
    before.assert_ok(200);
    assert_eq!(
        listed(&before.body, &theirs.str("id"))["created_by"]["member"],
        true
    );

    let user_id = remove_member(&platform, &owner, &admin).await;
    let after = platform.get(&keys, &owner.token).await;
    after.assert_ok(200);
    let left = listed(&after.body, &theirs.str("id"));
    assert_eq!(left["created_by"]["user_id"], user_id.as_str(), "{left}");
    assert_eq!(left["created_by"]["email"], "makers-admin@example.com");
    assert_eq!(left["created_by"]["member"], false, "{left}");
    let stays = listed(&after.body, &mine.str("id"));
    assert_eq!(stays["created_by"]["member"], true, "{stays}");
    // The key still works until someone acts on the flag; revoking it is one call.
    platform
        .delete(&format!("{keys}/{}", theirs.str("id")), &owner.token)
        .await
        .assert_ok(204);
}
