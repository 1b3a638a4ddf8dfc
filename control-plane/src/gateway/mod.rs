//! The API-key gateway: the one public entry to every customer instance.
//!
//! A request names its instance by an API key: a publishable key in `X-AuthStack-Key` (browsers
//! and apps; the end user's own `Authorization: Bearer <JWT>` passes through untouched) or a
//! secret key as `Authorization: Bearer` (servers; the gateway presents the instance's admin key
//! in its place). The gateway checks the key, the caller's origin and the key's rate limit, then
//! streams the request to the instance with `X-AuthStack-Gateway`, which instances require.
//! Everything but `/_authstack/healthz` and `/_authstack/metrics` is forwarded. A request names
//! its instance's address by path (`/i/{instance_id}/…`) or, for a verified custom domain, by
//! `Host` ([`host`]).

pub mod address;
pub mod changes;
pub mod cli;
mod cors;
mod host;
mod limits;
mod proxy;
mod request_metrics;
mod routes;
mod store;
mod usage;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use authstack_instance::clock::Clock;
use authstack_instance::crypto::MasterKey;
use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::task::JoinHandle;

use self::limits::RateLimits;
use self::proxy::{Forwarded, KEY_HEADER, REQUEST_ID_HEADER, Upstreams};
use self::routes::{KeyKind, Route, Routes};
use self::usage::KeyUsage;
use crate::catalog::Catalog;
use crate::db::Db;
use crate::error::Error;

/// How often the keys' `last_used_at` is written.
const USAGE_FLUSH_INTERVAL: Duration = Duration::from_secs(10);
/// How long `stop` lets in-flight requests finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What the gateway runs with.
#[derive(Debug, Clone)]
pub struct GatewayOptions {
    pub listen: SocketAddr,
    /// The control plane's database (keys, instances, route changes).
    pub db: Db,
    /// The control plane's master key, under which instance secrets are sealed.
    pub master: Arc<MasterKey>,
    pub clock: Clock,
    /// For each plan's `api_requests_per_second`.
    pub catalog: Catalog,
    /// How often `route_changes` is polled; a revoked key stops working within it (200 ms).
    pub poll_interval: Duration,
    /// How long an instance may take to start answering (30 s).
    pub upstream_timeout: Duration,
}

impl GatewayOptions {
    /// Options with the default intervals.
    pub fn new(
        listen: SocketAddr,
        db: Db,
        master: Arc<MasterKey>,
        clock: Clock,
        catalog: Catalog,
    ) -> GatewayOptions {
        GatewayOptions {
            listen,
            db,
            master,
            clock,
            catalog,
            poll_interval: Duration::from_millis(200),
            upstream_timeout: Duration::from_secs(30),
        }
    }
}

/// The gateway's shared state.
pub struct Gateway {
    db: Db,
    clock: Clock,
    routes: Routes,
    upstreams: Upstreams,
    limits: RateLimits,
    usage: KeyUsage,
    metrics: PrometheusHandle,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").finish_non_exhaustive()
    }
}

impl Gateway {
    pub fn new(options: &GatewayOptions) -> Arc<Gateway> {
        request_metrics::describe();
        Arc::new(Gateway {
            db: options.db.clone(),
            clock: options.clock.clone(),
            routes: Routes::new(
                options.db.clone(),
                options.master.clone(),
                options.catalog.clone(),
            ),
            upstreams: Upstreams::new(options.upstream_timeout),
            limits: RateLimits::default(),
            usage: KeyUsage::default(),
            metrics: crate::metrics::handle(),
        })
    }

    /// Writes the keys' `last_used_at` noted so far.
    pub async fn flush_usage(&self) {
        self.usage.flush(&self.db).await;
    }

