//! AuthStack instance: the per-customer authentication, organization and RBAC service.
//!
//! [`start`] opens the database, loads or creates the keys, binds the listener and serves
//! [`router`]; `main.rs` only parses flags and waits for a signal.

pub mod admin;
pub mod applications;
pub mod audit;
pub mod auth;
pub mod capabilities;
pub mod cli;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod db;
pub mod error;
pub mod firebase;
pub mod flow;
pub mod http;
pub mod invitations;
pub mod keycloak;
pub mod keys;
pub mod languages;
pub mod logout;
pub mod mail;
pub mod oidc;
pub mod ops;
pub mod org_keys;
pub mod orgs;
pub mod outbound;
pub mod pages;
pub mod passwords;
pub mod public_config;
pub mod ratelimit;
pub mod rbac;
pub mod sessions;
pub mod tokens;
pub mod users;
pub mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use arc_swap::ArcSwap;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::response::IntoResponse;
use metrics_exporter_prometheus::PrometheusHandle;
use secrecy::{ExposeSecret, SecretString};
use sha2::Digest;
use sqlx::Row;
use tokio::task::JoinHandle;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;

use crate::clock::Clock;
use crate::config::{InstanceConfig, ServerConfig};
use crate::db::Db;
use crate::error::Error;
use crate::keys::Keys;
use crate::mail::Mailer;
use crate::passwords::Passwords;
use crate::ratelimit::{Limits, RedisLimits};

/// Everything a request handler can reach.
#[derive(Debug)]
pub struct App {
    pub db: Db,
    pub clock: Clock,
    /// Swapped atomically when a new configuration revision is applied.
    pub config: ArcSwap<InstanceConfig>,
    pub keys: Keys,
    /// The permission catalogue and built-in roles, derived from `config`.
    pub rbac: rbac::Catalogue,
    pub passwords: Passwords,
    pub mailer: Mailer,
    pub limits: Limits,
    pub instance_id: String,
    pub issuer: String,
    /// `issuer` first, then the earlier issuers whose tokens still verify.
    pub accepted_issuers: Vec<String>,
    pub audience: String,
    pub trust_forwarded_for: bool,
    /// SHA-256 of the gateway secret, when the instance only answers the gateway.
    pub gateway_secret_hash: Option<[u8; 32]>,
    pub metrics: PrometheusHandle,
    /// Webhooks and back-channel logout may target loopback and private addresses
    /// (`authstack dev`, tests).
    pub allow_private_webhooks: bool,
    /// The client for addresses customers chose (webhooks, back-channel logout), see
    /// [`outbound`].
    pub outbound: reqwest::Client,
    /// The instance owner's address for mail about its operation (see [`ServerConfig`]).
    pub notify_email: Option<String>,
}

pub type AppState = Arc<App>;

/// The largest admin import body.
const IMPORT_BODY_LIMIT: usize = 16 * 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(title = "AuthStack instance API", description = "Accounts, sessions and tokens of one AuthStack instance."),
    modifiers(&SecuritySchemes),
    // Referenced by the audit export's query parameter, which does not register it itself.
    components(schemas(audit::routes::Format)),
    tags((name = "auth"), (name = "me"), (name = "organizations"), (name = "members"), (name = "roles"),
         (name = "invitations"), (name = "api-keys"), (name = "webhooks"), (name = "audit"), (name = "admin"), (name = "discovery"), (name = "config"))
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "admin_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("ask_admin_...")
                    .build(),
            ),
        );
    }
}

fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::routes::router())
        .merge(public_config::router())
        .merge(users::routes::router())
        .merge(sessions::routes::router())
        .merge(keys::routes::router())
        .merge(oidc::routes::documented())
        .merge(orgs::routes::router())
        .merge(orgs::members::router())
        .merge(rbac::routes::router())
        .merge(invitations::routes::router())
        .merge(org_keys::routes::router())
        .merge(audit::routes::router())
        .merge(applications::routes::router())
        .merge(webhooks::routes::router())
        .merge(webhooks::organization::routes::router())
        .merge(admin::routes::router().layer(DefaultBodyLimit::max(IMPORT_BODY_LIMIT)))
}

