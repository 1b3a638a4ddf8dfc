//! Applications (the OpenID Connect clients of a customer's instance) through the control plane:
//! the instance's own admin routes behind a platform access token, with the instance's issuer
//! and discovery URL, audited, for the roles that may manage keys, on real instance processes.
//!
//! - `a_web_applications_secret_is_shown_once_and_rotation_replaces_it`
//! - `the_instances_validation_errors_come_back_as_400_naming_the_field`
//! - `only_roles_that_manage_keys_change_applications_and_only_in_their_account`
//! - `an_application_made_in_the_control_plane_signs_a_user_in_through_the_gateway`
//! - `minting_needs_a_recent_sign_in_and_a_rotation_may_keep_the_old_secret_a_while`
//! - `a_machine_application_keeps_its_permissions_and_mints_through_the_gateway`
//! - `the_organization_selection_is_kept_and_checked_by_the_instance`

use reqwest::Method;
use serde_json::{Value, json};

use crate::accounts::join_as;
use crate::helpers::{Owner, PASSWORD, TestPlatform, spawn_platform};
use crate::oidc_flow::{self, Client};

const REDIRECT: &str = "https://app.example.com/callback";

pub(crate) fn applications(owner: &Owner, env: &str) -> String {
    format!(
        "/v1/accounts/{}/instances/{env}/applications",
        owner.account_id
    )
}

fn web_app(name: &str) -> Value {
    json!({ "name": name, "kind": "web", "redirect_uris": [REDIRECT] })
}

/// A subscribed owner and the id of their `env` instance.
pub(crate) async fn customer(platform: &TestPlatform, email: &str, env: &str) -> (Owner, String) {
    let owner = platform.owner(email).await;
    let instances = platform.subscribe(&owner, "starter").await;
    let id = instances
        .iter()
        .find(|i| i["environment"] == env)
        .and_then(|i| i["id"].as_str())
        .expect("an instance")
        .to_owned();
    (owner, id)
}