    /// Checks the key, origin and limits of one request and forwards it. Returns the key's
    /// route, when there was one, for the metrics.
    async fn serve(
        &self,
        request: Request,
        request_id: &HeaderValue,
        origin: Option<&HeaderValue>,
    ) -> (Result<Response, Error>, Option<Arc<Route>>) {
        // The instance answers the preflights of the endpoints whose CORS is its own; they
        // are forwarded like any other keyless request under its address.
        let instance_preflight = cors::is_preflight(&request)
            && address::split(request.uri().path())
                .is_some_and(|(_, rest)| address::instance_answers_cors(rest));
        if cors::is_preflight(&request) && !instance_preflight {
            return (self.preflight(request.headers()).await, None);
        }
        // CONNECT names a host, not a path on the instance.
        if request.method() == Method::CONNECT {
            return (Err(Error::MethodNotAllowed), None);
        }
        let mut request = request;
        let addressed = match self.addressed(&mut request).await {
            Ok(addressed) => addressed,
            Err(err) => return (Err(err), None),
        };
        let Some((presented_as, key)) = presented_key(request.headers()) else {
            return match addressed {
                Some(instance_id) if address::is_public(request.method(), request.uri().path()) => {
                    self.serve_public(&instance_id, request, request_id).await
                }
                Some(_) => (
                    Err(Error::Unauthorized(
                        "this path needs an API key: a publishable key in X-AuthStack-Key or a secret key as Bearer",
                    )),
                    None,
                ),
                None => (Err(Error::InvalidApiKey), None),
            };
        };
        let route = match self.routes.lookup(key).await {
            Ok(Some(route)) => route,
            Ok(None) => return (Err(Error::InvalidApiKey), None),
            Err(err) => return (Err(Error::Internal(err)), None),
        };
        // Under the instance's address, the endpoints whose CORS is the instance's get no
        // origin check or CORS header from the gateway, with a key as without one.
        let instance_cors =
            addressed.is_some() && address::instance_answers_cors(request.uri().path());
        let origin = origin.filter(|_| !instance_cors);
        // A key only reaches its own instance, whichever address it is sent to.
        if route.kind != presented_as || addressed.is_some_and(|id| *id != *route.instance_id) {
            return (Err(Error::InvalidApiKey), None);
        }
        let result = self.forward(&route, request, request_id, origin).await;
        (result, Some(route))
    }

    /// A keyless request under an instance's address: its public documents, which any origin
    /// may read (they hold no secret and no user data), its mailed pages and its OpenID
    /// Provider, whose CORS answers are the instance's own; limited per instance.
    async fn serve_public(
        &self,
        instance_id: &str,
        request: Request,
        request_id: &HeaderValue,
    ) -> (Result<Response, Error>, Option<Arc<Route>>) {
        let route = match self.routes.lookup_instance(instance_id).await {
            Ok(Some(route)) => route,
            Ok(None) => return (Err(Error::NotFound("instance")), None),
            Err(err) => return (Err(Error::Internal(err)), None),
        };
        let result = async {
            let secrets = self.admit(&route)?;
            let forwarded = Forwarded {
                client_ip: client_ip(&request),
                request_id,
                as_admin: false,
            };
            let document = address::is_public_document(request.uri().path());
            let mut response = self
                .upstreams
                .forward(&route, secrets, request, forwarded)
                .await?;
            if document {
                response.headers_mut().insert(
                    header::ACCESS_CONTROL_ALLOW_ORIGIN,
                    HeaderValue::from_static("*"),
                );
            }
            Ok(response)
        }
        .await;
        (result, Some(route))
    }

    async fn forward(
        &self,
        route: &Route,
        request: Request,
        request_id: &HeaderValue,
        origin: Option<&HeaderValue>,
    ) -> Result<Response, Error> {
        let now = self.clock.now();
        if !route.is_current(now) {
            return Err(Error::InvalidApiKey);
        }
        if origin.is_some() {
            let origin = cors::origin(request.headers()).unwrap_or_default();
            if !route.allows_origin(&origin) {
                return Err(Error::OriginNotAllowed(origin));
            }
        }
        let secrets = self.admit(route)?;
        self.usage.record(route, now);
        let client_ip = client_ip(&request);
        let forwarded = Forwarded {
            client_ip,
            request_id,
            as_admin: route.kind == KeyKind::Secret,
        };
        let mut response = self
            .upstreams
            .forward(route, secrets, request, forwarded)
            .await?;
        if let Some(origin) = origin {
            cors::allow(&mut response, origin);
        }
        Ok(response)
    }

