//! Tests: the API-key gateway, in front of real instances (and, for header and streaming checks,
//! a small echo server), on a fresh control-plane database.

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
        let mut secrets = InstanceSecrets::generate();
        let mut config = ServerConfig::embedded(self.dir.path().join(environment));
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
        let id = running.app.instance_id.clone();
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

    let missing = json_of(world.get(path).send().await.expect("send")).await;
    assert_error(&missing, StatusCode::UNAUTHORIZED, "invalid_api_key");
    let unknown = json_of(
        world
            .get(path)
            .header("x-authstack-key", "ask_live_notakey")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_error(&unknown, StatusCode::UNAUTHORIZED, "invalid_api_key");
    let unknown_secret = json_of(
        world
            .get(path)
            .bearer_auth("ask_secret_live_notakey")
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_error(&unknown_secret, StatusCode::UNAUTHORIZED, "invalid_api_key");
    let publishable_as_bearer = json_of(
        world
            .get(path)
            .bearer_auth(&publishable.key)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_error(
        &publishable_as_bearer,
        StatusCode::UNAUTHORIZED,
        "invalid_api_key",
    );
    let secret_in_key_header = json_of(
        world
            .get(path)
            .header("x-authstack-key", &secret.key)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_error(
        &secret_in_key_header,
        StatusCode::UNAUTHORIZED,
        "invalid_api_key",
    );

    // A publishable key reaches the instance, whose admin API wants the admin key.
    let admin_with_publishable = json_of(
        world
            .get(path)
            .header("x-authstack-key", &publishable.key)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(admin_with_publishable.0, StatusCode::UNAUTHORIZED);
    assert_ne!(admin_with_publishable.2["error"], "invalid_api_key");

    // The instance itself refuses whoever skips the gateway, admin key or not.
    let direct = live.direct.as_deref().expect("a real instance");
    let skipped = json_of(
        world
            .http
            .get(format!("{direct}{path}"))
            .bearer_auth(live.secrets.admin_key.expose_secret())
            .send()
            .await
            .expect("send"),
    )
    .await;
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

#[tokio::test]
async fn gateway_cors_preflights_and_origins() {
    let world = World::new().await;
    let live = world.real_instance("live", &[APP_ORIGIN]).await;
    let _other = world.real_instance("test", &[OTHER_ORIGIN]).await;
    let publishable = world.key(&live, "publishable", None).await;
    let secret = world.key(&live, "secret", None).await;

    let preflight = world
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/auth/signup", world.url),
        )
        .header("origin", APP_ORIGIN)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type, x-authstack-key",
        )
        .send()
        .await
        .expect("preflight");
    assert_eq!(preflight.status(), StatusCode::NO_CONTENT);
    let headers = preflight.headers();
    assert_eq!(headers["access-control-allow-origin"], APP_ORIGIN);
    assert_eq!(headers["vary"], "Origin");
    assert!(
        headers["access-control-allow-methods"]
            .to_str()
            .expect("text")
            .contains("POST")
    );
    assert_eq!(
        headers["access-control-allow-headers"],
        "content-type, x-authstack-key"
    );
    assert_eq!(headers["access-control-max-age"], "600");

    let denied = world
        .http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/auth/signup", world.url),
        )
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("preflight");
    // A preflight names no key, so no instance: it is answered for every origin, and nothing
    // is forwarded. The actual request is refused below, readably.
    assert_eq!(denied.status(), StatusCode::NO_CONTENT);
    let refused = world
        .post("/v1/auth/signup")
        .header("x-authstack-key", &publishable.key)
        .header("origin", "https://evil.example")
        .json(&json!({ "email": "eve@example.com", "password": "correct horse battery staple 42" }))
        .send()
        .await
        .expect("send");
    let refused = json_of(refused).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "origin_not_allowed");
    // The browser may read why: the origin, and how to allow it.
    assert_eq!(
        refused.1["access-control-allow-origin"],
        "https://evil.example"
    );
    let message = refused.2["message"].as_str().expect("message");
    assert!(message.contains("https://evil.example"), "{message}");
    assert!(message.contains("allowed origins"), "{message}");

    // The actual request from the instance's own origin.
    let allowed = world
        .get("/.well-known/jwks.json")
        .header("x-authstack-key", &publishable.key)
        .header("origin", APP_ORIGIN)
        .send()
        .await
        .expect("send");
    assert_eq!(allowed.status(), StatusCode::OK);
    assert_eq!(allowed.headers()["access-control-allow-origin"], APP_ORIGIN);
    assert_eq!(
        allowed.headers()["access-control-expose-headers"],
        "X-Request-Id, Retry-After"
    );

    // An origin another instance allows is refused before anything reaches this one.
    let foreign = world
        .post("/v1/auth/signup")
        .header("x-authstack-key", &publishable.key)
        .header("origin", OTHER_ORIGIN)
        .json(&json!({ "email": "eve@example.com", "password": "correct horse battery staple 42" }))
        .send()
        .await
        .expect("send");
    assert_error(
        &json_of(foreign).await,
        StatusCode::FORBIDDEN,
        "origin_not_allowed",
    );
    let users = world
        .get("/v1/admin/users")
        .bearer_auth(&secret.key)
        .send()
        .await
        .expect("users");
    let (status, _, page) = json_of(users).await;
    assert_eq!(status, StatusCode::OK);
    assert!(emails(&page).is_empty(), "{page}");

    // Servers send no Origin and pass.
    let server = world
        .get("/.well-known/jwks.json")
        .header("x-authstack-key", &publishable.key)
        .send()
        .await
        .expect("send");
    assert_eq!(server.status(), StatusCode::OK);
    assert!(!server.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn gateway_rate_limits_each_key_by_its_plan() {
    let mut catalog = Catalog::built_in();
    let mut limited = catalog.plan("starter").expect("starter").clone();
    limited.id = "limited".into();
    limited.stripe_price_id = "price_limited".into();
    limited.limits.api_requests_per_second = 5;
    catalog.plans.push(limited);
    let world = World::with(catalog, Duration::from_secs(30)).await;
    let upstream = spawn_upstream(axum::Router::new().fallback(|| async { "ok" })).await;
    let instance = world
        .instance_at(
            "ins_limited",
            "limited",
            "ready",
            &format!("http://{upstream}"),
        )
        .await;
    let key = world.key(&instance, "publishable", None).await;
    let other = world.key(&instance, "publishable", None).await;

    let mut statuses = Vec::new();
    let mut limited_response = None;
    for _ in 0..12 {
        let response = world
            .get("/")
            .header("x-authstack-key", &key.key)
            .send()
            .await
            .expect("send");
        statuses.push(response.status());
        if response.status() == StatusCode::TOO_MANY_REQUESTS && limited_response.is_none() {
            limited_response = Some(json_of(response).await);
        }
    }
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert!((5..12).contains(&ok), "{statuses:?}");
    let limited = limited_response.expect("a 429");
    assert_error(&limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(limited.1["retry-after"], "1");

    // Another key of the same instance has its own bucket.
    let response = world
        .get("/")
        .header("x-authstack-key", &other.key)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::OK);
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

/// A request body fed chunk by chunk by the test.
struct ChannelBody(tokio::sync::mpsc::Receiver<Bytes>);

impl hyper::body::Body for ChannelBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|data| Ok(Frame::data(data))))
    }
}

