//! Organization API keys (`ask_org_…`): shown once, no more than the creator's permissions,
//! refused alike when revoked, expired or of a deleted organization, exchanged for an access
//! token that verifies against the JWKS, and every use audited. (Other organizations refusing
//! a key: `isolation.rs`.)

use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, Reply, TestApp, spawn_app};
use crate::tokens::verify_like_a_customer;

backend_tests!(
    a_key_is_shown_once_and_acts_with_exactly_its_permissions,
    a_key_cannot_exceed_its_creators_permissions,
    revoked_expired_and_deleted_keys_are_refused_alike,
    an_exchanged_token_verifies_against_the_jwks_and_acts_on_org_routes,
    last_used_at_is_written_at_most_once_a_minute,
);

/// Creates a key in `org` as `token`'s user; returns the whole reply.
async fn create_key(app: &TestApp, org: &str, token: &str, body: Value) -> Reply {
    app.post_as(&format!("/v1/organizations/{org}/api-keys"), token, body)
        .await
}

async fn owner_and_org(app: &TestApp, email: &str) -> (String, String) {
    let owner = app
        .register(email, "correct horse battery")
        .await
        .str("access_token");
    let org = app.create_org(&owner, "Keyed").await;
    (owner, org)
}

fn key_of(reply: &Reply) -> (String, String) {
    assert_eq!(reply.status, 201, "{}", reply.body);
    (
        reply.str("key"),
        reply.body["api_key"]["id"].as_str().expect("id").to_owned(),
    )
}

async fn audit(app: &TestApp, org: &str, owner: &str, query: &str) -> Vec<Value> {
    app.get_as(
        &format!("/v1/organizations/{org}/audit-logs?{query}&limit=200"),
        owner,
    )
    .await
    .body["data"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

async fn a_key_is_shown_once_and_acts_with_exactly_its_permissions(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, org) = owner_and_org(&app, "kim@example.com").await;
    let created = create_key(
        &app,
        &org,
        &owner,
        json!({ "name": "CI", "permissions": ["organization:read", "members:read"] }),
    )
    .await;
    let (key, key_id) = key_of(&created);
    assert!(key.starts_with("ask_org_") && key.len() == "ask_org_".len() + 43);
    assert!(key_id.starts_with("orgkey_"));
    assert_eq!(created.body["api_key"]["prefix"], "ask_org_");
    assert!(
        key.ends_with(
            created.body["api_key"]["last_four"]
                .as_str()
                .expect("last4")
        )
    );

    // Listed without the key, ever again.
    let list = app
        .get_as(&format!("/v1/organizations/{org}/api-keys"), &owner)
        .await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert!(!list.body.to_string().contains(&key));
    let listed = &list.body["data"][0];
    assert_eq!(listed["id"], key_id.as_str());
    assert_eq!(listed["name"], "CI");
    assert_eq!(
        listed["permissions"],
        json!(["members:read", "organization:read"])
    );
    assert!(
        listed["created_by"]
            .as_str()
            .is_some_and(|u| u.starts_with("usr_"))
    );
    assert!(listed["revoked_at"].is_null() && listed["expires_at"].is_null());

    // Exactly its permissions on the organization's routes.
    let o = format!("/v1/organizations/{org}");
    let seen = app.get_as(&o, &key).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert_eq!(
        seen.body["permissions"],
        json!(["members:read", "organization:read"])
    );
    assert_eq!(app.get_as(&format!("{o}/members"), &key).await.status, 200);
    let refused = app.patch_as(&o, &key, json!({ "name": "Renamed" })).await;
    refused.assert_error(403, "forbidden");
    assert!(
        refused.body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("organization:update")
    );
    app.get_as(&format!("{o}/api-keys"), &key)
        .await
        .assert_error(403, "forbidden");
    let check = app
        .get_as(
            &format!("{o}/permissions/check?permission=members:read"),
            &key,
        )
        .await;
    assert_eq!(check.body["allowed"], true, "{}", check.body);
    assert_eq!(check.body["user_id"], key_id.as_str());
    // What only a person does: refused in its own organization, and on user routes.
    app.post_as(&format!("{o}/switch"), &key, json!({}))
        .await
        .assert_error(403, "forbidden");
    app.post_as(&format!("{o}/leave"), &key, json!({}))
        .await
        .assert_error(403, "forbidden");
    app.get_as("/v1/me", &key)
        .await
        .assert_error(401, "unauthorized");

    // Every use is audited with the key as actor; creation too. The key itself is never logged.
    let used = audit(&app, &org, &owner, "action=organization.api_key.used").await;
    assert_eq!(used.len(), 7, "{used:?}");
    assert!(used.iter().all(|e| e["actor_id"] == key_id.as_str()));
    assert!(
        used.iter()
            .any(|e| e["data"]["path"] == format!("{o}/members").as_str())
    );
    let made = audit(&app, &org, &owner, "action=organization.api_key.created").await;
    assert_eq!(made.len(), 1);
    assert_eq!(made[0]["target_id"], key_id.as_str());
    let everything = app
        .get_as("/v1/admin/audit-logs?limit=500", &app.admin_key)
        .await;
    assert!(!everything.body.to_string().contains(&key));
}

async fn a_key_cannot_exceed_its_creators_permissions(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, org) = owner_and_org(&app, "olga@example.com").await;
    let admin = app
        .join_as_new_user(&org, &owner, "adam@example.com", "admin")
        .await
        .access_token();
    let member = app
        .join_as_new_user(&org, &owner, "mia@example.com", "member")
        .await
        .access_token();

    // The admin manages keys but holds neither organization:delete nor billing:manage.
    let refused = create_key(
        &app,
        &org,
        &admin,
        json!({ "name": "Too much", "permissions": ["members:read", "organization:delete"] }),
    )
    .await;
    refused.assert_error(403, "forbidden");
    let message = refused.body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("organization:delete") && !message.contains("members:read"),
        "{message}"
    );
    let (_, _) = key_of(
        &create_key(
            &app,
            &org,
            &admin,
            json!({ "name": "Enough", "permissions": ["members:read", "api_keys:manage"] }),
        )
        .await,
    );
    // Nobody holds a permission outside the catalogue, the owner neither: the same refusal.
    let unknown = create_key(
        &app,
        &org,
        &owner,
        json!({ "name": "Unknown", "permissions": ["reports:export"] }),
    )
    .await;
    unknown.assert_error(403, "forbidden");
    assert!(
        unknown.body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("`reports:export` is not in the permission catalogue"),
        "{}",
        unknown.body
    );
    // The owner holds everything.
    let (manager, _) = key_of(
        &create_key(
            &app,
            &org,
            &owner,
            json!({ "name": "Owner's", "permissions": ["organization:delete", "api_keys:manage"] }),
        )
        .await,
    );
    // A member may not manage keys at all; a key may not mint keys, whatever it holds.
    create_key(
        &app,
        &org,
        &member,
        json!({ "name": "M", "permissions": [] }),
    )
    .await
    .assert_error(403, "forbidden");
    create_key(
        &app,
        &org,
        &manager,
        json!({ "name": "K", "permissions": [] }),
    )
    .await
    .assert_error(403, "forbidden");
    create_key(
        &app,
        &org,
        &owner,
        json!({ "name": "Typo", "permissions": ["memebrs:read"] }),
    )
    .await
    .assert_error(403, "forbidden");
    create_key(
        &app,
        &org,
        &owner,
        json!({ "name": "Short", "permissions": [], "expires_in_secs": 5 }),
    )
    .await
    .assert_error(400, "invalid_request");
    // The key with api_keys:manage lists keys: no secrets in the list.
    let list = app
        .get_as(&format!("/v1/organizations/{org}/api-keys"), &manager)
        .await;
    assert_eq!(
        list.body["data"].as_array().map(Vec::len),
        Some(2),
        "{}",
        list.body
    );
}

