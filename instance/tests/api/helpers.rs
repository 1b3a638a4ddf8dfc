//! `spawn_app`: the real server on port 0 with a fresh database (SQLite in a temp dir, or a new
//! PostgreSQL database), a manual clock, and typed request helpers.

use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::Duration;

use authstack_instance::clock::Clock;
use authstack_instance::config::{InstanceConfig, ServerConfig};
use authstack_instance::{AppState, Running};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use sqlx::Connection;

#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite,
    Postgres { admin_url: String },
}

impl Backend {
    /// PostgreSQL from `AUTHSTACK_TEST_DATABASE_URL`. Without it the PostgreSQL variant of a
    /// test is skipped with a message, except in CI, where that is a failure.
    pub fn postgres() -> Option<Backend> {
        match std::env::var("AUTHSTACK_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => Some(Backend::Postgres { admin_url: url }),
            _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
                panic!(
                    "CI=true but AUTHSTACK_TEST_DATABASE_URL is not set: the PostgreSQL suite must run in CI"
                )
            }
            _ => {
                eprintln!("skipped: set AUTHSTACK_TEST_DATABASE_URL to run the PostgreSQL variant");
                None
            }
        }
    }

    /// A database URL for a fresh, empty database (`None` for SQLite).
    pub async fn fresh_database(&self) -> Option<String> {
        let Backend::Postgres { admin_url } = self else {
            return None;
        };
        let name = format!("authstack_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::postgres::PgConnection::connect(admin_url)
            .await
            .expect("connect to PostgreSQL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create test database");
        conn.close().await.ok();
        let (base, _) = admin_url.rsplit_once('/').expect("database URL has a path");
        Some(format!("{base}/{name}"))
    }
}

#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    if let Some(backend) = $crate::helpers::Backend::postgres() {
                        super::$name(backend).await
                    }
                }
            )*
        }
    };
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub admin_key: String,
    pub clock: Clock,
    pub app: AppState,
    pub data_dir: tempfile::TempDir,
    database_url: Option<String>,
    config: InstanceConfig,
    issuer: String,
    allow_private_webhooks: bool,
    running: Option<Running>,
}

/// The instance owner's address every test app mails about its operation
/// (`AUTHSTACK_NOTIFY_EMAIL`).
pub const OWNER_EMAIL: &str = "owner@customer.test";

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, InstanceConfig::default()).await
}

pub async fn spawn_app_with(backend: Backend, config: InstanceConfig) -> TestApp {
    spawn_app_allowing(backend, config, true).await
}

/// An app that refuses webhooks to loopback and private addresses, as in production.
pub async fn spawn_app_refusing_private_webhooks(
    backend: Backend,
    config: InstanceConfig,
) -> TestApp {
    spawn_app_allowing(backend, config, false).await
}

async fn spawn_app_allowing(
    backend: Backend,
    config: InstanceConfig,
    allow_private_webhooks: bool,
) -> TestApp {
    // In a workspace build reqwest is compiled with the control plane's TLS feature, which has
    // no default crypto provider: install the one the workspace uses.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let data_dir = tempfile::tempdir().expect("temp dir");
    let database_url = backend.fresh_database().await;
    let clock = Clock::Offset(Arc::new(AtomicI64::new(0)));
    let issuer = format!(
        "https://{}.instances.authstack.test",
        uuid::Uuid::new_v4().simple()
    );
    let running = start_with(
        &data_dir,
        database_url.clone(),
        config.clone(),
        clock.clone(),
        &issuer,
        Vec::new(),
        allow_private_webhooks,
    )
    .await;
    let admin_key = running
        .initial_admin_key
        .as_ref()
        .expect("a fresh instance prints an admin key")
        .expose_secret()
        .to_owned();
    TestApp {
        base: format!("http://{}", running.addr),
        http: reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client"),
        admin_key,
        app: running.app.clone(),
        clock,
        data_dir,
        database_url,
        config,
        issuer,
        allow_private_webhooks,
        running: Some(running),
    }
}

