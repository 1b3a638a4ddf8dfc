//! Tests: the API-key gateway, in front of real instances (and, for header and streaming checks,
//! a small echo server), on a fresh control-plane database; what browsers meet (`browser`),
//! the OpenID Connect flow through an address (`oidc`) and forwarding (`streaming`) each have
//! their file.
//!
//! - `gateway_signup_with_the_live_key_reaches_only_the_live_instance`
//! - `gateway_refuses_missing_unknown_and_misused_keys`
//! - `gateway_revocation_is_visible_within_a_second`
//! - `gateway_rotated_keys_work_until_their_grace_period_ends`
//! - `gateway_answers_503_and_504_for_instances_that_cannot_answer`

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use authstack_control_plane::catalog::Catalog;
use authstack_control_plane::db::{self, Db};
use authstack_control_plane::gateway::changes as route_changes;
use authstack_control_plane::gateway::{self, GatewayOptions, RunningGateway};
use authstack_control_plane::provisioner::InstanceSecrets;
use authstack_instance::clock::Clock;
use authstack_instance::config::ServerConfig;
use authstack_instance::crypto::{MasterKey, random_secret, sha256_hex};
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Frame;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

mod browser;
mod oidc;
mod streaming;

const APP_ORIGIN: &str = "https://app.example.com";
const OTHER_ORIGIN: &str = "https://other.example.com";

/// A control-plane database, its master key, and a gateway on it.
struct World {
    dir: TempDir,
    db: Db,
    master: Arc<MasterKey>,
    clock: Clock,
    gateway: RunningGateway,
    url: String,
    http: reqwest::Client,
}

/// An instance as the control plane knows it.
struct Instance {
    id: String,
    secrets: InstanceSecrets,
    /// The instance's own address (for direct calls); `None` for rows without a real instance.
    direct: Option<String>,
    _running: Option<authstack_instance::Running>,
}

struct Key {
    id: String,
    key: String,
}

fn options(db: Db, master: Arc<MasterKey>, clock: Clock, catalog: Catalog) -> GatewayOptions {
    GatewayOptions {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        db,
        master,
        clock,
        catalog,
        poll_interval: Duration::from_millis(200),
        upstream_timeout: Duration::from_secs(30),
    }
}

impl World {
    async fn new() -> World {
        World::with(Catalog::built_in(), Duration::from_secs(30)).await
    }

    async fn with(catalog: Catalog, upstream_timeout: Duration) -> World {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let dir = tempfile::tempdir().expect("temp dir");
        let db = db::connect(None, dir.path()).await.expect("database");
        let master = Arc::new(MasterKey::load_or_create(None, dir.path()).expect("master key"));
        let clock = Clock::Offset(Arc::new(AtomicI64::new(0)));
        let mut options = options(db.clone(), master.clone(), clock.clone(), catalog);
        options.upstream_timeout = upstream_timeout;
        let gateway = gateway::start(options).await.expect("gateway starts");
        let url = format!("http://{}", gateway.addr);
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("http client");
        World {
            dir,
            db,
            master,
            clock,
            gateway,
            url,
            http,
        }
    }

    /// Starts a real instance that answers only the gateway, and registers it.
    async fn real_instance(&self, environment: &str, origins: &[&str]) -> Instance {
        self.start_instance(environment, origins, None).await
    }

    /// A real instance registered as `id` whose issuer is its address on this gateway,
    /// `{gateway}/i/{id}`, as the control plane starts them.
    async fn addressed_instance(&self, environment: &str, id: &str) -> Instance {
        self.start_instance(environment, &[], Some(id)).await
    }

