//! `spawn_platform`: the gateway and the control plane in this process, local instances as real
//! `authstack instance` processes, a manual clock, and typed request helpers — the product as a
//! customer meets it, through HTTP.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::{Duration, Instant};

use authstack_control_plane::config::Config;
use authstack_control_plane::gateway::{self, GatewayOptions, RunningGateway};
use authstack_control_plane::{AppState, Running};
use authstack_instance::clock::Clock;
use authstack_instance::crypto::MasterKey;
use serde_json::{Value, json};

mod api;
mod fake_stripe;
mod receiver;

pub use fake_stripe::{FakeStripe, StripeRequest, customer_id};
pub use receiver::{Received, Receiver};

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestPlatform {
    pub dir: Arc<tempfile::TempDir>,
    pub cp: String,
    pub gateway: String,
    pub platform_key: String,
    pub client: reqwest::Client,
    pub clock: Clock,
    pub running: Option<Running>,
    pub gateway_running: Option<RunningGateway>,
    pub config: Config,
    /// Set when a restarted platform took over this one's instances.
    handed_over: bool,
}

pub fn executable() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_authstack"))
}

/// A config for `dir` with billing `none`; tests adjust it before [`spawn_platform_with`].
pub fn test_config(dir: &Path) -> Config {
    let mut config = Config::embedded(dir);
    config.listen = "127.0.0.1:0".parse().expect("address");
    config.instance_executable = Some(executable());
    config.billing_tick = Duration::from_millis(200);
    config.stop_instances_on_shutdown = true;
    config
}

/// A fresh PostgreSQL database for the control plane, from `AUTHSTACK_TEST_DATABASE_URL`;
/// `None` (skipped, with a message) without it, except under `CI=true`, where that fails.
pub async fn fresh_postgres() -> Option<String> {
    let admin_url = match std::env::var("AUTHSTACK_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "CI=true but AUTHSTACK_TEST_DATABASE_URL is not set: the PostgreSQL variant must run in CI"
            )
        }
        _ => {
            eprintln!("skipped: set AUTHSTACK_TEST_DATABASE_URL to run the PostgreSQL variant");
            return None;
        }
    };
    use sqlx::Connection;
    let name = format!("authstack_test_{}", uuid::Uuid::new_v4().simple());
    let mut conn = sqlx::postgres::PgConnection::connect(&admin_url)
        .await
        .expect("connect to PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create database");
    conn.close().await.ok();
    let (base, _) = admin_url.rsplit_once('/').expect("database URL has a path");
    Some(format!("{base}/{name}"))
}

pub async fn spawn_platform() -> TestPlatform {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let config = test_config(dir.path());
    spawn_platform_with(dir, config).await
}

/// Starts the platform on `config`. With `AUTHSTACK_TEST_CONTROL_PLANE_BACKEND=postgres` a
/// config without a database URL gets a fresh PostgreSQL database (`scripts/test` runs the
/// suite once on SQLite and once so).
pub async fn spawn_platform_with(dir: Arc<tempfile::TempDir>, mut config: Config) -> TestPlatform {
    if config.database_url.is_none()
        && std::env::var("AUTHSTACK_TEST_CONTROL_PLANE_BACKEND").is_ok_and(|v| v == "postgres")
    {
        let url = fresh_postgres()
            .await
            .expect("the PostgreSQL run needs AUTHSTACK_TEST_DATABASE_URL");
        config.database_url = Some(url.into());
    }
    let clock = Clock::Offset(Arc::new(AtomicI64::new(0)));
    start(dir, config, clock, "127.0.0.1:0".parse().expect("address")).await
}

/// localstripe's URL from `AUTHSTACK_TEST_LOCALSTRIPE_URL` (`scripts/localstripe start`), or
/// `None` (skipped, with a message) without it, except under `CI=true`, where that fails.
pub fn localstripe_url() -> Option<String> {
    match std::env::var("AUTHSTACK_TEST_LOCALSTRIPE_URL") {
        Ok(url) if !url.is_empty() => Some(url.trim_end_matches('/').to_owned()),
        _ if std::env::var("CI").is_ok_and(|ci| ci == "true") => {
            panic!(
                "CI=true but AUTHSTACK_TEST_LOCALSTRIPE_URL is unset: run `scripts/localstripe start` first"
            )
        }
        _ => {
            eprintln!(
                "skipped: set AUTHSTACK_TEST_LOCALSTRIPE_URL (eval \"$(scripts/localstripe start)\")"
            );
            None
        }
    }
}

