//! Importing Keycloak realm exports (`authstack-instance import keycloak`).
//!
//! - `fixtures_import_with_their_counts`: Keycloak 24 and 26 migration exports and the old
//!   `testrealm.json` (see `tests/fixtures/keycloak/README.md`), every realm; a re-run is a no-op.
//! - `a_dry_run_writes_nothing`
//! - `testrealm_users_sign_in_with_their_plaintext_password`
//! - `a_pbkdf2_user_signs_in_and_is_rehashed_to_argon2id`: with organization members, a mapping
//!   file and exact, public and wildcard redirect URIs.
//! - `the_command_refuses_an_array_without_realm_and_writes_rejected_items`
//! - `the_admin_api_path_reads_a_running_realm`: `--url` against a loopback replay of Keycloak's
//!   admin API, signing in with `KEYCLOAK_PASSWORD`.

use std::process::Command;

use authstack_instance::keycloak::{Counts, Mapping, Report, apply, plan, select_realm};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::backend_tests;
use authstack_instance::config::InstanceConfig;

use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_with};

const BIN: &str = env!("CARGO_BIN_EXE_authstack-instance");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/keycloak");

backend_tests!(
    fixtures_import_with_their_counts,
    a_dry_run_writes_nothing,
    testrealm_users_sign_in_with_their_plaintext_password,
    a_pbkdf2_user_signs_in_and_is_rehashed_to_argon2id,
    the_command_refuses_an_array_without_realm_and_writes_rejected_items,
    the_admin_api_path_reads_a_running_realm,
);

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{name}")).expect("fixture")
}

async fn import(
    app: &TestApp,
    text: &str,
    realm: Option<&str>,
    mapping: &Mapping,
    dry_run: bool,
) -> Report {
    let realm = select_realm(text, realm).expect("realm");
    let now = app.clock.now();
    apply(&app.app.db, plan(&realm, mapping), dry_run, now, &|_| {})
        .await
        .expect("import")
}

fn counts(imported: usize, unchanged: usize) -> Counts {
    Counts {
        imported,
        unchanged,
    }
}

fn rejected(report: &Report, kind: &str) -> usize {
    report.rejected.iter().filter(|i| i.kind == kind).count()
}

/// users, organizations, roles, memberships, applications imported; rejected items.
type Expected = (usize, usize, usize, usize, usize, usize);

async fn fixtures_import_with_their_counts(backend: Backend) {
    let cases: [(&str, Option<&str>, Expected); 7] = [
        // 7 users; groups topGroup and roleRichGroup (4 subgroups flattened); 5 custom realm roles
        // in each (admin is the built-in role); 7 unmapped client roles and 8 clients with
        // wildcard, relative or no redirect URIs rejected.
        ("testrealm.json", None, (7, 2, 10, 3, 0, 15)),
        // Users without email; master-test-group; master-test-realm-role and create-realm;
        // master-test-client (no redirect URIs) and its role rejected.
        (
            "migration-realm-24.0.4.json",
            Some("master"),
            (0, 1, 2, 0, 0, 4),
        ),
        // Also a SAML client and its wildcard URI.
        (
            "migration-realm-24.0.4.json",
            Some("Migration"),
            (0, 1, 1, 0, 0, 5),
        ),
        (
            "migration-realm-24.0.4.json",
            Some("Migration2"),
            (0, 0, 0, 0, 0, 1),
        ),
        // 5 organizations (their domains and identity providers rejected) and 1 group; the realm
        // role in each of the 6.
        (
            "migration-realm-26.6.0.json",
            Some("Migration"),
            (0, 6, 6, 0, 0, 18),
        ),
        (
            "migration-realm-26.6.0.json",
            Some("Migration2"),
            (0, 0, 0, 0, 0, 2),
        ),
        (
            "migration-realm-26.6.0.json",
            Some("master"),
            (0, 1, 2, 0, 0, 4),
        ),
    ];
    let mut app: Option<(&str, TestApp)> = None;
    for (file, realm, (users, orgs, roles, memberships, applications, rejects)) in cases {
        // The realms of one file share an instance (their group names differ); each file has
        // its own, since the 24 and 26 exports hold the same realms.
        if app.as_ref().is_none_or(|(f, _)| *f != file) {
            app = Some((file, spawn_app(backend.clone()).await));
        }
        let Some((_, app)) = &app else { continue };
        let text = fixture(file);
        let first = import(app, &text, realm, &Mapping::default(), false).await;
        let what = format!("{file} {realm:?}: {}", first.summary());
        assert_eq!(first.users, counts(users, 0), "{what}");
        assert_eq!(first.organizations, counts(orgs, 0), "{what}");
        assert_eq!(first.roles, counts(roles, 0), "{what}");
        assert_eq!(first.memberships, counts(memberships, 0), "{what}");
        assert_eq!(first.applications, counts(applications, 0), "{what}");
        assert_eq!(first.rejected.len(), rejects, "{what}");
        // A re-run finds everything in place.
        let again = import(app, &text, realm, &Mapping::default(), false).await;
        assert_eq!(again.users, counts(0, users), "{file}");
        assert_eq!(again.organizations, counts(0, orgs), "{file}");
        assert_eq!(again.roles, counts(0, roles), "{file}");
        assert_eq!(again.memberships, counts(0, memberships), "{file}");
        assert_eq!(again.applications, counts(0, applications), "{file}");
    }
}

