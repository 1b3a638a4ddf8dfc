//! Organizations, organization context in tokens, roles, the guardrail and the permission
//! explainer.

use authstack_instance::config::InstanceConfig;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, Reply, spawn_app, spawn_app_with};

backend_tests!(
    organizations_are_created_read_updated_and_deleted,
    the_last_owner_can_neither_leave_nor_be_demoted,
    switching_puts_the_organization_into_access_tokens,
    the_permission_check_says_why,
    custom_roles_obey_the_guardrail,
    members_are_paginated_searched_and_capped,
    deleting_a_sole_owner_is_refused_but_members_may_go,
    plan_caps_hold_under_concurrent_requests,
);

fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).expect("jwt");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .expect("b64"),
    )
    .expect("claims")
}

async fn organizations_are_created_read_updated_and_deleted(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app
        .register("olga@example.com", "correct horse battery")
        .await
        .str("access_token");
    let created = app
        .post_as(
            "/v1/organizations",
            &owner,
            json!({ "name": "Acme, Inc.", "branding": { "primary_color": "#112233" } }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["slug"], "acme-inc");
    assert_eq!(created.body["role"], "owner");
    assert!(
        created.body["permissions"]
            .as_array()
            .expect("permissions")
            .contains(&json!("organization:delete"))
    );
    let id = created.str("id");

    for (body, status, code) in [
        (
            json!({ "name": "Acme", "slug": "acme-inc" }),
            409,
            "conflict",
        ),
        (json!({ "name": "" }), 400, "invalid_request"),
        (
            json!({ "name": "X", "slug": "Bad Slug" }),
            400,
            "invalid_request",
        ),
        (
            json!({ "name": "X", "logo_url": "javascript:alert(1)" }),
            400,
            "invalid_request",
        ),
        (
            json!({ "name": "X", "branding": { "primary_color": "red" } }),
            400,
            "invalid_request",
        ),
        (
            json!({ "name": "X", "settings": [1] }),
            400,
            "invalid_request",
        ),
        (
            json!({ "name": "X", "owner": "me" }),
            400,
            "invalid_request",
        ),
    ] {
        app.post_as("/v1/organizations", &owner, body)
            .await
            .assert_error(status, code);
    }
    app.post("/v1/organizations", json!({ "name": "X" }))
        .await
        .assert_error(401, "unauthorized");

    let mine = app.get_as("/v1/organizations", &owner).await;
    assert_eq!(mine.body["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(mine.body["data"][0]["role"], "owner");
    assert_eq!(
        app.get_as("/v1/me/organizations", &owner).await.body,
        mine.body
    );

    let path = format!("/v1/organizations/{id}");
    assert_eq!(app.get_as(&path, &owner).await.body["name"], "Acme, Inc.");
    let updated = app
        .patch_as(&path, &owner, json!({ "name": "Acme Corp", "logo_url": "https://cdn.example.com/a.png", "settings": { "sso": false } }))
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["name"], "Acme Corp");
    assert_eq!(
        updated.body["branding"]["primary_color"], "#112233",
        "absent fields stay"
    );
    let cleared = app
        .patch_as(&path, &owner, json!({ "logo_url": null }))
        .await;
    assert_eq!(cleared.body["logo_url"], Value::Null);
    let other = app.create_org(&owner, "Other").await;
    app.patch_as(
        &format!("/v1/organizations/{other}"),
        &owner,
        json!({ "slug": "acme-inc" }),
    )
    .await
    .assert_error(409, "conflict");
    app.patch_as(&path, &owner, json!({ "slug": "-bad" }))
        .await
        .assert_error(400, "invalid_request");

    // Deleting removes memberships, roles and invitations, and is audited.
    app.post_as(
        &format!("{path}/roles"),
        &owner,
        json!({ "key": "lead", "name": "Lead", "permissions": ["members:read"] }),
    )
    .await;
    app.post_as(
        &format!("{path}/invitations"),
        &owner,
        json!({ "email": "later@example.com" }),
    )
    .await;
    assert_eq!(app.delete_as(&path, &owner).await.status, 204);
    app.get_as(&path, &owner)
        .await
        .assert_error(404, "not_found");
    assert_eq!(
        app.get_as("/v1/organizations", &owner).await.body["data"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    let audit = app
        .get_as(
            &format!("/v1/admin/audit-logs?organization_id={id}&action=organization.deleted"),
            &app.admin_key,
        )
        .await;
    assert_eq!(
        audit.body["data"].as_array().map(Vec::len),
        Some(1),
        "{}",
        audit.body
    );
    let token = app.mailed_token("later@example.com", "invitation", 1).await;
    app.post(
        "/v1/invitations/accept",
        json!({ "token": token, "password": "correct horse battery" }),
    )
    .await
    .assert_error(400, "invalid_grant");
}

async fn the_last_owner_can_neither_leave_nor_be_demoted(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner_login = app
        .register("oscar@example.com", "correct horse battery")
        .await;
    let owner = owner_login.str("access_token");
    let owner_id = owner_login.user_id();
    let org = app.create_org(&owner, "Solo").await;
    app.post_as(&format!("/v1/organizations/{org}/leave"), &owner, json!({}))
        .await
        .assert_error(409, "conflict");
    app.patch_as(
        &format!("/v1/organizations/{org}/members/{owner_id}"),
        &owner,
        json!({ "role": "admin" }),
    )
    .await
    .assert_error(403, "forbidden");

    let admin = app
        .join_as_new_user(&org, &owner, "ada@example.com", "admin")
        .await;
    let admin_token = admin.access_token();
    // An admin cannot touch an owner: the owner holds permissions the admin does not.
    app.patch_as(
        &format!("/v1/organizations/{org}/members/{owner_id}"),
        &admin_token,
        json!({ "role": "member" }),
    )
    .await
    .assert_error(403, "forbidden");
    app.delete_as(
        &format!("/v1/organizations/{org}/members/{owner_id}"),
        &admin_token,
    )
    .await
    .assert_error(403, "forbidden");

    // With a second owner the first may leave; the second is then the last.
    let admin_id = admin.user_id();
    let promoted = app
        .patch_as(
            &format!("/v1/organizations/{org}/members/{admin_id}"),
            &owner,
            json!({ "role": "owner" }),
        )
        .await;
    assert_eq!(promoted.status, 200, "{}", promoted.body);
    assert_eq!(
        app.post_as(&format!("/v1/organizations/{org}/leave"), &owner, json!({}))
            .await
            .status,
        204
    );
    app.post_as(
        &format!("/v1/organizations/{org}/leave"),
        &admin_token,
        json!({}),
    )
    .await
    .assert_error(409, "conflict");
    app.get_as(&format!("/v1/organizations/{org}"), &owner)
        .await
        .assert_error(404, "not_found");
}

async fn switching_puts_the_organization_into_access_tokens(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app
        .register("pam@example.com", "correct horse battery")
        .await
        .str("access_token");
    let a = app.create_org(&owner, "Alpha").await;
    let b = app.create_org(&owner, "Beta").await;
    let joined = app
        .join_as_new_user(&a, &owner, "vic@example.com", "viewer")
        .await;
    // Joining through an invitation starts the session in that organization.
    let first = claims(&joined.access_token());
    assert_eq!(first["org_id"], a.as_str());
    let refresh = joined.body["session"]["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();

    let login = app.login("vic@example.com", "correct horse battery").await;
    assert!(
        claims(&login.str("access_token")).get("org_id").is_none(),
        "a plain login has no organization"
    );
    let switched = app
        .post_as(
            &format!("/v1/organizations/{a}/switch"),
            &login.str("access_token"),
            json!({}),
        )
        .await;
    assert_eq!(switched.status, 200, "{}", switched.body);
    let c = claims(&switched.str("access_token"));
    assert_eq!(c["org_id"], a.as_str());
    assert_eq!(c["org_slug"], "alpha");
    assert_eq!(c["org_role"], "viewer");
    assert_eq!(
        c["permissions"],
        json!(["members:read", "organization:read"])
    );
    assert_eq!(switched.body["role"], "viewer");

    // The context survives refresh.
    let refreshed = app
        .post(
            "/v1/auth/refresh",
            json!({ "refresh_token": login.str("refresh_token") }),
        )
        .await;
    assert_eq!(claims(&refreshed.str("access_token"))["org_id"], a.as_str());

    // Not a member of Beta: 404 everywhere, and nothing burned.
    app.post_as(
        &format!("/v1/organizations/{b}/switch"),
        &login.str("access_token"),
        json!({}),
    )
    .await
    .assert_error(404, "not_found");
    app.post(
        "/v1/auth/login",
        json!({ "email": "vic@example.com", "password": "correct horse battery", "org_id": b }),
    )
    .await
    .assert_error(404, "not_found");
    app.post(
        "/v1/auth/refresh",
        json!({ "refresh_token": refresh, "org_id": b }),
    )
    .await
    .assert_error(404, "not_found");
    let via_refresh = app
        .post(
            "/v1/auth/refresh",
            json!({ "refresh_token": refresh, "org_id": a }),
        )
        .await;
    assert_eq!(
        via_refresh.status, 200,
        "the failed switch did not use the token up: {}",
        via_refresh.body
    );
    let with_org = app
        .post(
            "/v1/auth/login",
            json!({ "email": "vic@example.com", "password": "correct horse battery", "org_id": a }),
        )
        .await;
    assert_eq!(claims(&with_org.str("access_token"))["org_role"], "viewer");

    // Once the membership ends, the next refresh drops the context.
    let vic_id = joined.user_id();
    assert_eq!(
        app.delete_as(&format!("/v1/organizations/{a}/members/{vic_id}"), &owner)
            .await
            .status,
        204
    );
    let after = app
        .post(
            "/v1/auth/refresh",
            json!({ "refresh_token": with_org.str("refresh_token") }),
        )
        .await;
    assert_eq!(after.status, 200);
    assert!(claims(&after.str("access_token")).get("org_id").is_none());
    app.post_as("/v1/organizations/org_nope/switch", &owner, json!({}))
        .await
        .assert_error(404, "not_found");
}

fn with_projects() -> InstanceConfig {
    let mut config = InstanceConfig::default();
    config.organizations.permissions = vec!["projects:create".into(), "projects:delete".into()];
    config.organizations.role_grants.admin = vec!["projects:create".into()];
    config.organizations.max_custom_roles_per_organization = Some(2);
    config
}

async fn the_permission_check_says_why(backend: Backend) {
    let app = spawn_app_with(backend, with_projects()).await;
    let owner = app
        .register("quinn@example.com", "correct horse battery")
        .await
        .str("access_token");
    let org = app.create_org(&owner, "Checks").await;
    let viewer = app
        .join_as_new_user(&org, &owner, "val@example.com", "viewer")
        .await;
    let viewer_token = viewer.access_token();
    let viewer_id = viewer.user_id();
    let check = |token: String, query: String| {
        let app = &app;
        let org = org.clone();
        async move {
            app.get_as(
                &format!("/v1/organizations/{org}/permissions/check?{query}"),
                &token,
            )
            .await
        }
    };

    let allowed = check(owner.clone(), "permission=projects:create".into()).await;
    assert_eq!(allowed.body["allowed"], true, "{}", allowed.body);
    assert_eq!(allowed.body["granted_by"], "owner");
    let denied = check(viewer_token.clone(), "permission=projects:create".into()).await;
    assert_eq!(denied.body["allowed"], false);
    assert_eq!(denied.body["role"], "viewer");
    let reason = denied.body["reason"].as_str().expect("reason");
    assert!(
        reason.contains("viewer") && reason.contains("owner") && reason.contains("admin"),
        "{reason}"
    );
    let about_viewer = check(
        owner.clone(),
        format!("permission=members:read&user_id={viewer_id}"),
    )
    .await;
    assert_eq!(about_viewer.body["allowed"], true);
    assert_eq!(about_viewer.body["user_id"], viewer_id.as_str());
    let unknown = check(owner.clone(), "permission=rockets:launch".into()).await;
    assert_eq!(unknown.body["allowed"], false);
    assert!(
        unknown.body["reason"]
            .as_str()
            .expect("reason")
            .contains("catalogue")
    );
    let stranger = check(
        owner.clone(),
        "permission=members:read&user_id=usr_nobody".into(),
    )
    .await;
    assert_eq!(stranger.body["allowed"], false);
    assert!(
        stranger.body["reason"]
            .as_str()
            .expect("reason")
            .contains("not a member")
    );
    check(owner.clone(), "permission=nope".into())
        .await
        .assert_error(400, "invalid_request");
    check(owner.clone(), "".into())
        .await
        .assert_error(400, "invalid_request");
}

async fn custom_roles_obey_the_guardrail(backend: Backend) {
    let app = spawn_app_with(backend, with_projects()).await;
    let owner = app
        .register("rita@example.com", "correct horse battery")
        .await
        .str("access_token");
    let org = app.create_org(&owner, "Guarded").await;
    let admin = app
        .join_as_new_user(&org, &owner, "adam@example.com", "admin")
        .await
        .access_token();
    let member_join = app
        .join_as_new_user(&org, &owner, "mo@example.com", "member")
        .await;
    let member = member_join.access_token();
    let member_id = member_join.user_id();
    let roles = format!("/v1/organizations/{org}/roles");

    // Nobody creates a role with a permission they do not hold.
    app.post_as(
        &roles,
        &admin,
        json!({ "key": "deleter", "name": "Deleter", "permissions": ["projects:delete"] }),
    )
    .await
    .assert_error(403, "forbidden");
    let lead = app.post_as(&roles, &admin, json!({ "key": "lead", "name": "Lead", "permissions": ["projects:create", "members:read"] })).await;
    assert_eq!(lead.status, 201, "{}", lead.body);
    let lead_id = lead.str("id");
    app.post_as(
        &roles,
        &member,
        json!({ "key": "x", "name": "X", "permissions": [] }),
    )
    .await
    .assert_error(403, "forbidden");
    for (body, status, code) in [
        (
            json!({ "key": "admin", "name": "A", "permissions": [] }),
            409,
            "conflict",
        ),
        (
            json!({ "key": "lead", "name": "A", "permissions": [] }),
            409,
            "conflict",
        ),
        (
            json!({ "key": "Bad Key", "name": "A", "permissions": [] }),
            400,
            "invalid_request",
        ),
        (
            json!({ "key": "ok", "name": "A", "permissions": ["rockets:launch"] }),
            400,
            "invalid_request",
        ),
        (
            json!({ "key": "ok", "name": "A", "permissions": ["nope"] }),
            400,
            "invalid_request",
        ),
        (json!({ "key": "ok", "name": "A" }), 400, "invalid_request"),
    ] {
        app.post_as(&roles, &owner, body)
            .await
            .assert_error(status, code);
    }

    // Nobody assigns a role (or invites with one) beyond their own permissions, or changes their own.
    let member_path = format!("/v1/organizations/{org}/members/{member_id}");
    app.patch_as(&member_path, &admin, json!({ "role": "owner" }))
        .await
        .assert_error(403, "forbidden");
    app.post_as(
        &format!("/v1/organizations/{org}/invitations"),
        &admin,
        json!({ "email": "boss@example.com", "role": "owner" }),
    )
    .await
    .assert_error(403, "forbidden");
    app.patch_as(&member_path, &member, json!({ "role": "viewer" }))
        .await
        .assert_error(403, "forbidden");
    app.patch_as(&member_path, &admin, json!({ "role": "ghost" }))
        .await
        .assert_error(400, "invalid_request");
    let assigned = app
        .patch_as(&member_path, &admin, json!({ "role": "lead" }))
        .await;
    assert_eq!(assigned.status, 200, "{}", assigned.body);
    assert_eq!(assigned.body["role"], "lead");

    // The member now works with the custom role's permissions.
    let switched = app
        .post_as(
            &format!("/v1/organizations/{org}/switch"),
            &member,
            json!({}),
        )
        .await;
    assert_eq!(
        claims(&switched.str("access_token"))["permissions"],
        json!(["members:read", "projects:create"])
    );
    // Role holders cannot edit their own role; the admin cannot add what they lack.
    let lead_path = format!("{roles}/{lead_id}");
    app.patch_as(
        &lead_path,
        &admin,
        json!({ "permissions": ["projects:delete"] }),
    )
    .await
    .assert_error(403, "forbidden");
    let changed = app
        .patch_as(
            &lead_path,
            &owner,
            json!({ "permissions": ["projects:create", "projects:delete", "members:read"] }),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    app.patch_as(&lead_path, &admin, json!({ "name": "Renamed" }))
        .await
        .assert_error(403, "forbidden");
    let listed = app.get_as(&roles, &member).await;
    assert_eq!(listed.status, 403, "lead lacks roles:read: {}", listed.body);
    let listed = app.get_as(&roles, &owner).await;
    let keys: Vec<&str> = listed.body["data"]
        .as_array()
        .expect("roles")
        .iter()
        .map(|r| r["key"].as_str().expect("key"))
        .collect();
    assert_eq!(keys, vec!["owner", "admin", "member", "viewer", "lead"]);

    // A role in use cannot be deleted; the plan limits custom roles.
    app.delete_as(&lead_path, &owner)
        .await
        .assert_error(409, "conflict");
    app.post_as(
        &roles,
        &owner,
        json!({ "key": "second", "name": "Second", "permissions": [] }),
    )
    .await;
    app.post_as(
        &roles,
        &owner,
        json!({ "key": "third", "name": "Third", "permissions": [] }),
    )
    .await
    .assert_error(403, "limit_exceeded");
    app.patch_as(&member_path, &owner, json!({ "role": "member" }))
        .await;
    assert_eq!(app.delete_as(&lead_path, &owner).await.status, 204);
    app.delete_as(&lead_path, &owner)
        .await
        .assert_error(404, "not_found");
    let catalogue = app
        .get_as(&format!("/v1/organizations/{org}/permissions"), &owner)
        .await;
    assert!(
        catalogue.body["data"]
            .as_array()
            .expect("data")
            .contains(&json!({ "name": "projects:create", "builtin": false }))
    );
}

async fn members_are_paginated_searched_and_capped(backend: Backend) {
    let mut config = InstanceConfig::default();
    config.organizations.max_members_per_organization = Some(4);
    config.organizations.max_organizations = Some(2);
    let app = spawn_app_with(backend, config).await;
    let owner = app
        .register("sid@example.com", "correct horse battery")
        .await
        .str("access_token");
    let org = app.create_org(&owner, "Capped").await;
    app.join_as_new_user(&org, &owner, "m1@example.com", "member")
        .await;
    app.join_as_new_user(&org, &owner, "m2@example.com", "viewer")
        .await;
    let invites = format!("/v1/organizations/{org}/invitations");
    let pending = app
        .post_as(&invites, &owner, json!({ "email": "m3@example.com" }))
        .await;
    assert_eq!(pending.status, 201);
    // Three members and one pending invitation fill the four seats.
    app.post_as(&invites, &owner, json!({ "email": "m4@example.com" }))
        .await
        .assert_error(403, "limit_exceeded");
    assert_eq!(
        app.delete_as(&format!("{invites}/{}", pending.str("id")), &owner)
            .await
            .status,
        204
    );
    assert_eq!(
        app.post_as(&invites, &owner, json!({ "email": "m4@example.com" }))
            .await
            .status,
        201
    );

    let members = format!("/v1/organizations/{org}/members");
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = app
            .get_as(&format!("{members}?limit=2{cursor}"), &owner)
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        seen.extend(
            page.body["data"]
                .as_array()
                .expect("data")
                .iter()
                .map(|m| m["user"]["email"].as_str().expect("email").to_owned()),
        );
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(
        seen,
        vec!["sid@example.com", "m1@example.com", "m2@example.com"],
        "join order"
    );
    let found = app.get_as(&format!("{members}?search=M2%40"), &owner).await;
    assert_eq!(found.body["data"].as_array().map(Vec::len), Some(1));
    let viewers = app.get_as(&format!("{members}?role=viewer"), &owner).await;
    assert_eq!(viewers.body["data"][0]["user"]["email"], "m2@example.com");
    for bad in ["limit=0", "limit=201", "sort=name"] {
        app.get_as(&format!("{members}?{bad}"), &owner)
            .await
            .assert_error(400, "invalid_request");
    }

    app.create_org(&owner, "Second").await;
    app.post_as("/v1/organizations", &owner, json!({ "name": "Third" }))
        .await
        .assert_error(403, "limit_exceeded");
}

async fn deleting_a_sole_owner_is_refused_but_members_may_go(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner_login = app
        .register("sole@example.com", "correct horse battery")
        .await;
    let owner = owner_login.str("access_token");
    let owner_id = owner_login.user_id();
    let org = app.create_org(&owner, "Owned").await;
    let member = app
        .join_as_new_user(&org, &owner, "goer@example.com", "member")
        .await;
    let member_token = member.access_token();

    let delete_me = |token: String| {
        let request = app
            .http
            .delete(app.url("/v1/me"))
            .bearer_auth(token)
            .json(&json!({ "password": "correct horse battery" }));
        async move { Reply::from(request.send().await.expect("send")).await }
    };
    delete_me(owner.clone()).await.assert_error(409, "conflict");
    app.delete_as(&format!("/v1/admin/users/{owner_id}"), &app.admin_key)
        .await
        .assert_error(409, "conflict");
    // A member may delete their account; the membership goes with it.
    assert_eq!(delete_me(member_token).await.status, 204);
    let members = app
        .get_as(&format!("/v1/organizations/{org}/members"), &owner)
        .await;
    assert_eq!(members.body["data"].as_array().map(Vec::len), Some(1));
    // Once the organization is gone, so is the obstacle.
    assert_eq!(
        app.delete_as(&format!("/v1/organizations/{org}"), &owner)
            .await
            .status,
        204
    );
    assert_eq!(delete_me(owner).await.status, 204);
}

async fn plan_caps_hold_under_concurrent_requests(backend: Backend) {
    let mut config = InstanceConfig::default();
    config.organizations.max_organizations = Some(3);
    config.organizations.max_members_per_organization = Some(4);
    let app = spawn_app_with(backend, config).await;
    let owner = app
        .register("race@example.com", "correct horse battery")
        .await
        .str("access_token");
    let org = app.create_org(&owner, "Racing").await;
    let send = |path: String, body: serde_json::Value| {
        let request = app
            .http
            .post(app.url(&path))
            .bearer_auth(&owner)
            .json(&body);
        tokio::spawn(async move { request.send().await.expect("send").status().as_u16() })
    };
    // Two organizations left under the cap, eight concurrent attempts.
    let creates: Vec<_> = (0..8)
        .map(|i| {
            send(
                "/v1/organizations".into(),
                json!({ "name": format!("Org {i}") }),
            )
        })
        .collect();
    // Three seats left (owner holds one), eight concurrent invitations.
    let invites: Vec<_> = (0..8)
        .map(|i| {
            send(
                format!("/v1/organizations/{org}/invitations"),
                json!({ "email": format!("r{i}@example.com") }),
            )
        })
        .collect();
    let mut created = 0;
    for handle in creates {
        created += usize::from(handle.await.expect("task") == 201);
    }
    let mut invited = 0;
    for handle in invites {
        invited += usize::from(handle.await.expect("task") == 201);
    }
    assert_eq!(created, 2, "organizations beyond the cap were created");
    assert_eq!(invited, 3, "invitations beyond the seat cap were sent");
}
