//! The real `authstack-instance` binary as a child process: for the tests that kill it or run
//! several of it on one database.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use nix::unistd::Pid;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

const BIN: &str = env!("CARGO_BIN_EXE_authstack-instance");

/// How a [`Server`] is started: `dir/data` for its data, `dir/config.yaml` for its
/// configuration.
pub struct Launch<'a> {
    pub dir: &'a Path,
    /// The `iss` claim, fixed so that tokens verify across restarts and processes.
    pub issuer: &'a str,
    /// PostgreSQL; `None` for SQLite in the data directory.
    pub database_url: Option<&'a str>,
    pub redis_url: Option<&'a str>,
}

/// One `serve` process.
pub struct Server {
    pub child: Child,
    pub base: String,
    stdout: mpsc::UnboundedReceiver<String>,
}

impl Server {
    /// Starts the binary and waits for its "ready" log line.
    pub async fn start(launch: &Launch<'_>) -> Server {
        let mut command = Command::new(BIN);
        command
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--issuer",
                launch.issuer,
            ])
            .arg("--data-dir")
            .arg(launch.dir.join("data"))
            .arg("--config")
            .arg(launch.dir.join("config.yaml"))
            .env_remove("AUTHSTACK_DATABASE_URL")
            .env_remove("AUTHSTACK_REDIS_URL")
            // Test receivers listen on loopback.
            .env("AUTHSTACK_WEBHOOKS_ALLOW_PRIVATE", "true")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(url) = launch.database_url {
            command.env("AUTHSTACK_DATABASE_URL", url);
        }
        if let Some(url) = launch.redis_url {
            command.env("AUTHSTACK_REDIS_URL", url);
        }
        let mut child = command.spawn().expect("spawn the instance");
        let (ready_tx, mut ready_rx) = mpsc::unbounded_channel();
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
        // Drained to the end: a full pipe would stall the server.
        tokio::spawn(async move {
            while let Ok(Some(line)) = stderr.next_line().await {
                let entry: Value = serde_json::from_str(&line).unwrap_or(Value::Null);
                if entry["message"] == "ready" {
                    let _ = ready_tx.send(entry["addr"].as_str().unwrap_or_default().to_owned());
                }
            }
        });
        let (stdout_tx, stdout) = mpsc::unbounded_channel();
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                let _ = stdout_tx.send(line);
            }
        });
        let addr = tokio::time::timeout(Duration::from_secs(60), ready_rx.recv())
            .await
            .expect("ready in 60 s")
            .expect("the instance exited before it was ready");
        Server {
            child,
            base: format!("http://{addr}"),
            stdout,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id().expect("running") as i32)
    }

    /// The admin key a first start prints.
    pub async fn admin_key(&mut self) -> String {
        loop {
            let line = tokio::time::timeout(Duration::from_secs(30), self.stdout.recv())
                .await
                .expect("the admin key in 30 s")
                .expect("stdout open");
            if let Some((_, key)) = line.split_once("store it now): ") {
                return key.trim().to_owned();
            }
        }
    }

    pub fn assert_no_new_admin_key(mut self) {
        while let Ok(line) = self.stdout.try_recv() {
            assert!(!line.contains("ask_admin_"), "a restart printed a key");
        }
    }
}
