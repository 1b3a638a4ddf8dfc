//! Importing a Firebase Authentication export (`authstack-instance import firebase`), with the
//! example of Firebase's documentation of its hash (see `tests/fixtures/firebase/README.md`).
//!
//! - `the_documented_user_imports_signs_in_and_is_rehashed`: dry run, import, report and
//!   rejected users, the signer key sealed once and in no user's row, sign-in with the
//!   documented password, re-hash to Argon2id, and a re-run (with the flags instead of the
//!   file) that changes nothing.
//! - `the_import_refuses_another_master_key_and_missing_parameters`

use std::process::{Command, Output};

use authstack_instance::config::InstanceConfig;
use authstack_instance::users::EmailAddress;
use sqlx::Row;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, spawn_app_with};

const BIN: &str = env!("CARGO_BIN_EXE_authstack-instance");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/firebase");
const SIGNER_KEY: &str =
    "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==";

backend_tests!(
    the_documented_user_imports_signs_in_and_is_rehashed,
    the_import_refuses_another_master_key_and_missing_parameters,
);

async fn app(backend: Backend) -> TestApp {
    // The documented account's email is not verified.
    let mut config = InstanceConfig::default();
    config.auth.require_email_verification = false;
    spawn_app_with(backend, config).await
}

/// `import firebase` on a copy of the fixture export (the rejected file is written beside it).
fn import(app: &TestApp, dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let file = dir.join("users.json");
    if !file.exists() {
        std::fs::copy(format!("{FIXTURES}/users.json"), &file).expect("copy the fixture");
    }
    let mut command = Command::new(BIN);
    command
        .args(["import", "firebase"])
        .arg(&file)
        .arg("--data-dir")
        .arg(app.data_dir.path())
        .args(args)
        .env_remove("AUTHSTACK_MASTER_KEY")
        .env_remove("FIREBASE_SIGNER_KEY");
    for (name, value) in env {
        command.env(name, value);
    }
    if let Some(url) = app.database_url() {
        command.arg("--database-url").arg(url);
    }
    command.output().expect("run import")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

async fn stored_hash(app: &TestApp, email: &str) -> Option<String> {
    let email = EmailAddress::parse(email).expect("email");
    authstack_instance::users::store::find_by_email(&app.app.db, &email)
        .await
        .expect("db")
        .expect("imported")
        .password_hash
}

async fn user_count(app: &TestApp) -> i64 {
    sqlx::query("SELECT COUNT(*) AS n FROM users")
        .fetch_one(&app.app.db.pool)
        .await
        .expect("count")
        .try_get("n")
        .expect("n")
}

async fn the_documented_user_imports_signs_in_and_is_rehashed(backend: Backend) {
    let app = app(backend).await;
    let dir = tempfile::tempdir().expect("dir");
    let config = format!("{FIXTURES}/hash_config.txt");

    let dry = stdout(&import(
        &app,
        dir.path(),
        &["--hash-config", &config, "--dry-run"],
        &[],
    ));
    assert!(
        dry.contains("users: would import 3, already present 0"),
        "{dry}"
    );
    assert_eq!(user_count(&app).await, 0, "a dry run writes nothing");
    assert!(!dir.path().join("users.json.rejected.jsonl").exists());

    let out = stdout(&import(&app, dir.path(), &["--hash-config", &config], &[]));
    assert!(
        out.contains("users: imported 3, already present 0"),
        "{out}"
    );
    assert!(out.contains("with a Firebase password: 1\n"), "{out}");
    assert!(out.contains("without a password"), "{out}");
    assert!(
        out.contains("sign-in providers not carried over: google.com 1"),
        "{out}"
    );
    assert!(out.contains("phone numbers not carried over: 1"), "{out}");
    assert!(out.contains("rejected: 2"), "{out}");
    assert!(
        !out.contains(SIGNER_KEY) && !out.contains("jxspr8"),
        "no key in the report"
    );
    let rejected: Vec<serde_json::Value> =
        std::fs::read_to_string(dir.path().join("users.json.rejected.jsonl"))
            .expect("rejected file")
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
    let reasons: Vec<(u64, &str)> = rejected
        .iter()
        .map(|r| {
            (
                r["index"].as_u64().expect("index"),
                r["reason"].as_str().expect("reason"),
            )
        })
        .collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert_eq!(reasons[0].0, 4);
    assert!(reasons[0].1.starts_with("no email"), "{reasons:?}");
    assert_eq!(reasons[1].0, 5);
    assert!(
        reasons[1]
            .1
            .contains("32 bytes where this signer key gives 64"),
        "{reasons:?}"
    );

    // The signer key is stored once, sealed; the user's hash names it and does not hold it.
    let keys = sqlx::query("SELECT id, key_sealed FROM password_hash_keys")
        .fetch_all(&app.app.db.pool)
        .await
        .expect("keys");
    assert_eq!(keys.len(), 1);
    let key_id: String = keys[0].try_get("id").expect("id");
    let sealed: String = keys[0].try_get("key_sealed").expect("sealed");
    assert!(!sealed.contains(&SIGNER_KEY[..20]));
    let imported = stored_hash(&app, "user1@test.com").await.expect("hash");
    assert!(
        imported.starts_with(&format!("$firebase-scrypt$k={key_id},ln=14,r=8,ss=Bw$")),
        "{imported}"
    );
    assert!(!imported.contains(&SIGNER_KEY[..20]));
    let user1 = authstack_instance::users::store::find_by_external_id(
        &app.app.db,
        "kYi4EvWQlQTKSfnJ3dRSP6IH3ed2",
    )
    .await
    .expect("db")
    .expect("found by localId");
    assert_eq!(user1.name.as_deref(), Some("Test User 1"));
    assert_eq!(user1.created_at, 1_508_893_925);
    assert_eq!(user1.metadata, serde_json::json!({ "plan": "pro" }));
    assert_eq!(stored_hash(&app, "social@example.com").await, None);

    // Signing in verifies Firebase's hash, then replaces it with Argon2id.
    assert_eq!(
        app.login("user1@test.com", "user1passwore").await.status,
        401
    );
    assert_eq!(stored_hash(&app, "user1@test.com").await, Some(imported));
    let reply = app.login("user1@test.com", "user1password").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let rehashed = stored_hash(&app, "user1@test.com").await.expect("hash");
    assert!(rehashed.starts_with("$argon2id$"), "{rehashed}");
    assert_eq!(
        app.login("user1@test.com", "user1password").await.status,
        200
    );
    // The disabled user is banned: right password or not, no session.
    let disabled = EmailAddress::parse("disabled@example.com").expect("email");
    let disabled = authstack_instance::users::store::find_by_email(&app.app.db, &disabled)
        .await
        .expect("db")
        .expect("imported");
    assert!(disabled.is_banned(app.clock.now()));

    // A re-run, with the parameters as flags this time, finds everyone and reuses the key.
    let again = stdout(&import(
        &app,
        dir.path(),
        &[
            "--rounds",
            "8",
            "--mem-cost",
            "14",
            "--salt-separator",
            "Bw==",
        ],
        &[("FIREBASE_SIGNER_KEY", SIGNER_KEY)],
    ));
    assert!(
        again.contains("users: imported 0, already present 3"),
        "{again}"
    );
    assert_eq!(user_count(&app).await, 3);
    let keys = sqlx::query("SELECT COUNT(*) AS n FROM password_hash_keys")
        .fetch_one(&app.app.db.pool)
        .await
        .expect("keys");
    assert_eq!(keys.try_get::<i64, _>("n").expect("n"), 1);
}

async fn the_import_refuses_another_master_key_and_missing_parameters(backend: Backend) {
    let app = app(backend).await;
    let dir = tempfile::tempdir().expect("dir");
    let config = format!("{FIXTURES}/hash_config.txt");
    let other = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    let output = import(
        &app,
        dir.path(),
        &["--hash-config", &config],
        &[("AUTHSTACK_MASTER_KEY", other)],
    );
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("not the instance's master key"), "{err}");

    let output = import(&app, dir.path(), &[], &[]);
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("2 users have a password hash"), "{err}");

    let output = import(
        &app,
        dir.path(),
        &[
            "--rounds",
            "8",
            "--mem-cost",
            "14",
            "--salt-separator",
            "Bw==",
        ],
        &[],
    );
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("FIREBASE_SIGNER_KEY"), "{err}");
    assert_eq!(user_count(&app).await, 0);
}