    async fn start_instance(
        &self,
        environment: &str,
        origins: &[&str],
        address: Option<&str>,
    ) -> Instance {
        let mut secrets = InstanceSecrets::generate();
        let mut config = ServerConfig::embedded(self.dir.path().join(environment));
        config.issuer = address.map(|id| format!("{}/i/{id}", self.url));
        config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config.gateway_secret = Some(secrets.gateway_secret.clone());
        config.trust_forwarded_for = true;
        config.instance.auth.require_email_verification = false;
        let running = authstack_instance::start(config, Clock::System)
            .await
            .expect("instance starts");
        secrets.admin_key = running
            .initial_admin_key
            .clone()
            .expect("the first start creates an admin key");
        let id = address.map_or_else(|| running.app.instance_id.clone(), str::to_owned);
        let direct = format!("http://{}", running.addr);
        self.register(
            &id,
            environment,
            "starter",
            "ready",
            &direct,
            origins,
            &secrets,
        )
        .await;
        Instance {
            id,
            secrets,
            direct: Some(direct),
            _running: Some(running),
        }
    }

    /// Registers an instance row for `endpoint` (no real instance behind it).
    async fn instance_at(&self, id: &str, plan: &str, state: &str, endpoint: &str) -> Instance {
        let secrets = InstanceSecrets::generate();
        self.register(id, "live", plan, state, endpoint, &[], &secrets)
            .await;
        Instance {
            id: id.to_owned(),
            secrets,
            direct: None,
            _running: None,
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn register(
        &self,
        id: &str,
        environment: &str,
        plan: &str,
        state: &str,
        endpoint: &str,
        origins: &[&str],
        secrets: &InstanceSecrets,
    ) {
        let now = self.clock.now();
        sqlx::query(
            "INSERT INTO instances (id, account_id, environment, region, plan, state, desired, \
             revision, endpoint, allowed_origins, secrets, created_at, updated_at) \
             VALUES ($1, NULL, $2, 'local', $3, $4, 'running', 1, $5, $6, $7, $8, $8)",
        )
        .bind(id)
        .bind(environment)
        .bind(plan)
        .bind(state)
        .bind(endpoint)
        .bind(json!(origins).to_string())
        .bind(secrets.seal(&self.master, id).expect("seal"))
        .bind(now)
        .execute(&self.db.writer)
        .await
        .expect("insert instance");
        route_changes::record(&self.db.writer, now)
            .await
            .expect("route change");
    }

    /// Creates a key for `instance`: `kind` is `publishable` or `secret`.
    async fn key(&self, instance: &Instance, kind: &str, expires_at: Option<i64>) -> Key {
        let environment: String =
            sqlx::query_scalar("SELECT environment FROM instances WHERE id = $1")
                .bind(&instance.id)
                .fetch_one(&self.db.pool)
                .await
                .expect("instance");
        let prefix = match kind {
            "secret" => format!("ask_secret_{environment}_"),
            _ => format!("ask_{environment}_"),
        };
        let key = random_secret(&prefix, 32).expose_secret().to_owned();
        let id = db::new_id("key");
        sqlx::query(
            "INSERT INTO api_keys (id, account_id, instance_id, environment, kind, name, \
             display_prefix, hash, created_at, expires_at) \
             VALUES ($1, NULL, $2, $3, $4, 'test', $5, $6, $7, $8)",
        )
        .bind(&id)
        .bind(&instance.id)
        .bind(&environment)
        .bind(kind)
        .bind(&key[..prefix.len() + 4])
        .bind(sha256_hex(&key))
        .bind(self.clock.now())
        .bind(expires_at)
        .execute(&self.db.writer)
        .await
        .expect("insert key");
        Key { id, key }
    }

    async fn change(&self, sql: &str, id: &str) {
        sqlx::query(sql)
            .bind(self.clock.now())
            .bind(id)
            .execute(&self.db.writer)
            .await
            .expect("update");
        route_changes::record(&self.db.writer, self.clock.now())
            .await
            .expect("route change");
    }

    fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.get(format!("{}{path}", self.url))
    }

    fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http.post(format!("{}{path}", self.url))
    }
}

async fn json_of(response: reqwest::Response) -> (StatusCode, HeaderMap, Value) {
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.json::<Value>().await.unwrap_or(Value::Null);
    (status, headers, body)
}

fn assert_error(result: &(StatusCode, HeaderMap, Value), status: StatusCode, code: &str) {
    assert_eq!(result.0, status, "{:?}", result.2);
    assert_eq!(result.2["error"], code, "{:?}", result.2);
    assert!(result.2["message"].is_string(), "{:?}", result.2);
}

