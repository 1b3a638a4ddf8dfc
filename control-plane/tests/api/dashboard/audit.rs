//! The account's audit log: filters by action prefix, actor and time, cursor pages, exports,
//! and nothing for another account.
//!
//! - `the_audit_log_filters_by_action_prefix_and_actor`
//! - `the_audit_log_filters_by_time_and_refuses_bad_filters`
//! - `cursor_pages_cover_the_same_events_once_each`
//! - `exports_apply_the_same_filters_as_a_file`
//! - `another_accounts_owner_sees_none_of_it`

use authstack_instance::clock::rfc3339;

use crate::helpers::{Owner, Reply, TestPlatform, spawn_platform};

/// A subscribed owner who created two test keys and revoked the first: three `key.` events.
async fn audited(email: &str) -> (TestPlatform, Owner) {
    let platform = spawn_platform().await;
    let owner = platform.owner(email).await;
    platform.subscribe(&owner, "starter").await;
    let first = platform.create_key(&owner, "test", "publishable").await;
    platform.create_key(&owner, "test", "secret").await;
    let id = first["id"].as_str().expect("key id");
    platform
        .delete(&owner.account(&format!("/keys/{id}")), &owner.token)
        .await;
    (platform, owner)
}

/// The audit log with `query`.
async fn page(platform: &TestPlatform, owner: &Owner, query: &str) -> Reply {
    let path = owner.account(&format!("/audit-logs?{query}"));
    platform.get(&path, &owner.token).await
}

fn actions(reply: &Reply) -> Vec<String> {
    reply.body["data"]
        .as_array()
        .expect("a page")
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn the_audit_log_filters_by_action_prefix_and_actor() {
    let (platform, owner) = audited("auditor@example.com").await;
    let keys = page(&platform, &owner, "action=key.").await;
    keys.assert_ok(200);
    assert_eq!(
        actions(&keys),
        ["key.revoked", "key.created", "key.created"],
        "newest first, by action prefix"
    );
    let created = page(&platform, &owner, "action=key.created").await;
    assert_eq!(actions(&created).len(), 2);
    // `%` and `_` are not wildcards in the prefix.
    assert!(actions(&page(&platform, &owner, "action=%25").await).is_empty());

    let actor = keys.body["data"][0]["actor"].as_str().expect("an actor");
    assert!(actor.starts_with("user:"), "{actor}");
    let mine = page(&platform, &owner, &format!("actor={actor}")).await;
    assert!(
        mine.body["data"]
            .as_array()
            .is_some_and(|d| !d.is_empty() && d.iter().all(|e| e["actor"] == actor)),
        "{}",
        mine.body
    );
    let nobody = page(&platform, &owner, "actor=user:usr_nobody").await;
    assert!(actions(&nobody).is_empty());
}

#[tokio::test]
async fn the_audit_log_filters_by_time_and_refuses_bad_filters() {
    let (platform, owner) = audited("timed@example.com").await;
    let now = platform.clock.now();
    let since = rfc3339(now - 3600);
    let later = rfc3339(now + 3600);
    let within = format!("action=key.&since={since}&until={later}");
    assert_eq!(actions(&page(&platform, &owner, &within).await).len(), 3);
    let after = page(&platform, &owner, &format!("since={later}")).await;
    assert!(actions(&after).is_empty());
    let before = page(&platform, &owner, "until=2000-01-01T00:00:00Z").await;
    assert!(actions(&before).is_empty());
    // A bound that is present must be a timestamp, an empty one included (schemathesis).
    for bad in ["since=yesterday", "until=", "format=xml", "colour=blue"] {
        page(&platform, &owner, bad)
            .await
            .assert_error(400, "invalid_request");
    }
}

#[tokio::test]
async fn cursor_pages_cover_the_same_events_once_each() {
    let (platform, owner) = audited("pages@example.com").await;
    let first = page(&platform, &owner, "action=key.&limit=2").await;
    assert_eq!(actions(&first).len(), 2);
    let cursor = first.str("next_cursor");
    let query = format!("action=key.&limit=2&cursor={cursor}");
    let rest = page(&platform, &owner, &query).await;
    assert_eq!(actions(&rest), ["key.created"]);
    assert_eq!(rest.body["next_cursor"], serde_json::Value::Null);
}

#[tokio::test]
async fn exports_apply_the_same_filters_as_a_file() {
    let (platform, owner) = audited("exports@example.com").await;
    let path = owner.account("/audit-logs?action=key.&format=csv");
    let csv = platform
        .client
        .get(format!("{}{path}", platform.cp))
        .bearer_auth(&owner.token)
        .send()
        .await
        .expect("csv export");
    assert_eq!(csv.status(), 200);
    let header = |name: &str| csv.headers()[name].to_str().unwrap_or_default().to_owned();
    assert!(header("content-type").starts_with("text/csv"));
    let disposition = header("content-disposition");
    assert!(
        disposition.starts_with("attachment; filename=\"authstack-audit-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
    let text = csv.text().await.expect("csv body");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "id,at,account_id,actor,action,target,detail");
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[1].contains(",\"key.revoked\","), "{text}");
    let json_export = page(&platform, &owner, "action=key.created&format=json").await;
    json_export.assert_ok(200);
    assert_eq!(json_export.body.as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn another_accounts_owner_sees_none_of_it() {
    let (platform, owner) = audited("watched@example.com").await;
    let stranger = platform.owner("snoop@example.com").await;
    let denied = platform
        .get(&owner.account("/audit-logs"), &stranger.token)
        .await;
    let refused = denied.status == 403 || denied.status == 404;
    assert!(refused, "{}", denied.body);
}