async fn a_dry_run_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let text = fixture("testrealm.json");
    let dry = import(&app, &text, None, &Mapping::default(), true).await;
    assert!(dry.dry_run);
    assert_eq!(dry.users, counts(7, 0));
    assert_eq!(dry.organizations, counts(2, 0));
    assert_eq!(dry.roles, counts(10, 0));
    assert_eq!(dry.memberships, counts(3, 0));
    assert!(
        dry.summary().contains("users: would import 7"),
        "{}",
        dry.summary()
    );
    let listed = app.get_as("/v1/admin/users", &app.admin_key).await;
    assert_eq!(
        listed.body["data"].as_array().map(Vec::len),
        Some(0),
        "{}",
        listed.body
    );
    assert_eq!(app.login("top@redhat.com", "password").await.status, 401);
    // The real run then imports what the dry run announced.
    let real = import(&app, &text, None, &Mapping::default(), false).await;
    assert_eq!(real.users, dry.users);
    assert_eq!(real.memberships, dry.memberships);
}

async fn testrealm_users_sign_in_with_their_plaintext_password(backend: Backend) {
    // testrealm's users have no `emailVerified`: they are imported unverified, and sign in
    // where the instance does not require verification.
    let mut config = InstanceConfig::default();
    config.auth.require_email_verification = false;
    let app = spawn_app_with(backend, config).await;
    import(
        &app,
        &fixture("testrealm.json"),
        None,
        &Mapping::default(),
        false,
    )
    .await;
    for email in [
        "test-user@localhost",
        "top@redhat.com",
        "rich.roles@redhat.com",
    ] {
        let reply = app.login(email, "password").await;
        assert_eq!(reply.status, 200, "{email}: {}", reply.body);
    }
    assert_eq!(
        app.login("top@redhat.com", "wrong password").await.status,
        401
    );
    // A member of a subgroup joined the top-level group's organization with its admin role.
    let token = app
        .login("level2@redhat.com", "password")
        .await
        .access_token();
    let orgs = app.get_as("/v1/me/organizations", &token).await;
    assert_eq!(orgs.status, 200, "{}", orgs.body);
    let data = orgs.body["data"].as_array().cloned().unwrap_or_default();
    assert_eq!(data.len(), 1, "{}", orgs.body);
    assert_eq!(data[0]["slug"], "topgroup", "{}", orgs.body);
    assert_eq!(data[0]["role"], "admin", "{}", orgs.body);
}

/// A Keycloak pbkdf2-sha256 credential with 27,500 iterations (Keycloak 24's default) for
/// `password`, derived here as Keycloak derives it (16-byte salt, 64-byte key).
fn keycloak_pbkdf2_credential(password: &str) -> serde_json::Value {
    let salt = *b"0123456789abcdef";
    let mut key = [0u8; 64];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), &salt, 27_500, &mut key);
    json!({
        "type": "password",
        "secretData": json!({ "value": STANDARD.encode(key), "salt": STANDARD.encode(salt), "additionalParameters": {} }).to_string(),
        "credentialData": json!({ "hashIterations": 27500, "algorithm": "pbkdf2-sha256", "additionalParameters": {} }).to_string(),
    })
}