fn emails(page: &Value) -> Vec<String> {
    page["data"]
        .as_array()
        .expect("a page")
        .iter()
        .filter_map(|u| u["email"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn gateway_signup_with_the_live_key_reaches_only_the_live_instance() {
    let world = World::new().await;
    let live = world.real_instance("live", &[]).await;
    let test = world.real_instance("test", &[]).await;
    let live_publishable = world.key(&live, "publishable", None).await;
    let live_secret = world.key(&live, "secret", None).await;
    let test_secret = world.key(&test, "secret", None).await;

    let signup = world
        .post("/v1/auth/signup")
        .header("x-authstack-key", &live_publishable.key)
        .json(&json!({ "email": "ada@example.com", "password": "correct horse battery staple 42" }))
        .send()
        .await
        .expect("signup");
    let (status, headers, body) = json_of(signup).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(body["access_token"].is_string(), "{body}");
    assert!(headers.contains_key("x-request-id"));

    // The end user's own token passes through the gateway next to the publishable key.
    let me = world
        .get("/v1/me")
        .header("x-authstack-key", &live_publishable.key)
        .bearer_auth(body["access_token"].as_str().expect("token"))
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), StatusCode::OK);

    let users = world
        .get("/v1/admin/users")
        .bearer_auth(&live_secret.key)
        .send()
        .await
        .expect("users");
    let (status, _, page) = json_of(users).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(emails(&page), ["ada@example.com"]);

    let users = world
        .get("/v1/admin/users")
        .bearer_auth(&test_secret.key)
        .send()
        .await
        .expect("users");
    let (status, _, page) = json_of(users).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(emails(&page).is_empty(), "{page}");

    // Last use is written in batches, and at the latest when the gateway stops.
    let World { gateway, db, .. } = world;
    gateway.stop().await;
    for key in [&live_publishable, &live_secret, &test_secret] {
        let last_used: Option<i64> =
            sqlx::query_scalar("SELECT last_used_at FROM api_keys WHERE id = $1")
                .bind(&key.id)
                .fetch_one(&db.pool)
                .await
                .expect("key");
        assert!(last_used.is_some(), "{} has no last use", key.id);
    }
    drop(test);
    drop(live);
}

#[tokio::test]
async fn gateway_refuses_missing_unknown_and_misused_keys() {
    let world = World::new().await;
    let live = world.real_instance("live", &[]).await;
    let publishable = world.key(&live, "publishable", None).await;
    let secret = world.key(&live, "secret", None).await;
    let path = "/v1/admin/users";
    let with_header = |key: &str| world.get(path).header("x-authstack-key", key);
    let with_bearer = |key: &str| world.get(path).bearer_auth(key);
    let refused = [
        ("missing", world.get(path)),
        ("unknown", with_header("ask_live_notakey")),
        ("unknown secret", with_bearer("ask_secret_live_notakey")),
        ("publishable as bearer", with_bearer(&publishable.key)),
        ("secret in the key header", with_header(&secret.key)),
    ];
    for (what, request) in refused {
        let answer = json_of(request.send().await.expect("send")).await;
        assert_eq!(answer.0, StatusCode::UNAUTHORIZED, "{what}");
        assert_error(&answer, StatusCode::UNAUTHORIZED, "invalid_api_key");
    }

    // A publishable key reaches the instance, whose admin API wants the admin key.
    let request = with_header(&publishable.key).send().await.expect("send");
    let admin_with_publishable = json_of(request).await;
    assert_eq!(admin_with_publishable.0, StatusCode::UNAUTHORIZED);
    assert_ne!(admin_with_publishable.2["error"], "invalid_api_key");

    // The instance itself refuses whoever skips the gateway, admin key or not.
    let direct = live.direct.as_deref().expect("a real instance");
    let skipped = world
        .http
        .get(format!("{direct}{path}"))
        .bearer_auth(live.secrets.admin_key.expose_secret());
    let skipped = json_of(skipped.send().await.expect("send")).await;
    assert_error(&skipped, StatusCode::FORBIDDEN, "gateway_required");
}

#[tokio::test]
async fn gateway_revocation_is_visible_within_a_second() {
    let world = World::new().await;
    let live = world.real_instance("live", &[]).await;
    let key = world.key(&live, "publishable", None).await;
    let jwks = || {
        world
            .get("/.well-known/jwks.json")
            .header("x-authstack-key", &key.key)
            .send()
    };
    assert_eq!(jwks().await.expect("send").status(), StatusCode::OK);

    world
        .change("UPDATE api_keys SET revoked_at = $1 WHERE id = $2", &key.id)
        .await;
    let revoked = Instant::now();
    loop {
        let response = jwks().await.expect("send");
        if response.status() == StatusCode::UNAUTHORIZED {
            let refused = json_of(response).await;
            assert_error(&refused, StatusCode::UNAUTHORIZED, "invalid_api_key");
            break;
        }
        assert!(
            revoked.elapsed() < Duration::from_secs(1),
            "the revoked key still works after a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn gateway_rotated_keys_work_until_their_grace_period_ends() {
    let world = World::new().await;
    let live = world.real_instance("live", &[]).await;
    let now = world.clock.now();
    let in_grace = world.key(&live, "secret", Some(now + 60)).await;
    let expired = world.key(&live, "secret", Some(now - 1)).await;
    let call = |key: &Key| {
        world
            .get("/v1/admin/users")
            .bearer_auth(key.key.clone())
            .send()
    };

    assert_eq!(
        call(&in_grace).await.expect("send").status(),
        StatusCode::OK
    );
    let refused = json_of(call(&expired).await.expect("send")).await;
    assert_error(&refused, StatusCode::UNAUTHORIZED, "invalid_api_key");

    // The cached route does not outlive the grace period.
    world.clock.advance(61);
    let refused = json_of(call(&in_grace).await.expect("send")).await;
    assert_error(&refused, StatusCode::UNAUTHORIZED, "invalid_api_key");
}

#[tokio::test]
async fn gateway_answers_503_and_504_for_instances_that_cannot_answer() {
    let world = World::with(Catalog::built_in(), Duration::from_millis(500)).await;
    let live = world.real_instance("live", &[]).await;
    let key = world.key(&live, "publishable", None).await;
    let jwks = |key: &Key| {
        world
            .get("/.well-known/jwks.json")
            .header("x-authstack-key", key.key.clone())
            .send()
    };
    assert_eq!(jwks(&key).await.expect("send").status(), StatusCode::OK);

    world
        .change(
            "UPDATE instances SET state = 'suspended', updated_at = $1 WHERE id = $2",
            &live.id,
        )
        .await;
    tokio::time::sleep(Duration::from_millis(600)).await;
    let suspended = json_of(jwks(&key).await.expect("send")).await;
    assert_error(
        &suspended,
        StatusCode::SERVICE_UNAVAILABLE,
        "instance_unavailable",
    );
    assert!(suspended.1.contains_key("retry-after"));

    // Nothing listens on the endpoint.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr")
    };
    let gone = world
        .instance_at("ins_gone", "starter", "ready", &format!("http://{closed}"))
        .await;
    let gone_key = world.key(&gone, "publishable", None).await;
    let refused = json_of(jwks(&gone_key).await.expect("send")).await;
    assert_error(
        &refused,
        StatusCode::SERVICE_UNAVAILABLE,
        "instance_unavailable",
    );

    // An instance that takes longer than the upstream timeout.
    let slow = spawn_upstream(axum::Router::new().fallback(|| async {
        tokio::time::sleep(Duration::from_secs(5)).await;
        "late"
    }))
    .await;
    let slow = world
        .instance_at("ins_slow", "starter", "ready", &format!("http://{slow}"))
        .await;
    let slow_key = world.key(&slow, "publishable", None).await;
    let timed_out = json_of(jwks(&slow_key).await.expect("send")).await;
    assert_error(&timed_out, StatusCode::GATEWAY_TIMEOUT, "upstream_timeout");
}

/// Serves `app` on a free port.
async fn spawn_upstream(app: axum::Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}
