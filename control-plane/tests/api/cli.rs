//! The CLI's sign-in: `authstack login` keeps a platform session and `authstack token` prints
//! a token that the control-plane API takes (both once panicked: no TLS provider outside the
//! server commands).
//!
//! - `login_then_token_gives_a_working_platform_token`

use std::io::Write;
use std::process::{Command, Stdio};

use crate::helpers::{PASSWORD, executable, spawn_platform};

#[tokio::test]
async fn login_then_token_gives_a_working_platform_token() {
    let platform = spawn_platform().await;
    let owner = platform.owner("cli@example.com").await;
    let config = tempfile::tempdir().expect("temp dir");
    let url = platform.cp.clone();
    let config_dir = config.path().to_owned();
    let (login, token) = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(executable())
            .args([
                "login",
                "--url",
                &url,
                "--email",
                "cli@example.com",
                "--password-stdin",
            ])
            .env("AUTHSTACK_CONFIG_DIR", &config_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start authstack login");
        writeln!(child.stdin.take().expect("stdin"), "{PASSWORD}").expect("password");
        let login = child.wait_with_output().expect("authstack login");
        let token = Command::new(executable())
            .arg("token")
            .env("AUTHSTACK_CONFIG_DIR", &config_dir)
            .output()
            .expect("authstack token");
        (login, token)
    })
    .await
    .expect("join");
    assert!(
        login.status.success(),
        "{}",
        String::from_utf8_lossy(&login.stderr)
    );
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let token = String::from_utf8(token.stdout).expect("utf-8");
    let account = platform
        .get(&format!("/v1/accounts/{}", owner.account_id), token.trim())
        .await;
    account.assert_ok(200);
}
