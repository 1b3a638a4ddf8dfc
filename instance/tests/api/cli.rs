//! The `authstack-instance` binary: `serve` as an operator runs it, and `import`.

use std::io::{BufRead, BufReader, Write};

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::backend_tests;
use crate::helpers::Backend;

const BIN: &str = env!("CARGO_BIN_EXE_authstack-instance");

backend_tests!(
    import_is_resumable_and_reports_rejected_rows,
    an_auth0_export_imports_with_its_bcrypt_hashes
);

async fn import_is_resumable_and_reports_rejected_rows(backend: Backend) {
    // Start an instance so the database exists and has its schema; then import beside it.
    let app = crate::helpers::spawn_app(backend).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("users.jsonl");
    let argon = authstack_instance::passwords::hash_blocking("imported passphrase").expect("hash");
    let mut lines = Vec::new();
    for i in 0..25 {
        lines.push(json!({ "email": format!("bulk{i}@example.com"), "password_hash": argon, "email_verified": true }).to_string());
    }
    lines.push("{not json".into());
    lines.push(json!({ "email": "bulk0@example.com" }).to_string());
    lines.push(json!({ "email": "bad-address" }).to_string());
    std::fs::write(&file, lines.join("\n") + "\n").expect("write");

    let run = |extra: &[&str]| {
        let mut command = Command::new(BIN);
        command
            .arg("import")
            .arg(&file)
            .arg("--data-dir")
            .arg(app.data_dir.path())
            .args(["--batch-size", "10"])
            .args(extra);
        if let Some(url) = app
            .app
            .db
            .backend
            .eq(&authstack_instance::db::Backend::Postgres)
            .then(|| database_url(&app))
        {
            command.arg("--database-url").arg(url);
        }
        let output = command.output().expect("run import");
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let out = run(&[]);
    assert!(out.contains("imported 25 users, rejected 3 rows"), "{out}");
    let rejected = std::fs::read_to_string(dir.path().join("users.jsonl.rejected.jsonl"))
        .expect("rejected file");
    let lines_rejected: Vec<u64> = rejected
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("json")["index"]
                .as_u64()
                .expect("line")
        })
        .collect();
    assert_eq!(lines_rejected, vec![26, 27, 28]);

    // Resuming finds nothing left to do.
    let out = run(&[]);
    assert!(out.contains("imported 0 users, rejected 0 rows"), "{out}");
    // Starting over rejects everyone as existing, and imports nobody twice.
    let out = run(&["--restart"]);
    assert!(out.contains("imported 0 users, rejected 28 rows"), "{out}");
    assert_eq!(
        app.login("bulk24@example.com", "imported passphrase")
            .await
            .status,
        200
    );
}

/// `import auth0 FILE`: an Auth0 export's lines (bcrypt `passwordHash` with 10 rounds, as Auth0
/// stores them), resumable and with rejected lines, like the JSON-lines import.
async fn an_auth0_export_imports_with_its_bcrypt_hashes(backend: Backend) {
    let app = crate::helpers::spawn_app(backend).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("auth0.jsonl");
    let hash = bcrypt::hash("auth0 passphrase", 10).expect("bcrypt");
    let lines = [
        json!({ "_id": { "$oid": "60425da9e9d6c4006c5b3c3e" }, "email": "zero@example.com", "email_verified": true,
                "name": "zero@example.com", "given_name": "Zed", "family_name": "Zero", "passwordHash": hash,
                "tenant": "example", "connection": "Username-Password-Authentication" }),
        json!({ "user_id": "auth0|abc", "email": "one@example.com", "email_verified": true, "name": "One",
                "user_metadata": { "plan": "pro" } }),
        json!({ "email_verified": true }),
    ];
    let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    std::fs::write(&file, text.join("\n") + "\n").expect("write");
    let mut command = Command::new(BIN);
    command
        .args(["import", "auth0"])
        .arg(&file)
        .arg("--data-dir")
        .arg(app.data_dir.path());
    if let Some(url) = app.database_url() {
        command.arg("--database-url").arg(url);
    }
    let output = command.output().expect("run import");
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(out.contains("imported 2 users, rejected 1 rows"), "{out}");
    assert!(dir.path().join("auth0.jsonl.rejected.jsonl").exists());

    assert_eq!(
        app.login("zero@example.com", "auth0 passphrase")
            .await
            .status,
        200
    );
    let email = authstack_instance::users::EmailAddress::parse("zero@example.com").expect("email");
    let zero = authstack_instance::users::store::find_by_email(&app.app.db, &email)
        .await
        .expect("db")
        .expect("imported");
    assert_eq!(
        zero.external_id.as_deref(),
        Some("auth0|60425da9e9d6c4006c5b3c3e")
    );
    assert_eq!(zero.name.as_deref(), Some("Zed Zero"));
    assert!(
        zero.password_hash
            .is_some_and(|h| h.starts_with("$argon2id$")),
        "rehashed at sign-in"
    );
}

fn database_url(app: &crate::helpers::TestApp) -> String {
    app.database_url().expect("postgres test app has a URL")
}

/// `serve` prints the admin key once on stdout, logs one JSON "ready" line, and stops cleanly
/// on SIGTERM; a second start on the same directory prints no new key.
#[test]
fn serve_prints_the_admin_key_once_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("dir");
    let start = || {
        Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    // Reads the JSON log until "ready", then keeps draining it on a thread (as a log collector
    // would) and hands back everything logged, once the process has exited.
    let wait_ready = |child: &mut std::process::Child| {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().expect("stderr");
        let drain = std::thread::spawn(move || {
            let mut lines = Vec::new();
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let entry: serde_json::Value = serde_json::from_str(&line)
                    .unwrap_or_else(|_| panic!("log lines are JSON: {line}"));
                if entry["message"] == "ready" {
                    assert!(entry["addr"].as_str().is_some());
                    ready_tx.send(()).ok();
                }
                lines.push(entry);
            }
            lines
        });
        ready_rx
            .recv_timeout(Duration::from_secs(30))
            .expect("ready in time");
        drain
    };
    let stop = |child: std::process::Child,
                drain: std::thread::JoinHandle<Vec<serde_json::Value>>| {
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let output = child.wait_with_output().expect("wait");
        assert!(
            output.status.success(),
            "graceful exit, got {:?}",
            output.status
        );
        let log = drain.join().expect("log reader");
        assert!(
            log.iter().any(|e| e["message"] == "shutting down"),
            "{log:?}"
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };

    let mut first = start();
    let log = wait_ready(&mut first);
    let stdout = stop(first, log);
    assert!(stdout.contains("Admin secret key (shown once"), "{stdout}");
    assert!(stdout.contains("ask_admin_"));

    let mut second = start();
    let log = wait_ready(&mut second);
    let stdout = stop(second, log);
    assert!(
        !stdout.contains("ask_admin_"),
        "the key is shown only on first start: {stdout}"
    );
    std::io::stdout().flush().ok();
}