/// reqwest here is built without a default TLS provider; the process needs one before any
/// client exists (the control plane installs the same one at start).
pub fn install_tls_provider() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    // AUTHSTACK_TEST_LOG=debug (or any filter) shows the control plane's log in test output.
    if let Ok(filter) = std::env::var("AUTHSTACK_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_test_writer()
            .try_init();
    }
}

async fn start(
    dir: Arc<tempfile::TempDir>,
    mut config: Config,
    clock: Clock,
    gateway_listen: std::net::SocketAddr,
) -> TestPlatform {
    install_tls_provider();
    std::fs::create_dir_all(dir.path()).expect("data dir");
    let master = Arc::new(MasterKey::load_or_create(None, dir.path()).expect("master key"));
    let url = config
        .database_url
        .as_ref()
        .map(|url| secrecy::ExposeSecret::expose_secret(url).to_owned());
    let db = authstack_control_plane::db::connect(url.as_deref(), dir.path())
        .await
        .expect("database");
    let gateway_running = gateway::start(GatewayOptions {
        listen: gateway_listen,
        db,
        master,
        clock: clock.clone(),
        catalog: config.catalog.clone(),
        poll_interval: Duration::from_millis(100),
        upstream_timeout: Duration::from_secs(30),
    })
    .await
    .expect("gateway starts");
    config.gateway_url = Some(format!("http://{}", gateway_running.addr));
    let running = authstack_control_plane::start(config.clone(), clock.clone())
        .await
        .expect("control plane starts");
    let cp = format!("http://{}", running.addr);
    let client = reqwest::Client::new();
    let info: Value = client
        .get(format!("{cp}/v1/platform"))
        .send()
        .await
        .expect("platform info")
        .json()
        .await
        .expect("json");
    TestPlatform {
        dir,
        cp,
        gateway: format!("http://{}", gateway_running.addr),
        platform_key: info["publishable_key"]
            .as_str()
            .expect("platform key")
            .to_owned(),
        client,
        clock,
        running: Some(running),
        gateway_running: Some(gateway_running),
        config,
        handed_over: false,
    }
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    pub async fn from(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, body }
    }

    pub fn assert_ok(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "{}", self.body);
        self
    }

    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["error"], code, "{}", self.body);
        assert!(self.body["message"].is_string(), "{}", self.body);
    }

    pub fn str(&self, field: &str) -> String {
        self.body[field]
            .as_str()
            .unwrap_or_else(|| panic!("no string {field} in {}", self.body))
            .to_owned()
    }
}

/// A signed-in dashboard user working in an account.
#[derive(Debug, Clone)]
pub struct Owner {
    pub account_id: String,
    pub organization_id: String,
    /// A platform token whose organization is the account.
    pub token: String,
}