    /// The instance's secrets when it serves and the route's rate limit lets one more through.
    fn admit<'r>(&self, route: &'r Route) -> Result<&'r routes::RouteSecrets, Error> {
        let secrets = match &route.secrets {
            Some(secrets) if route.is_serving() => secrets,
            _ => return Err(Error::InstanceUnavailable),
        };
        self.limits
            .take(&route.key_id, route.requests_per_second)
            .map_err(|retry_after| Error::RateLimited { retry_after })?;
        Ok(secrets)
    }

    /// Every preflight is answered: it carries no key, so the gateway cannot know the
    /// instance, and nothing is forwarded on a preflight. The actual request is checked against
    /// its key's instance; a refused origin then gets a JSON error the browser can read.
    async fn preflight(&self, headers: &HeaderMap) -> Result<Response, Error> {
        match headers.get(header::ORIGIN) {
            Some(value) if cors::origin(headers).is_some() => Ok(cors::preflight(headers, value)),
            _ => Err(Error::OriginNotAllowed(String::new())),
        }
    }
}

/// A running gateway.
pub struct RunningGateway {
    pub addr: SocketAddr,
    pub gateway: Arc<Gateway>,
    /// The gateway's row in `gateways`, where it reports the route changes it applied.
    id: String,
    shutdown: tokio::sync::watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    background: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for RunningGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningGateway")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl RunningGateway {
    /// Stops accepting connections, lets in-flight requests finish (up to 10 s), and writes the
    /// keys' last use.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        let mut server = self.server;
        match tokio::time::timeout(SHUTDOWN_GRACE, &mut server).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(err))) => tracing::warn!(error = %err, "the gateway's server failed"),
            Ok(Err(err)) => tracing::warn!(error = %err, "the gateway's server task failed"),
            Err(_) => {
                tracing::warn!("requests still in flight after the grace period; dropping them");
                server.abort();
            }
        }
        for task in self.background {
            task.abort();
        }
        self.gateway.flush_usage().await;
        if let Err(err) = changes::forget(&self.gateway.db, &self.id).await {
            tracing::warn!(error = %err, "removing the gateway's presence failed");
        }
    }
}

/// Binds `options.listen` and serves the gateway.
pub async fn start(options: GatewayOptions) -> anyhow::Result<RunningGateway> {
    let seen = changes::latest(&options.db)
        .await
        .context("reading route changes")?;
    let gateway = Gateway::new(&options);
    let listener = tokio::net::TcpListener::bind(options.listen)
        .await
        .with_context(|| format!("binding {}", options.listen))?;
    let addr = listener.local_addr()?;
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::debug!(error = %err, "setting TCP_NODELAY failed");
        }
    });
    let (shutdown, mut stopped) = tokio::sync::watch::channel(false);
    let service = router(gateway.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move {
        axum::serve(listener, service)
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|&stop| stop).await;
            })
            .await
    });
    let id = crate::db::new_id("gw");
    let watcher = {
        let gateway = gateway.clone();
        let interval = options.poll_interval;
        let id = id.clone();
        tokio::spawn(async move {
            let clock = gateway.clock.clone();
            gateway.routes.watch(&id, &clock, seen, interval).await;
        })
    };
    let upkeep = {
        let gateway = gateway.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(USAGE_FLUSH_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tick.tick().await;
                gateway.flush_usage().await;
                gateway.limits.sweep(Duration::from_secs(60));
                gateway.metrics.run_upkeep();
            }
        })
    };
    tracing::info!(%addr, "gateway ready");
    Ok(RunningGateway {
        addr,
        id,
        gateway,
        shutdown,
        server,
        background: vec![watcher, upkeep],
    })
}

/// The gateway's HTTP surface: its own two endpoints, and everything else forwarded. Serve it
/// with `into_make_service_with_connect_info::<SocketAddr>()` so that instances learn the
/// client's address.
pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/_authstack/healthz", get(healthz))
        .route("/_authstack/metrics", get(metrics))
        // Browsers ask for it on the instances' pages (under `/i/{id}/`); there is none.
        .route(
            "/favicon.ico",
            get(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .fallback(handle)
        .layer(axum::middleware::from_fn(
            crate::http::middleware::log_internal_errors,
        ))
        .with_state(gateway)
}

async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}

/// Prometheus metrics, for operators: they name keys and instances, so they take the operator
/// key (`Authorization: Bearer ask_ops_…`, checked against the control plane's stored hash).
async fn metrics(State(gateway): State<Arc<Gateway>>, headers: axum::http::HeaderMap) -> Response {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|key| authstack_instance::crypto::sha256_hex(key.trim()));
    let expected = match crate::meta::get(&gateway.db, crate::meta::Key::OpsKeyHash).await {
        Ok(expected) => expected,
        Err(err) => return Error::Internal(err.into()).into_response(),
    };
    let authorized = matches!((&presented, &expected), (Some(p), Some(e))
        if authstack_instance::crypto::constant_time_eq(p.as_bytes(), e.as_bytes()));
    if !authorized {
        return Error::Unauthorized("the gateway's metrics take the operator key").into_response();
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        gateway.metrics.render(),
    )
        .into_response()
}