async fn revoked_expired_and_deleted_keys_are_refused_alike(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, org) = owner_and_org(&app, "rita@example.com").await;
    let read = json!({ "name": "R", "permissions": ["organization:read"] });
    let (revoked, revoked_id) = key_of(&create_key(&app, &org, &owner, read.clone()).await);
    let token = app
        .post_as("/v1/organization-api-keys/token", &revoked, json!({}))
        .await
        .str("access_token");
    let o = format!("/v1/organizations/{org}");
    assert_eq!(app.get_as(&o, &revoked).await.status, 200);
    assert_eq!(app.get_as(&o, &token).await.status, 200);
    let revoke = format!("{o}/api-keys/{revoked_id}");
    assert_eq!(app.delete_as(&revoke, &owner).await.status, 204);
    app.delete_as(&revoke, &owner)
        .await
        .assert_error(409, "conflict");
    let unknown = app
        .get_as(&o, "ask_org_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await;
    unknown.assert_error(401, "invalid_key");
    let after = app.get_as(&o, &revoked).await;
    assert_eq!((after.status, &after.body), (401, &unknown.body));
    let minted = app.get_as(&o, &token).await;
    assert_eq!((minted.status, &minted.body), (401, &unknown.body));
    let revoked_at =
        app.get_as(&format!("{o}/api-keys"), &owner).await.body["data"][0]["revoked_at"].clone();
    assert!(revoked_at.is_string(), "{revoked_at}");
    let events = audit(&app, &org, &owner, "action=organization.api_key.revoked").await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["target_id"], revoked_id.as_str());

    // Expired.
    let (expiring, _) = key_of(
        &create_key(
            &app,
            &org,
            &owner,
            json!({ "name": "E", "permissions": ["organization:read"], "expires_in_secs": 120 }),
        )
        .await,
    );
    assert_eq!(app.get_as(&o, &expiring).await.status, 200);
    app.clock.advance(121);
    let expired = app.get_as(&o, &expiring).await;
    assert_eq!((expired.status, &expired.body), (401, &unknown.body));

    // Its organization deleted.
    let owner = app
        .login("rita@example.com", "correct horse battery")
        .await
        .str("access_token");
    let doomed = app.create_org(&owner, "Doomed").await;
    let (orphan, _) = key_of(&create_key(&app, &doomed, &owner, read).await);
    let d = format!("/v1/organizations/{doomed}");
    assert_eq!(app.get_as(&d, &orphan).await.status, 200);
    assert_eq!(app.delete_as(&d, &owner).await.status, 204);
    let gone = app.get_as(&d, &orphan).await;
    assert_eq!((gone.status, &gone.body), (401, &unknown.body));
    let exchange = app
        .post_as("/v1/organization-api-keys/token", &orphan, json!({}))
        .await;
    assert_eq!((exchange.status, &exchange.body), (401, &unknown.body));
}