impl TestPlatform {
    pub fn app(&self) -> &AppState {
        &self.running.as_ref().expect("running").app
    }

    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        Reply::from(request.send().await.expect("request sent")).await
    }

    /// A control-plane call with a platform token.
    pub async fn cp(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.cp))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request).await
    }

    /// A call through the gateway with a publishable key (and an end user's token if any).
    pub async fn via_key(
        &self,
        method: reqwest::Method,
        path: &str,
        key: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.gateway))
            .header("x-authstack-key", key);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.send(request).await
    }

    /// Another gateway on this platform's database, polling route changes every `poll`.
    pub async fn extra_gateway(&self, poll: Duration) -> RunningGateway {
        let url = self
            .config
            .database_url
            .as_ref()
            .map(|url| secrecy::ExposeSecret::expose_secret(url).to_owned());
        let db = authstack_control_plane::db::connect(url.as_deref(), self.dir.path())
            .await
            .expect("database");
        let master = MasterKey::load_or_create(None, self.dir.path()).expect("master key");
        gateway::start(GatewayOptions {
            listen: "127.0.0.1:0".parse().expect("address"),
            db,
            master: Arc::new(master),
            clock: self.clock.clone(),
            catalog: self.config.catalog.clone(),
            poll_interval: poll,
            upstream_timeout: Duration::from_secs(30),
        })
        .await
        .expect("gateway starts")
    }

    /// A call through the gateway with a secret key.
    pub async fn via_secret(&self, method: reqwest::Method, path: &str, key: &str) -> Reply {
        self.send(
            self.client
                .request(method, format!("{}{path}", self.gateway))
                .bearer_auth(key),
        )
        .await
    }

    pub fn instance_dir(&self, instance_id: &str) -> PathBuf {
        self.dir.path().join("instances").join(instance_id)
    }

    /// Waits for the `kind` mail to `to` in an instance's outbox and returns its token.
    pub async fn mailed_token(&self, instance_id: &str, to: &str, kind: &str) -> String {
        let dir = self.instance_dir(instance_id).join("data").join("outbox");
        for _ in 0..200 {
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).collect())
                .unwrap_or_default();
            files.sort();
            for file in files {
                let Ok(bytes) = std::fs::read(&file) else {
                    continue;
                };
                let Ok(mail) = serde_json::from_slice::<Value>(&bytes) else {
                    continue;
                };
                if mail["to"] == to && mail["kind"] == kind {
                    let link = mail["link"].as_str().expect("mail has a link");
                    return link
                        .split("token=")
                        .nth(1)
                        .expect("token in link")
                        .to_owned();
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("no {kind} mail to {to} in {}", dir.display());
    }

    /// Signs `email` up on the platform instance through the gateway, as the dashboard does,
    /// verifies the address from the mail and returns the session's access token.
    pub async fn sign_up_on_platform(&self, email: &str) -> String {
        let reply = self
            .via_key(
                reqwest::Method::POST,
                "/v1/auth/signup",
                &self.platform_key,
                None,
                Some(json!({ "email": email, "password": PASSWORD })),
            )
            .await;
        assert!(reply.status == 202 || reply.status == 201, "{}", reply.body);
        let platform_id = self.app().platform.instance_id.clone();
        let token = self.mailed_token(&platform_id, email, "verify_email").await;
        let verified = self
            .via_key(
                reqwest::Method::POST,
                "/v1/auth/email/verify",
                &self.platform_key,
                None,
                Some(json!({ "token": token })),
            )
            .await;
        verified.assert_ok(200);
        verified.str("access_token")
    }

    /// A new dashboard user with a new account, and a token working in it.
    pub async fn owner(&self, email: &str) -> Owner {
        let token = self.sign_up_on_platform(email).await;
        let created = self
            .post(
                "/v1/accounts",
                &token,
                json!({ "name": format!("Account of {email}") }),
            )
            .await;
        created.assert_ok(201);
        let organization_id = created.str("organization_id");
        let switched = self
            .via_key(
                reqwest::Method::POST,
                &format!("/v1/organizations/{organization_id}/switch"),
                &self.platform_key,
                Some(&token),
                None,
            )
            .await;
        switched.assert_ok(200);
        Owner {
            account_id: created.str("id"),
            organization_id,
            token: switched.str("access_token"),
        }
    }

    /// Subscribes (billing `none`) and waits until both instances are ready; returns them.
    pub async fn subscribe(&self, owner: &Owner, plan: &str) -> Vec<Value> {
        self.post(
            &format!("/v1/accounts/{}/subscription", owner.account_id),
            &owner.token,
            json!({ "plan": plan, "region": "local" }),
        )
        .await
        .assert_ok(200);
        self.wait_for_instances(owner, "ready").await
    }

    pub async fn wait_for_instances(&self, owner: &Owner, state: &str) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let reply = self
                .get(
                    &format!("/v1/accounts/{}/instances", owner.account_id),
                    &owner.token,
                )
                .await;
            reply.assert_ok(200);
            let data = reply.body["data"].as_array().cloned().unwrap_or_default();
            if data.len() == 2 && data.iter().all(|i| i["state"] == state) {
                return data;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "instances not {state}: {data:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A new owner subscribed to `plan` with both instances ready, its live instance's id and a
    /// live publishable key.
    pub async fn live_customer(&self, email: &str, plan: &str) -> (Owner, String, String) {
        let owner = self.owner(email).await;
        let instances = self.subscribe(&owner, plan).await;
        let live_id = instances
            .iter()
            .find(|i| i["environment"] == "live")
            .and_then(|i| i["id"].as_str())
            .expect("a live instance")
            .to_owned();
        let key = self.create_key(&owner, "live", "publishable").await["secret"]
            .as_str()
            .expect("key shown once")
            .to_owned();
        (owner, live_id, key)
    }

    pub async fn create_key(&self, owner: &Owner, environment: &str, kind: &str) -> Value {
        let reply = self
            .post(&format!("/v1/accounts/{}/keys", owner.account_id), &owner.token, json!({ "name": format!("{environment} {kind}"), "environment": environment, "kind": kind }))
            .await;
        reply.assert_ok(201);
        reply.body
    }

    /// Stops the control plane and the gateway.
    pub async fn stop(&mut self) {
        if let Some(gateway) = self.gateway_running.take() {
            gateway.stop().await;
        }
        if let Some(running) = self.running.take() {
            running.stop().await.expect("control plane stops");
        }
    }

    /// Stops and starts again on the same data dir and gateway port. Instances stop with the
    /// control plane or keep running, as `config.stop_instances_on_shutdown` says.
    pub async fn restart(mut self) -> TestPlatform {
        let gateway_addr = self.gateway_running.as_ref().expect("gateway").addr;
        let config = self.config.clone();
        let dir = self.dir.clone();
        let clock = self.clock.clone();
        self.stop().await;
        self.handed_over = true;
        start(dir, config, clock, gateway_addr).await
    }
}

impl TestPlatform {
    /// Stops, kills every instance process (a machine reboot), and starts again.
    pub async fn restart_after_reboot(mut self) -> TestPlatform {
        let gateway_addr = self.gateway_running.as_ref().expect("gateway").addr;
        let config = self.config.clone();
        let dir = self.dir.clone();
        let clock = self.clock.clone();
        self.stop().await;
        kill_instances(dir.path());
        tokio::time::sleep(Duration::from_millis(300)).await;
        self.handed_over = true;
        start(dir, config, clock, gateway_addr).await
    }
}

/// SIGKILLs every process the instances under a data dir record.
pub fn kill_instances(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir.join("instances")) {
        for entry in entries.flatten() {
            for pid in recorded_pids(&entry.path()) {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
}

impl Drop for TestPlatform {
    fn drop(&mut self) {
        // Instances are separate processes: make sure a failing test leaves none behind.
        if !self.handed_over {
            kill_instances(self.dir.path());
        }
    }
}

/// Whether `pid` is a live process (a zombie is not).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// The pid of the process serving a local instance (`pid.<port>` of the port in `port`).
pub fn serving_pid(instance_dir: &Path) -> Option<i32> {
    let port = std::fs::read_to_string(instance_dir.join("port")).ok()?;
    let pid = std::fs::read_to_string(instance_dir.join(format!("pid.{}", port.trim()))).ok()?;
    pid.trim().parse().ok()
}

/// Every pid a local instance's directory records (serving, starting or retiring processes).
pub fn recorded_pids(instance_dir: &Path) -> Vec<i32> {
    let Ok(entries) = std::fs::read_dir(instance_dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|entry| {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            name == "pid" || name.starts_with("pid.")
        })
        .filter_map(|entry| std::fs::read_to_string(entry.path()).ok())
        .filter_map(|text| text.trim().parse::<i32>().ok())
        .filter(|&pid| pid > 1)
        .collect()
}

/// The configuration file of the serving process (named by the digest in `spec.sha256`).
pub fn serving_config(instance_dir: &Path) -> Option<String> {
    let digest = std::fs::read_to_string(instance_dir.join("spec.sha256")).ok()?;
    let digest = digest.trim();
    let name = format!("config-{}.yaml", digest.get(..16).unwrap_or(digest));
    std::fs::read_to_string(instance_dir.join(name)).ok()
}

/// The steps an instance's row lists, oldest first.
pub fn steps(instance: &Value) -> Vec<String> {
    instance["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s["step"].as_str().map(str::to_owned))
        .collect()
}

/// The instance of `environment` (`live`, `test`) in a list of an account's instances.
pub fn instance_in<'a>(instances: &'a [Value], environment: &str) -> &'a Value {
    instances
        .iter()
        .find(|i| i["environment"] == environment)
        .expect("instance")
}