/// The API's routes and its OpenAPI document, generated from the route annotations.
fn documented_api() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (api, mut spec) = api().split_for_parts();
    http::openapi::add_common_responses(&mut spec);
    http::openapi::mutually_exclusive(
        &mut spec,
        "CreateUserRequest",
        &["password", "password_hash"],
    );
    (api, spec)
}

/// The OpenAPI document of the instance API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented_api().1
}

/// The whole HTTP surface for `app`.
pub fn router(app: AppState) -> axum::Router {
    let (api, spec) = documented_api();
    let spec = Arc::new(spec);
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<_>| {
            let request_id = request
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            let path = request.uri().path();
            // Probes arrive every few seconds from the supervisor or kubelet: log them at debug.
            if matches!(path, "/healthz" | "/readyz") {
                tracing::debug_span!("request", method = %request.method(), path, request_id)
            } else {
                tracing::info_span!("request", method = %request.method(), path, request_id)
            }
        })
        .on_request(())
        .on_response(
            |response: &axum::http::Response<_>, latency: Duration, span: &tracing::Span| {
                if !span.is_disabled() {
                    tracing::info!(
                        status = response.status().as_u16(),
                        latency_ms = latency.as_millis() as u64,
                        "finished processing request"
                    );
                }
            },
        );
    api.merge(ops::router())
        .merge(pages::routes::router())
        .merge(oidc::routes::router())
        .route(
            "/openapi.json",
            axum::routing::get(move || async move { axum::Json(spec.as_ref().clone()) }),
        )
        .fallback(|| async { Error::NotFound("route") })
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(http::BODY_LIMIT))
        .layer(axum::middleware::from_fn(http::middleware::metrics))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(trace)
                .layer(PropagateRequestIdLayer::x_request_id())
                .layer(CatchPanicLayer::custom(|_| {
                    Error::Internal(anyhow::anyhow!("handler panicked")).into_response()
                }))
                .layer(axum::middleware::from_fn(
                    http::middleware::log_internal_errors,
                ))
                .layer(axum::middleware::from_fn(
                    http::middleware::security_headers,
                ))
                .layer(axum::middleware::from_fn_with_state(
                    app.clone(),
                    http::middleware::require_gateway,
                )),
        )
        .with_state(app)
}

/// A running instance.
pub struct Running {
    pub addr: SocketAddr,
    pub app: AppState,
    /// The admin key created on first start, to be shown once.
    pub initial_admin_key: Option<SecretString>,
    shutdown: tokio::sync::watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    background: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops accepting connections, finishes in-flight requests, and returns.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        let result = self.server.await;
        for task in self.background {
            task.abort();
        }
        self.app.db.close().await;
        result.context("server task")?.context("server")
    }
}

