//! The organization audit log: every organization event recorded, filters, pagination,
//! exports, and retention.

use authstack_instance::config::InstanceConfig;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, spawn_app, spawn_app_with};

backend_tests!(
    every_organization_event_is_audited_and_filterable,
    audit_logs_export_as_jsonl_and_csv,
    audit_events_expire_after_the_retention
);

async fn every_organization_event_is_audited_and_filterable(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner_login = app
        .register("ora@example.com", "correct horse battery")
        .await;
    let owner = owner_login.str("access_token");
    let owner_id = owner_login.user_id();
    let org = app.create_org(&owner, "Audited").await;
    let o = format!("/v1/organizations/{org}");
    app.patch_as(&o, &owner, json!({ "name": "Audited Inc" }))
        .await;
    let joined = app
        .join_as_new_user(&org, &owner, "amy@example.com", "member")
        .await;
    let amy = joined.user_id();
    app.patch_as(
        &format!("{o}/members/{amy}"),
        &owner,
        json!({ "role": "viewer" }),
    )
    .await;
    let role = app
        .post_as(
            &format!("{o}/roles"),
            &owner,
            json!({ "key": "ops", "name": "Ops", "permissions": [] }),
        )
        .await
        .str("id");
    app.patch_as(
        &format!("{o}/roles/{role}"),
        &owner,
        json!({ "permissions": ["members:read"] }),
    )
    .await;
    app.delete_as(&format!("{o}/roles/{role}"), &owner).await;
    let invitation = app
        .post_as(
            &format!("{o}/invitations"),
            &owner,
            json!({ "email": "cy@example.com" }),
        )
        .await
        .str("id");
    app.delete_as(&format!("{o}/invitations/{invitation}"), &owner)
        .await;
    app.delete_as(&format!("{o}/members/{amy}"), &owner).await;
    let outsider = app
        .register("out@example.com", "correct horse battery")
        .await
        .str("access_token");
    app.get_as(&o, &outsider).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    let all = app
        .get_as(&format!("{o}/audit-logs?limit=200"), &owner)
        .await;
    assert_eq!(all.status, 200, "{}", all.body);
    let events = all.body["data"].as_array().expect("data").clone();
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    for expected in [
        "organization.created",
        "organization.updated",
        "organization.invitation_sent",
        "organization.invitation_accepted",
        "organization.member_added",
        "organization.role_changed",
        "organization.role_created",
        "organization.role_changed_permissions",
        "organization.role_deleted",
        "organization.invitation_cancelled",
        "organization.member_removed",
        "organization.access_denied",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
    assert!(events.iter().all(|e| e["organization_id"] == org.as_str()));
    let changed = events
        .iter()
        .find(|e| e["action"] == "organization.role_changed")
        .expect("role change");
    assert_eq!(changed["actor_id"], owner_id.as_str());
    assert_eq!(changed["target_id"], amy.as_str());
    assert_eq!(changed["data"], json!({ "from": "member", "to": "viewer" }));
    assert_eq!(changed["ip"], "127.0.0.1");
    assert!(changed["user_agent"].is_string() || changed["user_agent"].is_null());

    // Filters: action, actor, time range; cursor pagination.
    let only = app
        .get_as(
            &format!("{o}/audit-logs?action=organization.role_created"),
            &owner,
        )
        .await;
    assert_eq!(only.body["data"].as_array().map(Vec::len), Some(1));
    let by_actor = app
        .get_as(&format!("{o}/audit-logs?actor_id={amy}&limit=200"), &owner)
        .await;
    assert!(
        by_actor.body["data"]
            .as_array()
            .expect("data")
            .iter()
            .all(|e| e["actor_id"] == amy.as_str())
    );
    let now = time::OffsetDateTime::from_unix_timestamp(app.clock.now()).expect("now");
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .expect("format")
            .replace('+', "%2B")
    };
    let future = app
        .get_as(
            &format!(
                "{o}/audit-logs?since={}",
                fmt(now + time::Duration::hours(1))
            ),
            &owner,
        )
        .await;
    assert_eq!(future.body["data"].as_array().map(Vec::len), Some(0));
    let past = app
        .get_as(
            &format!(
                "{o}/audit-logs?until={}",
                fmt(now - time::Duration::hours(1))
            ),
            &owner,
        )
        .await;
    assert_eq!(past.body["data"].as_array().map(Vec::len), Some(0));
    let window = app
        .get_as(
            &format!(
                "{o}/audit-logs?since={}&until={}&limit=200",
                fmt(now - time::Duration::hours(1)),
                fmt(now + time::Duration::hours(1))
            ),
            &owner,
        )
        .await;
    assert_eq!(
        window.body["data"].as_array().map(Vec::len),
        Some(events.len())
    );
    let mut paged: Vec<Value> = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app
            .get_as(&format!("{o}/audit-logs?limit=3{cursor}"), &owner)
            .await;
        paged.extend(page.body["data"].as_array().expect("data").iter().cloned());
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(paged, events);
    for bad in [
        "since=yesterday",
        "limit=0",
        "limit=201",
        "format=xml",
        "organization_id=org_x",
        "who=me",
    ] {
        app.get_as(&format!("{o}/audit-logs?{bad}"), &owner)
            .await
            .assert_error(400, "invalid_request");
    }
    // Reading the log needs audit:read; the instance-wide view filters by organization.
    let viewer = app
        .join_as_new_user(&org, &owner, "vee@example.com", "viewer")
        .await;
    app.get_as(&format!("{o}/audit-logs"), &viewer.access_token())
        .await
        .assert_error(403, "forbidden");
    let instance_wide = app
        .get_as(
            &format!("/v1/admin/audit-logs?organization_id={org}&action=organization.created"),
            &app.admin_key,
        )
        .await;
    assert_eq!(instance_wide.body["data"].as_array().map(Vec::len), Some(1));
}