fn small_realm() -> String {
    json!({
        "realm": "shop",
        "organizationsEnabled": true,
        "users": [
            { "id": "7d8f0c2e-0000-4000-8000-000000000001", "username": "ada", "email": "ada@example.com",
              "emailVerified": true, "firstName": "Ada", "lastName": "Lovelace",
              "attributes": { "plan": ["pro"] }, "realmRoles": ["manager"],
              "credentials": [keycloak_pbkdf2_credential("analytical engine")] },
            { "id": "7d8f0c2e-0000-4000-8000-000000000002", "username": "bob", "email": "bob@example.com", "enabled": false }
        ],
        "roles": { "realm": [{ "name": "manager", "description": "Runs the shop" }, { "name": "offline_access" }],
                   "client": { "storefront": [{ "name": "buyer" }] } },
        "organizations": [{ "name": "Acme Shop", "alias": "acme-shop", "domains": [{ "name": "acme.test", "verified": true }],
                            "members": [{ "username": "ada" }, { "username": "bob" }] }],
        "clients": [
            { "clientId": "storefront", "publicClient": true, "redirectUris": ["https://shop.example.com/callback"] },
            { "clientId": "backoffice", "publicClient": false, "secret": "weak",
              "redirectUris": ["https://admin.example.com/cb", "https://admin.example.com/*"] },
            { "clientId": "admin-cli", "publicClient": true }
        ],
        "identityProviders": [{ "alias": "google", "providerId": "google" }]
    })
    .to_string()
}