#[tokio::test]
async fn gateway_forwards_headers_and_streams_bodies_both_ways() {
    let world = World::new().await;
    // The echo upstream notes the headers it got and streams the request body back as it comes.
    let seen: Arc<Mutex<Vec<HeaderMap>>> = Arc::default();
    let echo = {
        let seen = seen.clone();
        axum::Router::new().fallback(move |request: Request<Body>| {
            let seen = seen.clone();
            async move {
                seen.lock().expect("lock").push(request.headers().clone());
                axum::http::Response::new(Body::new(request.into_body()))
            }
        })
    };
    let echo = spawn_upstream(echo).await;
    let instance = world
        .instance_at("ins_echo", "starter", "ready", &format!("http://{echo}"))
        .await;
    let publishable = world.key(&instance, "publishable", None).await;
    let secret = world.key(&instance, "secret", None).await;

    let client = Client::builder(TokioExecutor::new()).build_http::<ChannelBody>();
    let (chunks, body) = tokio::sync::mpsc::channel::<Bytes>(4);
    let request = Request::post(format!("{}/v1/echo?x=1", world.url))
        .header("x-authstack-key", &publishable.key)
        .header("x-authstack-gateway", "forged")
        .header("x-forwarded-for", "203.0.113.9")
        .header("x-request-id", "test-request-1")
        .header("authorization", "Bearer end-user-jwt")
        .header("connection", "x-drop-me")
        .header("x-drop-me", "1")
        .body(ChannelBody(body))
        .expect("request");

    const CHUNK: usize = 64 * 1024;
    const TOTAL: usize = 5 * 1024 * 1024;
    let data: Vec<u8> = (0..TOTAL).map(|i| (i % 251) as u8).collect();
    let exchange = async {
        chunks
            .send(Bytes::copy_from_slice(&data[..CHUNK]))
            .await
            .expect("first chunk");
        let response = client.request(request).await.expect("response");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()["x-request-id"], "test-request-1");
        let mut body = response.into_body();
        // The first chunk comes back before the rest is sent: neither side is buffered.
        let mut received = Vec::with_capacity(TOTAL);
        while received.len() < CHUNK {
            let frame = body.frame().await.expect("a frame").expect("data");
            if let Ok(data) = frame.into_data() {
                received.extend_from_slice(&data);
            }
        }
        let sender = async {
            for chunk in data[CHUNK..].chunks(CHUNK) {
                chunks
                    .send(Bytes::copy_from_slice(chunk))
                    .await
                    .expect("chunk");
            }
            drop(chunks);
        };
        let receiver = async {
            while let Some(frame) = body.frame().await {
                if let Ok(data) = frame.expect("frame").into_data() {
                    received.extend_from_slice(&data);
                }
            }
        };
        tokio::join!(sender, receiver);
        received
    };
    let received = tokio::time::timeout(Duration::from_secs(20), exchange)
        .await
        .expect("the bodies stream (a buffering gateway would deadlock here)");
    assert_eq!(received.len(), TOTAL);
    assert_eq!(Sha256::digest(&received), Sha256::digest(&data));

    let headers = seen.lock().expect("lock").remove(0);
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| v.to_str().expect("text").to_owned())
    };
    assert_eq!(header("x-authstack-key"), None);
    assert_eq!(
        header("x-authstack-gateway").as_deref(),
        Some(instance.secrets.gateway_secret.expose_secret())
    );
    assert_eq!(header("x-forwarded-for").as_deref(), Some("127.0.0.1"));
    assert_eq!(header("x-forwarded-proto").as_deref(), Some("http"));
    assert_eq!(
        header("x-forwarded-host"),
        Some(world.gateway.addr.to_string())
    );
    assert_eq!(header("x-request-id").as_deref(), Some("test-request-1"));
    assert_eq!(
        header("authorization").as_deref(),
        Some("Bearer end-user-jwt")
    );
    assert_eq!(header("x-drop-me"), None);
    assert_eq!(header("host"), Some(echo.to_string()));

    // A secret key is exchanged for the instance's admin key; a request id is made up.
    let response = world
        .post("/v1/admin/users")
        .bearer_auth(&secret.key)
        .body("{}")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::OK);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .expect("text")
        .to_owned();
    assert_eq!(request_id.len(), 36);
    let headers = seen.lock().expect("lock").remove(0);
    assert_eq!(
        headers["authorization"].to_str().expect("text"),
        format!("Bearer {}", instance.secrets.admin_key.expose_secret())
    );
    assert_eq!(headers["x-request-id"].to_str().expect("text"), request_id);
}