async fn an_exchanged_token_verifies_against_the_jwks_and_acts_on_org_routes(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, org) = owner_and_org(&app, "eve@example.com").await;
    let (key, key_id) = key_of(
        &create_key(
            &app,
            &org,
            &owner,
            json!({ "name": "MCP", "permissions": ["organization:read", "roles:read"] }),
        )
        .await,
    );
    let exchanged = app
        .post_as("/v1/organization-api-keys/token", &key, json!({}))
        .await;
    assert_eq!(exchanged.status, 200, "{}", exchanged.body);
    assert_eq!(exchanged.body["token_type"], "Bearer");
    let ttl = exchanged.body["expires_in"].as_i64().expect("expires_in");
    let instance_ttl = app.app.config.load().tokens.access_token_ttl_secs as i64;
    assert!(ttl > 0 && ttl <= instance_ttl, "{ttl}");
    let token = exchanged.str("access_token");
    let claims = verify_like_a_customer(&app, &token)
        .await
        .expect("verifies like a user's access token");
    assert_eq!(claims["sub"], key_id.as_str());
    assert_eq!(claims["org_id"], org.as_str());
    assert_eq!(
        claims["permissions"],
        json!(["organization:read", "roles:read"])
    );
    assert_eq!(claims["principal_type"], "org_api_key");
    assert_eq!(
        claims["exp"].as_i64().unwrap_or_default() - claims["iat"].as_i64().unwrap_or_default(),
        ttl
    );
    assert!(claims.get("email").is_none() && claims.get("sid").is_none());

    // Accepted by the organization's routes with those permissions, refused where a user is meant.
    let o = format!("/v1/organizations/{org}");
    let seen = app.get_as(&o, &token).await;
    assert_eq!(seen.status, 200, "{}", seen.body);
    assert_eq!(app.get_as(&format!("{o}/roles"), &token).await.status, 200);
    app.get_as(&format!("{o}/members"), &token)
        .await
        .assert_error(403, "forbidden");
    let me = app.get_as("/v1/me", &token).await;
    me.assert_error(401, "unauthorized");
    assert!(
        me.body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("API key")
    );
    // Only a key is exchanged: not its token, not a user's.
    for bearer in [&token, &owner] {
        app.post_as("/v1/organization-api-keys/token", bearer, json!({}))
            .await
            .assert_error(401, "invalid_key");
    }
    let used = audit(&app, &org, &owner, "action=organization.api_key.used").await;
    assert!(used.iter().any(|e| e["data"]["via"] == "token"), "{used:?}");
    assert!(
        used.iter()
            .any(|e| e["data"]["path"] == "/v1/organization-api-keys/token")
    );
    // A token past its expiry is refused.
    app.clock.advance(ttl + 1);
    app.get_as(&o, &token)
        .await
        .assert_error(401, "unauthorized");
}

async fn last_used_at_is_written_at_most_once_a_minute(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, org) = owner_and_org(&app, "lou@example.com").await;
    let (key, _) = key_of(
        &create_key(
            &app,
            &org,
            &owner,
            json!({ "name": "L", "permissions": ["organization:read"] }),
        )
        .await,
    );
    let o = format!("/v1/organizations/{org}");
    let last_used = || async {
        app.get_as(&format!("{o}/api-keys"), &owner).await.body["data"][0]["last_used_at"].clone()
    };
    assert!(last_used().await.is_null());
    app.get_as(&o, &key).await;
    let first = last_used().await;
    assert!(first.is_string());
    app.clock.advance(30);
    app.get_as(&o, &key).await;
    assert_eq!(last_used().await, first, "not rewritten within a minute");
    app.clock.advance(31);
    app.get_as(&o, &key).await;
    assert_ne!(last_used().await, first);
}