/// Opens storage, loads keys, binds `config.listen` and starts serving.
pub async fn start(config: ServerConfig, clock: Clock) -> anyhow::Result<Running> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data dir {}", config.data_dir.display()))?;
    let master = Arc::new(crypto::MasterKey::load_or_create(
        config.master_key.as_ref(),
        &config.data_dir,
    )?);
    let db = Db::connect(
        config.database_url.as_ref().map(|u| u.expose_secret()),
        &config.data_dir,
    )
    .await?;
    users::store::canonicalize_stored_emails(&db)
        .await
        .context("bringing stored emails to the canonical form")?;
    let instance_id = instance_id(&db).await?;
    let initial_admin_key = admin::ensure_key(
        &db,
        std::env::var("AUTHSTACK_ADMIN_KEY")
            .ok()
            .map(SecretString::from)
            .as_ref(),
        clock.now(),
    )
    .await?;
    let keys = Keys::load(db.clone(), master.clone(), clock.clone()).await?;
    let limits = match &config.redis_url {
        Some(url) => Limits::redis(
            RedisLimits::connect(url.expose_secret(), &instance_id)
                .await
                .context("connecting to Redis (AUTHSTACK_REDIS_URL)")?,
            clock.clone(),
        ),
        None => Limits::database(db.clone(), clock.clone()),
    };
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    let issuer = config
        .issuer
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    config
        .instance
        .validate()
        .map_err(|e| anyhow::anyhow!("invalid instance configuration: {e}"))?;
    let app = Arc::new(App {
        rbac: rbac::Catalogue::from_config(&config.instance.organizations)
            .map_err(anyhow::Error::msg)?,
        passwords: Passwords::new(&config.instance.passwords)?
            .with_hash_keys(passwords::HashKeys::new(db.clone(), master)),
        mailer: Mailer::new(
            config.smtp_url.as_ref(),
            &config.instance.mail.from,
            &config.data_dir,
        )?,
        config: ArcSwap::from_pointee(config.instance),
        limits,
        audience: config.audience.unwrap_or_else(|| instance_id.clone()),
        instance_id,
        accepted_issuers: std::iter::once(issuer.clone())
            .chain(
                config
                    .previous_issuers
                    .iter()
                    .filter(|i| !i.is_empty())
                    .cloned(),
            )
            .collect(),
        issuer,
        trust_forwarded_for: config.trust_forwarded_for,
        gateway_secret_hash: config
            .gateway_secret
            .as_ref()
            .map(|secret| sha2::Sha256::digest(secret.expose_secret().as_bytes()).into()),
        metrics: ops::metrics_handle(),
        allow_private_webhooks: config.allow_private_webhooks,
        outbound: outbound::client(config.allow_private_webhooks),
        notify_email: config.notify_email,
        db,
        clock,
        keys,
    });
    let (shutdown, mut stopped) = tokio::sync::watch::channel(false);
    let service = router(app.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move {
        axum::serve(listener, service)
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|&stop| stop).await;
            })
            .await
    });
    let background = background_tasks(&app);
    tracing::info!(%addr, instance_id = %app.instance_id, backend = ?app.db.backend, "ready");
    Ok(Running {
        addr,
        app,
        initial_admin_key,
        shutdown,
        server,
        background,
    })
}

/// This instance's id, created on first start.
async fn instance_id(db: &Db) -> anyhow::Result<String> {
    let candidate = format!("ins_{}", uuid::Uuid::now_v7().simple());
    sqlx::query(
        "INSERT INTO meta (key, value) VALUES ('instance_id', $1) ON CONFLICT (key) DO NOTHING",
    )
    .bind(&candidate)
    .execute(&db.writer)
    .await?;
    let row = sqlx::query("SELECT value FROM meta WHERE key = 'instance_id'")
        .fetch_one(&db.pool)
        .await?;
    Ok(row.try_get("value")?)
}

fn background_tasks(app: &AppState) -> Vec<JoinHandle<()>> {
    let sweeper = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                if let Err(err) = app.limits.sweep().await {
                    tracing::warn!(error = %err, "sweeping rate-limit events failed");
                }
                let now = app.clock.now();
                if let Err(err) = flow::delete_expired(&app.db, now).await {
                    tracing::warn!(error = %err, "dropping expired sign-in flows failed");
                }
                if let Err(err) = oidc::delete_expired_codes(&app.db, now).await {
                    tracing::warn!(error = %err, "dropping expired authorization codes failed");
                }
                app.metrics.run_upkeep();
            }
        })
    };
    let key_pruner = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(3600));
            loop {
                tick.tick().await;
                let ttl = app.config.load().tokens.access_token_ttl_secs as i64;
                if let Err(err) = app.keys.prune(ttl).await {
                    tracing::warn!(error = %err, "pruning retired signing keys failed");
                }
            }
        })
    };
    let audit_retention = {
        let app = app.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(3600));
            loop {
                tick.tick().await;
                match audit::enforce_retention(&app).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, "pruned audit events past retention"),
                    Err(err) => tracing::warn!(error = %err, "pruning audit events failed"),
                }
            }
        })
    };
    let webhooks = webhooks::delivery::spawn(app.clone(), app.allow_private_webhooks);
    vec![sweeper, key_pruner, audit_retention, webhooks]
}