async fn a_pbkdf2_user_signs_in_and_is_rehashed_to_argon2id(backend: Backend) {
    let app = spawn_app(backend).await;
    let mapping: Mapping = serde_yaml::from_str(
        "roles: {storefront/buyer: buyer}\npermissions: {manager: ['organization:read', 'members:read']}",
    )
    .expect("mapping");
    let report = import(&app, &small_realm(), None, &mapping, false).await;
    let what = report.summary();
    assert_eq!(report.users, counts(2, 0), "{what}");
    assert_eq!(report.organizations, counts(1, 0), "{what}");
    assert_eq!(report.roles, counts(2, 0), "{what}");
    assert_eq!(report.memberships, counts(2, 0), "{what}");
    assert_eq!(report.applications, counts(2, 0), "{what}");
    for kind in ["redirect_uri", "identity_provider", "organization_domains"] {
        assert_eq!(rejected(&report, kind), 1, "{kind}: {what}");
    }
    assert!(
        report.skipped.iter().any(|i| i.name == "admin-cli"),
        "{what}"
    );

    let db = &app.app.db;
    let email = authstack_instance::users::EmailAddress::parse("ada@example.com").expect("email");
    let before = authstack_instance::users::store::find_by_email(db, &email)
        .await
        .expect("db")
        .expect("ada");
    assert!(
        before
            .password_hash
            .as_deref()
            .is_some_and(|h| h.starts_with("$pbkdf2-sha256$i=27500$"))
    );
    assert_eq!(before.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(before.metadata, json!({ "plan": ["pro"] }));
    assert_eq!(
        before.external_id.as_deref(),
        Some("7d8f0c2e-0000-4000-8000-000000000001")
    );
    assert!(before.email_verified_at.is_some());

    let reply = app.login("ada@example.com", "analytical engine").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let after = authstack_instance::users::store::find_by_email(db, &email)
        .await
        .expect("db")
        .expect("ada");
    assert!(
        after
            .password_hash
            .as_deref()
            .is_some_and(|h| h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")),
        "rehashed"
    );
    assert_eq!(
        app.login("ada@example.com", "analytical engine")
            .await
            .status,
        200
    );
    assert_eq!(
        app.login("ada@example.com", "difference engine")
            .await
            .status,
        401
    );
    // A disabled Keycloak user is imported banned.
    let bob = authstack_instance::users::EmailAddress::parse("bob@example.com").expect("email");
    let bob = authstack_instance::users::store::find_by_email(db, &bob)
        .await
        .expect("db")
        .expect("bob");
    assert!(bob.banned_until.is_some() && bob.password_hash.is_none());

    // Ada holds `manager` (a custom role with the mapped permissions) in Acme Shop.
    let token = reply.access_token();
    let orgs = app.get_as("/v1/me/organizations", &token).await;
    let org = &orgs.body["data"][0];
    assert_eq!(org["slug"], "acme-shop", "{}", orgs.body);
    assert_eq!(org["role"], "manager", "{}", orgs.body);
    let mut permissions: Vec<String> =
        serde_json::from_value(org["permissions"].clone()).unwrap_or_default();
    permissions.sort();
    assert_eq!(
        permissions,
        ["members:read", "organization:read"],
        "{}",
        orgs.body
    );

    // Applications: exact URIs only, spa for the public client, web for the confidential one.
    let apps = app.get_as("/v1/admin/applications", &app.admin_key).await;
    let list = apps.body["data"].as_array().cloned().unwrap_or_default();
    let find = |name: &str| {
        list.iter()
            .find(|a| a["name"] == name)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(find("storefront")["kind"], "spa", "{}", apps.body);
    assert_eq!(find("backoffice")["kind"], "web", "{}", apps.body);
    assert_eq!(
        find("backoffice")["redirect_uris"],
        json!(["https://admin.example.com/cb"])
    );

    let again = import(&app, &small_realm(), None, &mapping, false).await;
    assert_eq!(
        (again.users, again.memberships, again.applications),
        (counts(0, 2), counts(0, 2), counts(0, 2))
    );
    assert_eq!(again.roles, counts(0, 2));
}

async fn the_command_refuses_an_array_without_realm_and_writes_rejected_items(backend: Backend) {
    let app = spawn_app(backend).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("realms.json");
    std::fs::write(&file, fixture("migration-realm-26.6.0.json")).expect("write");
    let run = |extra: &[&str]| {
        let mut command = Command::new(BIN);
        command
            .args(["import", "keycloak"])
            .arg(&file)
            .arg("--data-dir")
            .arg(app.data_dir.path())
            .args(extra);
        if let Some(url) = app.database_url() {
            command.arg("--database-url").arg(url);
        }
        command.output().expect("run import")
    };
    let refused = run(&[]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("3 realms (Migration, Migration2, master): choose one with --realm"),
        "{stderr}"
    );

    let dry = run(&["--realm", "Migration", "--dry-run"]);
    let out = String::from_utf8_lossy(&dry.stdout);
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(out.contains("organizations: would import 6"), "{out}");
    assert!(!dir.path().join("realms.json.rejected.jsonl").exists());

    let real = run(&["--realm", "Migration"]);
    let out = String::from_utf8_lossy(&real.stdout);
    assert!(
        real.status.success(),
        "{}",
        String::from_utf8_lossy(&real.stderr)
    );
    assert!(
        out.contains("organizations: imported 6, already present 0"),
        "{out}"
    );
    let lines = std::fs::read_to_string(dir.path().join("realms.json.rejected.jsonl"))
        .expect("rejected file");
    assert_eq!(lines.lines().count(), 18);
    assert!(lines.contains("\"kind\":\"identity_provider\""), "{lines}");
    assert!(lines.contains("sales-post/*"), "{lines}");
}

// No Keycloak server installs here: a loopback server replays what Keycloak 26's admin API
// returns for a small realm (users without credentials: the admin API never returns hashes).
fn admin_api_reply(path: &str, authorized: bool, body: &str) -> (u16, serde_json::Value) {
    if path == "/realms/master/protocol/openid-connect/token" {
        return match body.contains("password=admin+secret") && body.contains("username=admin") {
            true => (
                200,
                json!({ "access_token": "replayed-token", "expires_in": 60, "scope": "profile", "token_type": "Bearer" }),
            ),
            false => (401, json!({ "error": "invalid_grant" })),
        };
    }
    if !authorized {
        return (401, json!({ "error": "HTTP 401 Unauthorized" }));
    }
    let ada = "7d8f0c2e-0000-4000-8000-0000000000aa";
    let reply = match path.strip_prefix("/admin/realms/shop").unwrap_or("unknown") {
        "" => json!({ "realm": "shop", "enabled": true, "organizationsEnabled": true }),
        "/users" => json!([
            { "id": ada, "username": "ada", "email": "ada@example.com", "emailVerified": true, "firstName": "Ada", "enabled": true },
            { "id": "7d8f0c2e-0000-4000-8000-0000000000bb", "username": "service-account-x", "enabled": true }
        ]),
        "/groups" => json!([{ "id": "g1", "name": "staff", "path": "/staff", "subGroups": [] }]),
        p if p == format!("/users/{ada}/groups") => {
            json!([{ "id": "g1", "name": "staff", "path": "/staff" }])
        }
        p if p.ends_with("/groups") => json!([]),
        p if p == format!("/users/{ada}/role-mappings") => json!({
            "realmMappings": [{ "name": "manager" }, { "name": "default-roles-shop" }],
            "clientMappings": { "storefront": { "client": "storefront", "id": "c1", "mappings": [{ "name": "buyer" }] } }
        }),
        p if p.ends_with("/role-mappings") => json!({}),
        "/clients" => json!([
            { "id": "c1", "clientId": "storefront", "publicClient": true, "redirectUris": ["https://shop.example.com/callback"] },
            { "id": "c2", "clientId": "admin-cli", "publicClient": true, "redirectUris": [] }
        ]),
        "/clients/c1/roles" => json!([{ "name": "buyer" }]),
        "/clients/c2/roles" => json!([]),
        "/roles" => {
            json!([{ "name": "manager" }, { "name": "default-roles-shop" }, { "name": "offline_access" }])
        }
        "/organizations" => {
            json!([{ "id": "o1", "name": "Acme Shop", "alias": "acme-shop", "domains": [] }])
        }
        "/organizations/o1/members" => json!([{ "id": ada, "username": "ada" }]),
        "/identity-provider/instances" => json!([{ "alias": "google", "providerId": "google" }]),
        _ => return (404, json!({ "error": "not found" })),
    };
    (200, reply)
}

async fn the_admin_api_path_reads_a_running_realm(backend: Backend) {
    use axum::http::{HeaderMap, StatusCode, Uri};
    let app = spawn_app(backend).await;
    let calls = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let seen = calls.clone();
    let server = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: String| {
        let seen = seen.clone();
        async move {
            let authorized = headers.get("authorization").and_then(|v| v.to_str().ok())
                == Some("Bearer replayed-token");
            seen.lock().expect("calls").push(uri.path().to_owned());
            let (status, reply) = admin_api_reply(uri.path(), authorized, &body);
            (
                StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
                axum::Json(reply),
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let served = tokio::spawn(async move { axum::serve(listener, server).await });

    let dir = tempfile::tempdir().expect("dir");
    let mut command = Command::new(BIN);
    command
        .current_dir(dir.path())
        .args([
            "import",
            "keycloak",
            "--url",
            &url,
            "--realm",
            "shop",
            "--data-dir",
        ])
        .arg(app.data_dir.path())
        .env("KEYCLOAK_PASSWORD", "admin secret")
        .env_remove("KEYCLOAK_CLIENT_SECRET");
    if let Some(db) = app.database_url() {
        command.arg("--database-url").arg(db);
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("join")
        .expect("run");
    served.abort();
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        out.contains("users: imported 1, already present 0"),
        "{out}"
    );
    assert!(
        out.contains("organizations: imported 2, already present 0"),
        "{out}"
    );
    assert!(
        out.contains("applications: imported 1, already present 0"),
        "{out}"
    );
    assert!(
        out.contains("memberships: imported 2, already present 0"),
        "{out}"
    );
    assert!(out.contains("identity_provider google"), "{out}");
    assert!(
        out.contains("user service-account-x: the user has no email"),
        "{out}"
    );
    assert!(
        calls
            .lock()
            .expect("calls")
            .contains(&"/admin/realms/shop/organizations/o1/members".to_owned())
    );
    let rejected =
        std::fs::read_to_string(dir.path().join("keycloak-shop.rejected.jsonl")).expect("rejected");
    assert!(rejected.contains("storefront/buyer"), "{rejected}");

    let email = authstack_instance::users::EmailAddress::parse("ada@example.com").expect("email");
    let ada = authstack_instance::users::store::find_by_email(&app.app.db, &email)
        .await
        .expect("db")
        .expect("ada");
    assert_eq!(
        ada.external_id.as_deref(),
        Some("7d8f0c2e-0000-4000-8000-0000000000aa")
    );
    assert!(
        ada.password_hash.is_none(),
        "the admin API returns no hashes"
    );
}