async fn audit_logs_export_as_jsonl_and_csv(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app
        .register("exp@example.com", "correct horse battery")
        .await
        .str("access_token");
    let org = app.create_org(&owner, "=HYPERLINK(\"x\")").await;
    app.patch_as(
        &format!("/v1/organizations/{org}"),
        &owner,
        json!({ "settings": { "a": 1 } }),
    )
    .await;
    let get = |query: &'static str| {
        let request = app
            .http
            .get(app.url(&format!("/v1/organizations/{org}/audit-logs?{query}")))
            .bearer_auth(&owner);
        async move { request.send().await.expect("send") }
    };
    let jsonl = get("format=jsonl").await;
    assert_eq!(jsonl.headers()["content-type"], "application/x-ndjson");
    let text = jsonl.text().await.expect("body");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["action"], "organization.updated");

    let csv = get("format=csv&limit=1").await;
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let next = csv
        .headers()
        .get("x-next-cursor")
        .expect("a next cursor")
        .to_str()
        .expect("ascii")
        .to_owned();
    let text = csv.text().await.expect("body");
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(
        rows[0],
        "id,occurred_at,action,actor_id,target_id,organization_id,ip,user_agent,data"
    );
    assert_eq!(rows.len(), 2);
    assert!(rows[1].contains("\"organization.updated\""));
    let rest = app
        .http
        .get(app.url(&format!(
            "/v1/organizations/{org}/audit-logs?format=csv&cursor={next}"
        )))
        .bearer_auth(&owner)
        .send()
        .await
        .expect("send");
    assert!(rest.headers().get("x-next-cursor").is_none());
    assert!(
        rest.text()
            .await
            .expect("body")
            .contains("organization.created")
    );
}

async fn audit_events_expire_after_the_retention(backend: Backend) {
    let mut config = InstanceConfig::default();
    config.audit.retention_days = 30;
    let app = spawn_app_with(backend, config).await;
    let owner = app
        .register("ret@example.com", "correct horse battery")
        .await
        .str("access_token");
    let org = app.create_org(&owner, "Retained").await;
    app.clock.advance(20 * 24 * 3600);
    let owner = app
        .login("ret@example.com", "correct horse battery")
        .await
        .str("access_token");
    app.patch_as(
        &format!("/v1/organizations/{org}"),
        &owner,
        json!({ "name": "Renamed" }),
    )
    .await;
    app.clock.advance(11 * 24 * 3600);
    let removed = authstack_instance::audit::enforce_retention(&app.app)
        .await
        .expect("prune");
    assert!(
        removed >= 2,
        "the signup-era events are past 30 days: {removed}"
    );
    let owner = app
        .login("ret@example.com", "correct horse battery")
        .await
        .str("access_token");
    let left = app
        .get_as(&format!("/v1/organizations/{org}/audit-logs"), &owner)
        .await;
    let actions: Vec<&str> = left.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    assert_eq!(
        actions,
        vec!["organization.updated"],
        "the creation is past retention, the rename is not"
    );
}