#[tokio::test]
async fn gateway_metrics_list_requests_by_key() {
    let world = World::new().await;
    let live = world.real_instance("live", &[]).await;
    let key = world.key(&live, "publishable", None).await;
    let response = world
        .get("/.well-known/jwks.json")
        .header("x-authstack-key", &key.key)
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), StatusCode::OK);

    let health = world.get("/_authstack/healthz").send().await.expect("send");
    assert_eq!(health.status(), StatusCode::OK);
    let anonymous = world.get("/_authstack/metrics").send().await.expect("send");
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    authstack_control_plane::db::set_meta(
        &world.db,
        "ops_key_hash",
        &authstack_instance::crypto::sha256_hex("ask_ops_metrics_reader"),
    )
    .await
    .expect("operator key");
    let metrics = world
        .get("/_authstack/metrics")
        .bearer_auth("ask_ops_metrics_reader")
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("text");
    let line = metrics
        .lines()
        .find(|line| {
            line.starts_with("authstack_gateway_requests_total")
                && line.contains(&format!("key_id=\"{}\"", key.id))
        })
        .unwrap_or_else(|| panic!("no request line for the key in:\n{metrics}"));
    assert!(
        line.contains(&format!("instance_id=\"{}\"", live.id)),
        "{line}"
    );
    assert!(line.contains("status=\"200\""), "{line}");
    assert!(metrics.contains("authstack_gateway_request_duration_seconds"));
}

