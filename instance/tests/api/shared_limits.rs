//! Limits shared between replicas: two `serve` processes on one database (and, when Redis is
//! given, one Redis) count failed logins against one limit. Each process alone would let
//! `max` guesses through; together they still let `max` through.
//!
//! - `two_processes_on_one_database_share_one_limit` (SQLite file and PostgreSQL)
//! - `two_processes_on_redis_share_one_limit`

use base64::Engine;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, post_all_at_once, redis_url};
use crate::process::{Launch, Server};

const ISSUER: &str = "https://shared-limits.instances.authstack.test";
const EMAIL: &str = "kim@example.com";
const PASSWORD: &str = "correct horse battery staple";
/// Guesses per account; the per-IP limit is out of the way (every request is from loopback).
const MAX: usize = 4;
const CONFIG: &str = "\
auth:
  require_email_verification: false
rate_limits:
  failed_logins_per_account: { max: 4, window_secs: 900 }
  failed_logins_per_ip: { max: 1000, window_secs: 900 }
";
/// Parallel guesses per process.
const GUESSES: usize = 12;

backend_tests!(two_processes_on_one_database_share_one_limit);

async fn two_processes_on_one_database_share_one_limit(backend: Backend) {
    let database_url = backend.fresh_database().await;
    let replicas = Replicas::start(database_url.as_deref(), None).await;
    replicas.sign_up().await;
    replicas.assert_one_limit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_redis_share_one_limit() {
    let Some(redis) = redis_url() else { return };
    let replicas = Replicas::start(None, Some(&redis)).await;
    let token = replicas.sign_up().await;
    replicas.assert_one_limit().await;

    // The counters are in Redis, under this instance's keys, and no address is there in clear.
    let instance_id = claim(&token, "aud");
    let client = redis::Client::open(redis.as_str()).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect to Redis");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("authstack:{{{instance_id}}}:rl:*"))
        .query_async(&mut conn)
        .await
        .expect("KEYS");
    assert!(!keys.is_empty(), "no counter of {instance_id} in Redis");
    assert!(keys.iter().all(|k| !k.contains(EMAIL)), "{keys:?}");
}

/// Two processes of one instance, as two replicas behind a load balancer.
struct Replicas {
    _dir: tempfile::TempDir,
    servers: [Server; 2],
    http: reqwest::Client,
}

impl Replicas {
    async fn start(database_url: Option<&str>, redis_url: Option<&str>) -> Replicas {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("config.yaml"), CONFIG).expect("config");
        let launch = Launch {
            dir: dir.path(),
            issuer: ISSUER,
            database_url,
            redis_url,
        };
        // The first creates the database (and the instance's id and keys); the second joins it.
        let first = Server::start(&launch).await;
        let second = Server::start(&launch).await;
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client");
        Replicas {
            _dir: dir,
            servers: [first, second],
            http,
        }
    }

    async fn sign_up(&self) -> String {
        let (status, body) = self.login(0, "/v1/auth/signup", PASSWORD).await;
        assert!(status == 200 || status == 201, "{status} {body}");
        body["access_token"]
            .as_str()
            .expect("access token")
            .to_owned()
    }

    async fn login(&self, server: usize, path: &str, password: &str) -> (u16, Value) {
        let response = self
            .http
            .post(self.servers[server].url(path))
            .json(&json!({ "email": EMAIL, "password": password }))
            .send()
            .await
            .expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `GUESSES` wrong passwords on each process at once: `MAX` of them are checked in all,
    /// the rest refused, and then the right password is refused on both.
    async fn assert_one_limit(&self) {
        let statuses = post_all_at_once(
            (0..2 * GUESSES)
                .map(|i| {
                    let body = json!({ "email": EMAIL, "password": format!("wrong guess {i}") });
                    (self.servers[i % 2].url("/v1/auth/login"), body)
                })
                .collect(),
        )
        .await;
        let checked = statuses.iter().filter(|&&s| s == 401).count();
        let limited = statuses.iter().filter(|&&s| s == 429).count();
        assert_eq!(checked + limited, 2 * GUESSES, "{statuses:?}");
        assert_eq!(
            checked, MAX,
            "one limit across both processes: {statuses:?}"
        );
        for server in 0..2 {
            let (status, body) = self.login(server, "/v1/auth/login", PASSWORD).await;
            assert_eq!(status, 429, "process {server}: {body}");
            assert_eq!(body["error"], "rate_limited");
        }
        eprintln!(
            "shared limits: {} parallel guesses over 2 processes, {checked} checked (limit {MAX}), {limited} refused",
            2 * GUESSES
        );
    }
}

/// A claim of a JWT's payload, read without verifying (the instance issued it in this test).
fn claim(token: &str, name: &str) -> String {
    let payload = token.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    let claims: Value = serde_json::from_slice(&bytes).expect("JSON claims");
    match &claims[name] {
        Value::String(s) => s.clone(),
        Value::Array(items) => items[0].as_str().expect("string").to_owned(),
        other => panic!("{name}: {other}"),
    }
}