#[tokio::test]
async fn a_web_applications_secret_is_shown_once_and_rotation_replaces_it() {
    let platform = spawn_platform().await;
    let (owner, live_id) = customer(&platform, "apps@example.com", "live").await;
    let apps = applications(&owner, "live");
    let issuer = format!("{}/i/{live_id}", platform.gateway);
    let discovery_url = format!("{issuer}/.well-known/openid-configuration");

    let created = platform
        .cp(
            Method::POST,
            &apps,
            &owner.token,
            Some(json!({
                "name": "Web app", "kind": "web", "redirect_uris": [REDIRECT],
                "post_logout_redirect_uris": ["https://app.example.com/signed-out"],
            })),
        )
        .await;
    created.assert_ok(201);
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

    // Listed and read, never with the secret.
    let listed = platform.cp(Method::GET, &apps, &owner.token, None).await;
    listed.assert_ok(200);
    assert_eq!(listed.body["issuer"], issuer.as_str());
    assert_eq!(listed.body["discovery_url"], discovery_url.as_str());
    let data = listed.body["data"].as_array().expect("data");
    assert_eq!(data.len(), 1, "{}", listed.body);
    assert_eq!(data[0]["id"], id.as_str());
    assert_eq!(data[0]["issuer"], issuer.as_str());
    assert!(data[0].get("client_secret").is_none(), "{}", listed.body);
    assert!(!listed.body.to_string().contains(&secret));
    let one = format!("{apps}/{id}");
    let got = platform.cp(Method::GET, &one, &owner.token, None).await;
    got.assert_ok(200);
    assert_eq!(got.body["name"], "Web app");
    assert!(got.body.get("client_secret").is_none(), "{}", got.body);

    // Rotation: a new secret, shown once.
    let rotated = platform
        .cp(
            Method::POST,
            &format!("{one}/rotate-secret"),
            &owner.token,
            None,
        )
        .await;
    rotated.assert_ok(200);
    let new_secret = rotated.str("client_secret");
    assert!(new_secret.starts_with("acs_") && new_secret != secret);
    assert_eq!(rotated.body["issuer"], issuer.as_str());
    let listed = platform.cp(Method::GET, &apps, &owner.token, None).await;
    assert!(!listed.body.to_string().contains(&new_secret));

    // A public application has no secret, to show or to rotate.
    let spa = platform
        .cp(
            Method::POST,
            &apps,
            &owner.token,
            Some(json!({
                "name": "SPA", "kind": "spa", "redirect_uris": ["http://localhost:5173/callback"],
            })),
        )
        .await;
    spa.assert_ok(201);
    assert!(spa.body.get("client_secret").is_none(), "{}", spa.body);
    let spa_one = format!("{apps}/{}", spa.str("id"));
    platform
        .cp(
            Method::POST,
            &format!("{spa_one}/rotate-secret"),
            &owner.token,
            None,
        )
        .await
        .assert_error(409, "conflict");

    // A change replaces what it names.
    let changed = platform
        .cp(
            Method::PATCH,
            &one,
            &owner.token,
            Some(json!({
                "name": "Renamed", "redirect_uris": [REDIRECT, "https://app.example.com/other"],
            })),
        )
        .await;
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
        .cp(
            Method::GET,
            &applications(&owner, "test"),
            &owner.token,
            None,
        )
        .await;
    test.assert_ok(200);
    assert_eq!(test.body["data"], json!([]));
    assert_ne!(test.body["issuer"], issuer.as_str());

    platform
        .cp(Method::DELETE, &spa_one, &owner.token, None)
        .await
        .assert_ok(204);
    platform
        .cp(Method::GET, &spa_one, &owner.token, None)
        .await
        .assert_error(404, "not_found");
    platform
        .cp(Method::DELETE, &spa_one, &owner.token, None)
        .await
        .assert_error(404, "not_found");

    // Each change is in the account's audit log, by its member, without a secret.
    let audit = platform
        .cp(
            Method::GET,
            &format!(
                "/v1/accounts/{}/audit-logs?action=application.",
                owner.account_id
            ),
            &owner.token,
            None,
        )
        .await;
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
    assert!(
        events
            .iter()
            .all(|e| e["actor"].as_str().is_some_and(|a| a.starts_with("user:")))
    );
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

#[tokio::test]
async fn the_instances_validation_errors_come_back_as_400_naming_the_field() {
    let platform = spawn_platform().await;
    let (owner, _) = customer(&platform, "invalid@example.com", "live").await;
    let apps = applications(&owner, "live");
    let create = |body: Value| platform.cp(Method::POST, &apps, &owner.token, Some(body));

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
    assert!(
        bad.str("message")
            .starts_with("post_logout_redirect_uris[0]:"),
        "{}",
        bad.body
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
        .cp(
            Method::GET,
            &applications(&owner, "prod"),
            &owner.token,
            None,
        )
        .await
        .assert_error(400, "invalid_request");

    // A change is checked the same way.
    let created = create(web_app("Web")).await;
    created.assert_ok(201);
    let one = format!("{apps}/{}", created.str("id"));
    let bad = platform
        .cp(
            Method::PATCH,
            &one,
            &owner.token,
            Some(json!({ "redirect_uris": [REDIRECT, "https://*.example.com/cb"] })),
        )
        .await;
    bad.assert_error(400, "invalid_request");
    assert!(
        bad.str("message")
            .starts_with("redirect_uris[1]: must not contain wildcards"),
        "{}",
        bad.body
    );
    platform
        .cp(
            Method::PATCH,
            &one,
            &owner.token,
            Some(json!({ "kind": "spa" })),
        )
        .await
        .assert_error(400, "invalid_request");

    // Only application ids reach the instance: not a path into the rest of its admin API.
    for id in [
        "..%2Fusers",
        "app_nothex",
        "usr_0123456789abcdef0123456789abcdef",
    ] {
        platform
            .cp(Method::GET, &format!("{apps}/{id}"), &owner.token, None)
            .await
            .assert_error(404, "not_found");
    }
    platform
        .cp(
            Method::GET,
            &format!("{apps}/app_0123456789abcdef0123456789abcdef"),
            &owner.token,
            None,
        )
        .await
        .assert_error(404, "not_found");
}

#[tokio::test]
async fn only_roles_that_manage_keys_change_applications_and_only_in_their_account() {
    let platform = spawn_platform().await;
    let (owner, _) = customer(&platform, "roles@example.com", "live").await;
    let apps = applications(&owner, "live");
    let created = platform
        .cp(Method::POST, &apps, &owner.token, Some(web_app("Web")))
        .await;
    created.assert_ok(201);
    let one = format!("{apps}/{}", created.str("id"));

    // A member sees the applications (as they see keys) but changes none.
    let member = join_as(&platform, &owner, "member@roles.test", "member").await;
    let listed = platform.cp(Method::GET, &apps, &member, None).await;
    listed.assert_ok(200);
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(1));
    platform
        .cp(Method::GET, &one, &member, None)
        .await
        .assert_ok(200);
    let refused = platform
        .cp(Method::POST, &apps, &member, Some(web_app("Mine")))
        .await;
    refused.assert_error(403, "forbidden");
    assert!(
        refused.str("message").contains("keys:manage"),
        "{}",
        refused.body
    );
    platform
        .cp(Method::POST, &format!("{one}/rotate-secret"), &member, None)
        .await
        .assert_error(403, "forbidden");
    platform
        .cp(Method::PATCH, &one, &member, Some(json!({ "name": "x" })))
        .await
        .assert_error(403, "forbidden");
    platform
        .cp(Method::DELETE, &one, &member, None)
        .await
        .assert_error(403, "forbidden");
    // A viewer does not see them; an admin manages them.
    let viewer = join_as(&platform, &owner, "viewer@roles.test", "viewer").await;
    platform
        .cp(Method::GET, &apps, &viewer, None)
        .await
        .assert_error(403, "forbidden");
    let admin = join_as(&platform, &owner, "admin@roles.test", "admin").await;
    platform
        .cp(Method::POST, &apps, &admin, Some(web_app("Admin's")))
        .await
        .assert_ok(201);

    // Another account's owner finds nothing: not the account, not its applications.
    let other = platform.owner("other@example.com").await;
    platform
        .cp(Method::GET, &apps, &other.token, None)
        .await
        .assert_error(404, "not_found");
    platform
        .cp(Method::GET, &one, &other.token, None)
        .await
        .assert_error(404, "not_found");
    platform
        .cp(Method::POST, &apps, &other.token, Some(web_app("Theirs")))
        .await
        .assert_error(404, "not_found");
    platform
        .cp(
            Method::POST,
            &format!("{one}/rotate-secret"),
            &other.token,
            None,
        )
        .await
        .assert_error(404, "not_found");
    platform
        .cp(Method::DELETE, &one, &other.token, None)
        .await
        .assert_error(404, "not_found");
    // ... and no instance of its own before it subscribes.
    platform
        .cp(
            Method::GET,
            &applications(&other, "live"),
            &other.token,
            None,
        )
        .await
        .assert_error(404, "not_found");
    let listed = platform.cp(Method::GET, &apps, &owner.token, None).await;
    assert_eq!(
        listed.body["data"].as_array().map(Vec::len),
        Some(2),
        "{}",
        listed.body
    );

    // A suspended instance is a state of the account, not an outage.
    platform
        .cp(
            Method::DELETE,
            &format!("/v1/accounts/{}/subscription", owner.account_id),
            &owner.token,
            None,
        )
        .await
        .assert_ok(200);
    platform.wait_for_instances(&owner, "suspended").await;
    platform
        .cp(Method::GET, &apps, &owner.token, None)
        .await
        .assert_error(409, "instance_not_running");
    platform
        .cp(Method::POST, &apps, &owner.token, Some(web_app("Late")))
        .await
        .assert_error(409, "instance_not_running");
}

#[tokio::test]
async fn an_application_made_in_the_control_plane_signs_a_user_in_through_the_gateway() {
    let platform = spawn_platform().await;
    let (owner, _) = customer(&platform, "e2e@example.com", "live").await;
    let apps = applications(&owner, "live");
    let created = platform
        .cp(Method::POST, &apps, &owner.token, Some(web_app("Web")))
        .await;
    created.assert_ok(201);
    let issuer = created.str("issuer");
    let discovery = oidc_flow::discover(&issuer).await;
    assert_eq!(
        created.str("discovery_url"),
        format!("{issuer}/.well-known/openid-configuration")
    );

    // An end user of the customer's instance (its admin API, with a secret key).
    let key = platform.create_key(&owner, "live", "secret").await;
    let user = platform
        .send(
            platform
                .client
                .post(format!("{}/v1/admin/users", platform.gateway))
                .bearer_auth(key["secret"].as_str().expect("key"))
                .json(&json!({ "email": "ada@example.com", "password": PASSWORD, "email_verified": true })),
        )
        .await;
    user.assert_ok(201);

    let id = created.str("id");
    let secret = created.str("client_secret");
    let client = Client {
        id: &id,
        secret: &secret,
        redirect_uri: REDIRECT,
    };
    let userinfo = oidc_flow::sign_in(&issuer, &client, "ada@example.com", PASSWORD).await;
    assert_eq!(userinfo["email"], "ada@example.com", "{userinfo}");

    // After a rotation the old secret is refused at the token endpoint; the new one is the
    // client's (its code is what is wrong here).
    let rotated = platform
        .cp(
            Method::POST,
            &format!("{apps}/{id}/rotate-secret"),
            &owner.token,
            None,
        )
        .await;
    rotated.assert_ok(200);
    let token = discovery["token_endpoint"]
        .as_str()
        .expect("token endpoint");
    let exchange = async |secret: &str| {
        let request = platform
            .client
            .post(token)
            .basic_auth(&id, Some(secret))
            .form(&[
                ("grant_type", "authorization_code"),
                ("code", "not-a-code"),
                ("redirect_uri", REDIRECT),
            ]);
        platform.send(request).await
    };
    let old = exchange(&secret).await;
    assert_eq!(
        (old.status, old.body["error"].as_str()),
        (401, Some("invalid_client")),
        "{}",
        old.body
    );
    let new = exchange(&rotated.str("client_secret")).await;
    assert_eq!(
        (new.status, new.body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{}",
        new.body
    );
}

/// An application's secret outlives the session that makes it, so creating, changing and
/// rotating need a sign-in within the last 10 minutes; a rotation may keep the old secret
/// working for a grace period, so that running deployments switch without downtime.
#[tokio::test]
async fn minting_needs_a_recent_sign_in_and_a_rotation_may_keep_the_old_secret_a_while() {
    let platform = spawn_platform().await;
    let (owner, _) = customer(&platform, "grace@example.com", "live").await;
    let apps = applications(&owner, "live");
    let created = platform
        .cp(Method::POST, &apps, &owner.token, Some(web_app("Web")))
        .await;
    created.assert_ok(201);
    let id = created.str("id");
    let first = created.str("client_secret");
    assert!(created.body["previous_secret_expires_at"].is_null());
    let one = format!("{apps}/{id}");
    let rotate = async |body: Option<Value>| {
        platform
            .cp(
                Method::POST,
                &format!("{one}/rotate-secret"),
                &owner.token,
                body,
            )
            .await
    };
    // The instance's introspection endpoint authenticates the client first: 200 for a working
    // secret (the token is nobody's), 401 invalid_client otherwise.
    let introspect = format!("{}/oauth2/introspect", created.str("issuer"));
    let works = async |secret: &str| {
        let request = platform
            .client
            .post(&introspect)
            .basic_auth(&id, Some(secret))
            .form(&[("token", "not-a-token")]);
        let reply = platform.send(request).await;
        match reply.status {
            200 => true,
            401 => false,
            other => panic!("introspection answered {other}: {}", reply.body),
        }
    };

    let kept = rotate(Some(json!({ "grace_period_secs": 3600 }))).await;
    kept.assert_ok(200);
    let second = kept.str("client_secret");
    assert!(
        kept.body["previous_secret_expires_at"].is_string(),
        "{}",
        kept.body
    );
    assert!(
        works(&first).await,
        "the old secret works during the grace period"
    );
    assert!(works(&second).await);

    // No body: the previous secret ends at once.
    let ended = rotate(None).await;
    ended.assert_ok(200);
    let third = ended.str("client_secret");
    assert!(!works(&second).await && !works(&first).await);
    assert!(works(&third).await);
    for body in [
        json!({ "grace_period_secs": 604_801 }),
        json!({ "grace_period_secs": -1 }),
        json!([]),
    ] {
        rotate(Some(body))
            .await
            .assert_error(400, "invalid_request");
    }
    assert!(works(&third).await, "a refused rotation changes nothing");

    // Eleven minutes on (the session itself is still valid): reading works, minting does not.
    platform.clock.advance(11 * 60);
    platform
        .cp(Method::GET, &apps, &owner.token, None)
        .await
        .assert_ok(200);
    platform
        .cp(Method::POST, &apps, &owner.token, Some(web_app("Stale")))
        .await
        .assert_error(403, "reauthentication_required");
    rotate(None)
        .await
        .assert_error(403, "reauthentication_required");
    platform
        .cp(
            Method::PATCH,
            &one,
            &owner.token,
            Some(json!({ "redirect_uris": ["https://evil.example.com/cb"] })),
        )
        .await
        .assert_error(403, "reauthentication_required");
    assert!(works(&third).await);
    let listed = platform.cp(Method::GET, &apps, &owner.token, None).await;
    assert_eq!(listed.body["data"][0]["redirect_uris"], json!([REDIRECT]));
}

#[tokio::test]
async fn a_machine_application_keeps_its_permissions_and_mints_through_the_gateway() {
    let platform = spawn_platform().await;
    let (owner, _) = customer(&platform, "machine@example.com", "live").await;
    let apps = applications(&owner, "live");
    let created = platform
        .cp(
            Method::POST,
            &apps,
            &owner.token,
            Some(json!({
                "name": "Exporter", "kind": "machine",
                "permissions": ["members:read", "audit:read"],
            })),
        )
        .await;
    created.assert_ok(201);
    assert_eq!(created.body["kind"], "machine");
    assert_eq!(
        created.body["permissions"],
        json!(["members:read", "audit:read"])
    );
    let id = created.str("id");
    let secret = created.str("client_secret");
    let issuer = created.str("issuer");
    let discovery = oidc_flow::discover(&issuer).await;
    assert!(
        discovery["grant_types_supported"]
            .as_array()
            .is_some_and(|g| g.contains(&json!("client_credentials"))),
        "{discovery}"
    );

    // The instance's validation answers through the control plane.
    platform
        .cp(
            Method::POST,
            &apps,
            &owner.token,
            Some(json!({ "name": "X", "kind": "machine", "permissions": ["nope:never"] })),
        )
        .await
        .assert_error(400, "invalid_request");
    let one = format!("{apps}/{id}");
    let changed = platform
        .cp(
            Method::PATCH,
            &one,
            &owner.token,
            Some(json!({ "permissions": ["members:read"] })),
        )
        .await;
    changed.assert_ok(200);
    assert_eq!(changed.body["permissions"], json!(["members:read"]));
    let listed = platform.cp(Method::GET, &apps, &owner.token, None).await;
    assert_eq!(
        listed.body["data"][0]["permissions"],
        json!(["members:read"])
    );

    let minted = platform
        .send(
            platform
                .client
                .post(format!("{issuer}/oauth2/token"))
                .basic_auth(&id, Some(&secret))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("grant_type=client_credentials"),
        )
        .await;
    minted.assert_ok(200);
    assert_eq!(minted.body["token_type"], "Bearer");
    assert_eq!(minted.body["scope"], "members:read");
}

#[tokio::test]
async fn the_organization_selection_is_kept_and_checked_by_the_instance() {
    let platform = spawn_platform().await;
    let (owner, _) = customer(&platform, "orgsel@example.com", "live").await;
    let apps = applications(&owner, "live");
    // Absent: the instance's default, `none`.
    let plain = platform
        .cp(Method::POST, &apps, &owner.token, Some(web_app("Plain")))
        .await;
    plain.assert_ok(201);
    assert_eq!(plain.body["organization_selection"], "none");

    let mut body = web_app("Orgs");
    body["organization_selection"] = json!("optional");
    let created = platform
        .cp(Method::POST, &apps, &owner.token, Some(body))
        .await;
    created.assert_ok(201);
    assert_eq!(created.body["organization_selection"], "optional");
    let one = format!("{apps}/{}", created.str("id"));
    let changed = platform
        .cp(
            Method::PATCH,
            &one,
            &owner.token,
            Some(json!({ "organization_selection": "required" })),
        )
        .await;
    changed.assert_ok(200);
    assert_eq!(changed.body["organization_selection"], "required");
    let got = platform.cp(Method::GET, &one, &owner.token, None).await;
    assert_eq!(got.body["organization_selection"], "required");

    // Unknown values are refused here; a machine application (no users) by the instance.
    platform
        .cp(
            Method::PATCH,
            &one,
            &owner.token,
            Some(json!({ "organization_selection": "sometimes" })),
        )
        .await
        .assert_error(400, "invalid_request");
    let machine = platform
        .cp(
            Method::POST,
            &apps,
            &owner.token,
            Some(json!({ "name": "M", "kind": "machine", "organization_selection": "required" })),
        )
        .await;
    machine.assert_error(400, "invalid_request");
    assert!(
        machine
            .str("message")
            .starts_with("organization_selection:"),
        "{}",
        machine.body
    );
}