#[tokio::test]
async fn each_instance_has_an_address_for_keyless_discovery_and_mailed_pages() {
    let world = World::new().await;
    let live = world.real_instance("live", &[APP_ORIGIN]).await;
    let other = world.real_instance("test", &[]).await;
    let other_key = world.key(&other, "publishable", None).await;
    let own_key = world.key(&live, "publishable", None).await;
    let base = format!("{}/i/{}", world.url, live.id);

    // A verifier needs nothing but the URL: no key, no custom header, any origin.
    let discovery = world
        .http
        .get(format!("{base}/.well-known/openid-configuration"))
        .header("origin", "https://verifier.example")
        .send()
        .await
        .expect("discovery");
    let (status, headers, body) = json_of(discovery).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(headers["access-control-allow-origin"], "*");
    assert!(body["jwks_uri"].is_string(), "{body}");
    let jwks = json_of(
        world
            .http
            .get(format!("{base}/.well-known/jwks.json"))
            .send()
            .await
            .expect("jwks"),
    )
    .await;
    assert_eq!(jwks.0, StatusCode::OK);
    assert_eq!(jwks.2["keys"][0]["alg"], "RS256");
    // The same keys as the instance's own JWKS: the address reaches this instance.
    let direct: Value = world
        .http
        .get(format!(
            "{}/.well-known/jwks.json",
            live.direct.as_deref().expect("real")
        ))
        .header(
            "x-authstack-gateway",
            live.secrets.gateway_secret.expose_secret(),
        )
        .send()
        .await
        .expect("direct")
        .json()
        .await
        .expect("json");
    assert_eq!(jwks.2, direct);

    // The pages mailed links open are reachable too (their forms carry the token).
    let page = world
        .http
        .post(format!("{base}/verify-email"))
        .form(&[("token", "not-a-token")])
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .starts_with("text/html")
    );

    // Everything else needs a key, and only the instance's own key works under its address.
    let keyless = json_of(
        world
            .http
            .get(format!("{base}/v1/admin/users"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_error(&keyless, StatusCode::UNAUTHORIZED, "unauthorized");
    let foreign = json_of(
        world
            .http
            .get(format!("{base}/v1/config/public"))
            .header("x-authstack-key", &other_key.key)
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_error(&foreign, StatusCode::UNAUTHORIZED, "invalid_api_key");
    let own = world
        .http
        .get(format!("{base}/v1/config/public"))
        .header("x-authstack-key", &own_key.key)
        .send()
        .await
        .expect("send");
    assert_eq!(own.status(), StatusCode::OK);
    let unknown = json_of(
        world
            .http
            .get(format!(
                "{}/i/ins_nosuchinstance/.well-known/jwks.json",
                world.url
            ))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "not_found");
}