/// The issuer is fixed per test app (as in production) so that tokens survive a restart on a
/// new port.
async fn start_with(
    data_dir: &tempfile::TempDir,
    database_url: Option<String>,
    config: InstanceConfig,
    clock: Clock,
    issuer: &str,
    previous_issuers: Vec<String>,
    allow_private_webhooks: bool,
) -> Running {
    let mut server = ServerConfig::embedded(data_dir.path());
    server.allow_private_webhooks = allow_private_webhooks;
    server.notify_email = Some(OWNER_EMAIL.to_owned());
    server.issuer = Some(issuer.to_owned());
    server.previous_issuers = previous_issuers;
    server.listen = "127.0.0.1:0".parse().expect("addr");
    server.database_url = database_url.map(SecretString::from);
    server.instance = config;
    authstack_instance::start(server, clock)
        .await
        .expect("instance starts")
}

/// A response's status and JSON body (`Value::Null` when empty or not JSON).
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub async fn from(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("body");
        Reply {
            status,
            headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    /// Asserts an error reply: status, stable code, and a non-empty message.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert_eq!(self.body["error"], code, "body: {}", self.body);
        assert!(
            self.body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "body: {}",
            self.body
        );
    }

    /// The session in this reply: the body itself (signup, login, refresh) or its `session`
    /// (an accepted invitation).
    fn session(&self) -> &Value {
        if self.body["session"].is_object() {
            &self.body["session"]
        } else {
            &self.body
        }
    }

    /// The signed-in user's id.
    pub fn user_id(&self) -> String {
        self.session()["user"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no user id in {}", self.body))
            .to_owned()
    }

    /// The access token of the session.
    pub fn access_token(&self) -> String {
        self.session()["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("no access token in {}", self.body))
            .to_owned()
    }

    pub fn str(&self, field: &str) -> String {
        self.body[field]
            .as_str()
            .unwrap_or_else(|| panic!("no string {field} in {}", self.body))
            .to_owned()
    }
}

impl TestApp {
    pub fn database_url(&self) -> Option<String> {
        self.database_url.clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        Reply::from(
            self.http
                .post(self.url(path))
                .json(&body)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn post_as(&self, path: &str, token: &str, body: Value) -> Reply {
        Reply::from(
            self.http
                .post(self.url(path))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn get_as(&self, path: &str, token: &str) -> Reply {
        Reply::from(
            self.http
                .get(self.url(path))
                .bearer_auth(token)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn patch_as(&self, path: &str, token: &str, body: Value) -> Reply {
        Reply::from(
            self.http
                .patch(self.url(path))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn delete_as(&self, path: &str, token: &str) -> Reply {
        Reply::from(
            self.http
                .delete(self.url(path))
                .bearer_auth(token)
                .send()
                .await
                .expect("request"),
        )
        .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        Reply::from(self.http.get(self.url(path)).send().await.expect("request")).await
    }

    /// Creates a verified user through the admin API and logs in; returns the login reply.
    pub async fn register(&self, email: &str, password: &str) -> Reply {
        let created = self
            .post_as(
                "/v1/admin/users",
                &self.admin_key,
                json!({ "email": email, "password": password, "email_verified": true }),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        self.login(email, password).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.post(
            "/v1/auth/login",
            json!({ "email": email, "password": password }),
        )
        .await
    }

    /// Creates an organization as `token`'s user; returns its id.
    pub async fn create_org(&self, token: &str, name: &str) -> String {
        let reply = self
            .post_as("/v1/organizations", token, json!({ "name": name }))
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.str("id")
    }

    /// Invites `email` with `role` and accepts as a new user; returns the accept reply, whose
    /// `session` holds the new member's tokens.
    pub async fn join_as_new_user(
        &self,
        org_id: &str,
        inviter_token: &str,
        email: &str,
        role: &str,
    ) -> Reply {
        let before = self
            .outbox()
            .iter()
            .filter(|m| m["to"] == email && m["kind"] == "invitation")
            .count();
        let invited = self
            .post_as(
                &format!("/v1/organizations/{org_id}/invitations"),
                inviter_token,
                json!({ "email": email, "role": role }),
            )
            .await;
        assert_eq!(invited.status, 201, "{}", invited.body);
        let token = self.mailed_token(email, "invitation", before + 1).await;
        let accepted = self
            .post(
                "/v1/invitations/accept",
                json!({ "token": token, "password": "correct horse battery" }),
            )
            .await;
        assert_eq!(accepted.status, 201, "{}", accepted.body);
        accepted
    }

    /// Every message in the outbox, oldest first.
    pub fn outbox(&self) -> Vec<Value> {
        let dir = self.data_dir.path().join("outbox");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .map(|entries| entries.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default();
        files.sort();
        files
            .iter()
            .filter_map(|p| std::fs::read(p).ok())
            .filter_map(|bytes| serde_json::from_slice(&bytes).ok())
            .collect()
    }

    /// Waits for the `n`-th (1-based) message of `kind` to `to` and returns its token.
    pub async fn mailed_token(&self, to: &str, kind: &str, n: usize) -> String {
        for _ in 0..100 {
            let mails: Vec<Value> = self
                .outbox()
                .into_iter()
                .filter(|m| m["to"] == to && m["kind"] == kind)
                .collect();
            if let Some(mail) = mails.get(n - 1) {
                let link = mail["link"].as_str().expect("mail has a link");
                return link
                    .split("token=")
                    .nth(1)
                    .expect("link carries a token")
                    .to_owned();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no mail #{n} of kind {kind} to {to}; outbox: {:?}",
            self.outbox()
        );
    }

    /// Waits for background mail work to settle, then counts messages to `to` of `kind`.
    pub async fn count_mails(&self, to: &str, kind: &str) -> usize {
        tokio::time::sleep(Duration::from_millis(400)).await;
        self.outbox()
            .iter()
            .filter(|m| m["to"] == to && m["kind"] == kind)
            .count()
    }

    /// Stops the server and starts it again on the same data dir and database.
    pub async fn restart(self) -> TestApp {
        let issuer = self.issuer.clone();
        self.restart_at(&issuer, Vec::new()).await
    }

    /// Restarts with a changed configuration, as a new revision is applied: the same data
    /// directory, database, clock and issuer.
    pub async fn restart_with(mut self, config: InstanceConfig) -> TestApp {
        self.config = config;
        self.restart().await
    }

    /// Restarts as [`TestApp::restart`] does, announcing `issuer` and still accepting tokens of
    /// `previous_issuers` (an instance that moved to a new public address).
    pub async fn restart_at(mut self, issuer: &str, previous_issuers: Vec<String>) -> TestApp {
        if let Some(running) = self.running.take() {
            running.stop().await.expect("clean stop");
        }
        self.issuer = issuer.to_owned();
        let running = start_with(
            &self.data_dir,
            self.database_url.clone(),
            self.config.clone(),
            self.clock.clone(),
            &self.issuer,
            previous_issuers,
            self.allow_private_webhooks,
        )
        .await;
        assert!(
            running.initial_admin_key.is_none(),
            "a restart must not mint another admin key"
        );
        self.base = format!("http://{}", running.addr);
        self.app = running.app.clone();
        self.running = Some(running);
        self
    }
}

/// Redis from `AUTHSTACK_TEST_REDIS_URL`. Without it the Redis variant of a test is skipped with
/// a message, except in CI, where that is a failure.
pub fn redis_url() -> Option<String> {
    match std::env::var("AUTHSTACK_TEST_REDIS_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "CI=true but AUTHSTACK_TEST_REDIS_URL is not set: the Redis tests must run in CI"
            )
        }
        _ => {
            eprintln!("skipped: set AUTHSTACK_TEST_REDIS_URL to run the Redis variant");
            None
        }
    }
}

/// Sends every `(url, body)` as a POST at once, each on its own connection, released together,
/// and answers their statuses in order.
pub async fn post_all_at_once(requests: Vec<(String, serde_json::Value)>) -> Vec<u16> {
    let start = std::sync::Arc::new(tokio::sync::Barrier::new(requests.len()));
    let sent: Vec<_> = requests
        .into_iter()
        .map(|(url, body)| {
            let start = start.clone();
            tokio::spawn(async move {
                let http = reqwest::Client::builder()
                    .no_proxy()
                    .build()
                    .expect("client");
                start.wait().await;
                http.post(url)
                    .json(&body)
                    .send()
                    .await
                    .expect("request")
                    .status()
                    .as_u16()
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for request in sent {
        statuses.push(request.await.expect("task"));
    }
    statuses
}