async fn handle(State(gateway): State<Arc<Gateway>>, request: Request<Body>) -> Response {
    let started = Instant::now();
    let request_id = request_id(request.headers());
    let origin = request.headers().get(header::ORIGIN).cloned();
    let (result, route) = gateway.serve(request, &request_id, origin.as_ref()).await;
    let mut response = match result {
        Ok(response) => response,
        Err(err) => {
            let mut response = err.into_response();
            // The gateway's own errors hold nothing secret: let any browser read them, so that
            // a refused origin is told why instead of seeing an opaque CORS failure.
            if let Some(origin) = &origin {
                cors::allow(&mut response, origin);
            }
            response
        }
    };
    response.headers_mut().insert(REQUEST_ID_HEADER, request_id);
    match &route {
        Some(route) => route.metrics.record(response.status(), started.elapsed()),
        None => request_metrics::record_keyless(response.status(), started.elapsed()),
    }
    response
}

/// The key a request presents and how: `X-AuthStack-Key` (publishable) first, else a bearer
/// token (secret).
fn presented_key(headers: &HeaderMap) -> Option<(KeyKind, &str)> {
    let (kind, key) = match headers.get(KEY_HEADER) {
        Some(value) => (KeyKind::Publishable, value.to_str().ok()?),
        None => {
            let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
            let (scheme, token) = value.split_once(' ')?;
            if !scheme.eq_ignore_ascii_case("bearer") {
                return None;
            }
            (KeyKind::Secret, token)
        }
    };
    let key = key.trim();
    // Keys are prefixed base64url (~60 characters); anything else is not one, and not worth a
    // database lookup.
    let plausible = (16..=256).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    plausible.then_some((kind, key))
}

/// The client's `X-Request-Id` when it is a sane identifier, else a new one.
fn request_id(headers: &HeaderMap) -> HeaderValue {
    if let Some(value) = headers.get(REQUEST_ID_HEADER) {
        let bytes = value.as_bytes();
        let valid = !bytes.is_empty()
            && bytes.len() <= 128
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        if valid {
            return value.clone();
        }
    }
    // A random (v4) UUID from the thread's generator: the `uuid` crate's own generators make a
    // getrandom system call per id.
    let id = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut buffer = uuid::Uuid::encode_buffer();
    let id = id.hyphenated().encode_lower(&mut buffer);
    HeaderValue::from_str(id).unwrap_or(HeaderValue::from_static("unknown"))
}

fn client_ip(request: &Request) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_read_from_the_key_header_first_then_bearer() {
        let mut headers = HeaderMap::new();
        assert!(presented_key(&headers).is_none());
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer ask_secret_live_xyz"),
        );
        assert_eq!(
            presented_key(&headers),
            Some((KeyKind::Secret, "ask_secret_live_xyz"))
        );
        headers.insert(KEY_HEADER, HeaderValue::from_static("ask_live_yyyyyyyyy"));
        assert_eq!(
            presented_key(&headers),
            Some((KeyKind::Publishable, "ask_live_yyyyyyyyy"))
        );
        headers.insert(KEY_HEADER, HeaderValue::from_static(" "));
        assert!(presented_key(&headers).is_none());
        headers.insert(
            KEY_HEADER,
            HeaderValue::from_static("ask_live_a'b;--------"),
        );
        assert!(presented_key(&headers).is_none());
        let mut basic = HeaderMap::new();
        basic.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert!(presented_key(&basic).is_none());
    }

    #[test]
    fn request_ids_are_kept_when_sane() {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, HeaderValue::from_static("req-123_a.b:c"));
        assert_eq!(request_id(&headers), "req-123_a.b:c");
        headers.insert(REQUEST_ID_HEADER, HeaderValue::from_static("<script>"));
        assert_ne!(request_id(&headers), "<script>");
        assert_eq!(request_id(&HeaderMap::new()).len(), 36);
    }
}
