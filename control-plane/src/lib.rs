//! The AuthStack control plane: accounts (organizations of the platform instance), plans and
//! regions, billing, customer instances and their provisioning, API keys, and the gateway that
//! routes API-key traffic to instances.
//!
//! [`start`] opens the database, starts the provisioners, brings up the platform instance, and
//! serves [`router`]; the gateway is started separately ([`gateway::start`]) or in the same
//! process by `authstack dev`.

pub mod accounts;
pub mod audit;
pub mod billing;
pub mod capabilities;
pub mod catalog;
pub mod config;
pub mod credentials;
pub mod customize;
pub mod db;
pub mod dev;
pub mod error;
pub mod gateway;
pub mod headers;
pub mod http;
pub mod instances;
pub mod keys;
pub mod mailbox;
pub mod metrics;
pub mod ops;
pub mod platform;
pub mod provisioner;
pub mod revisions;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use authstack_instance::clock::Clock;
use authstack_instance::crypto::MasterKey;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::routing::{get, post, put};
use secrecy::{ExposeSecret, SecretString};
use tokio::task::JoinHandle;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::catalog::ProvisionerKind;
use crate::config::Config;
use crate::db::Db;
use crate::error::Error;
use crate::instances::reconcile::{self, Reconciler};
use crate::platform::Platform;
use crate::provisioner::kubernetes::KubernetesProvisioner;
use crate::provisioner::local::{LocalOptions, LocalProvisioner};
use crate::provisioner::{Environment, InstanceSecrets, Provisioner};

/// Everything a request handler can reach.
pub struct App {
    pub db: Db,
    pub clock: Clock,
    pub config: Config,
    /// Seals instance secrets at rest.
    pub master: Arc<MasterKey>,
    /// By region id.
    pub provisioners: HashMap<String, Arc<dyn Provisioner>>,
    pub platform: Platform,
    pub reconciler: Reconciler,
    pub http: reqwest::Client,
    /// The public URL of the gateway: the `iss` of every instance and the customers' base URL.
    pub gateway_url: String,
    /// Turns customization prompts into configuration patches.
    pub planner: Arc<dyn customize::planner::Planner>,
    /// Where the dashboard runs: the platform instance's mailed links open it.
    pub dashboard_url: String,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("gateway_url", &self.gateway_url)
            .finish_non_exhaustive()
    }
}

pub type AppState = Arc<App>;

/// Route changes: how the control plane tells every gateway that keys or instances changed.
pub mod route_changes {
    use authstack_instance::clock::UnixTime;
    use sqlx::Row;

    use crate::db::Db;

    /// Records a change; gateways drop their caches within their poll interval.
    pub async fn record<'c, E>(executor: E, now: UnixTime) -> sqlx::Result<()>
    where
        E: sqlx::Executor<'c, Database = sqlx::Any>,
    {
        sqlx::query("INSERT INTO route_changes (at) VALUES ($1)")
            .bind(now)
            .execute(executor)
            .await?;
        Ok(())
    }

    /// The newest change's number (0 when none).
    pub async fn latest(db: &Db) -> sqlx::Result<i64> {
        let row = sqlx::query("SELECT COALESCE(MAX(id), 0) AS latest FROM route_changes")
            .fetch_one(&db.pool)
            .await?;
        row.try_get::<i64, _>("latest")
    }
}

/// The whole control-plane API.
pub fn router(app: AppState) -> Router {
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<_>| {
            let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
        })
        .on_request(())
        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO));
    Router::new()
        .route(
            "/healthz",
            get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route(
            "/readyz",
            get(|| async { axum::Json(serde_json::json!({ "status": "ready" })) }),
        )
        .route("/v1/platform", get(platform_info))
        .route("/v1/me", get(ops::me))
        .route("/v1/plans", get(catalog::routes::plans))
        .route("/v1/capabilities", get(capabilities::get))
        .route("/v1/dev/mailbox", get(mailbox::list))
        .route("/v1/regions", get(catalog::routes::regions))
        .route(
            "/v1/accounts",
            get(accounts::routes::list).post(accounts::routes::create),
        )
        .route("/v1/accounts/{id}", get(accounts::routes::get))
        .route(
            "/v1/accounts/{id}/subscription",
            post(accounts::routes::subscribe).delete(accounts::routes::cancel),
        )
        .route(
            "/v1/accounts/{id}/billing-portal",
            post(accounts::routes::billing_portal),
        )
        .route("/v1/accounts/{id}/instances", get(instances::routes::list))
        .route(
            "/v1/accounts/{id}/instances/{env}/allowed-origins",
            put(instances::routes::set_allowed_origins),
        )
        .route(
            "/v1/accounts/{id}/instances/{env}/usage",
            get(instances::usage::get),
        )
        .route(
            "/v1/accounts/{id}/instances/{env}/revisions",
            get(revisions::routes::list).post(revisions::routes::create),
        )
        .route(
            "/v1/accounts/{id}/instances/{env}/revisions/diff",
            get(revisions::routes::compare),
        )
        .route(
            "/v1/accounts/{id}/instances/{env}/revisions/import",
            post(revisions::routes::import),
        )
        .route(
            "/v1/accounts/{id}/instances/{env}/revisions/{number}",
            get(revisions::routes::get),
        )
        .route(
            "/v1/accounts/{id}/instances/{env}/revisions/{number}/deploy",
            post(revisions::routes::deploy_route),
        )
        .route(
            "/v1/accounts/{id}/instances/{env}/revisions/{number}/export",
            get(revisions::routes::export),
        )
        .route(
            "/v1/accounts/{id}/instances/{env}/rollback",
            post(revisions::routes::rollback),
        )
        .route(
            "/v1/accounts/{id}/instances/{env}/promote",
            post(revisions::routes::promote),
        )
        .route(
            "/v1/accounts/{id}/instances/{env}/customizations",
            get(customize::routes::list).post(customize::routes::propose),
        )
        .route(
            "/v1/accounts/{id}/instances/{env}/customizations/{customization_id}",
            get(customize::routes::get),
        )
        .route(
            "/v1/accounts/{id}/instances/{env}/customizations/{customization_id}/modify",
            post(customize::routes::modify),
        )
        .route(
            "/v1/accounts/{id}/instances/{env}/customizations/{customization_id}/approve",
            post(customize::routes::approve),
        )
        .route(
            "/v1/accounts/{id}/instances/{env}/customizations/{customization_id}/cancel",
            post(customize::routes::cancel),
        )
        .route(
            "/v1/accounts/{id}/keys",
            get(keys::routes::list).post(keys::routes::create),
        )
        .route(
            "/v1/accounts/{id}/keys/{key_id}/rotate",
            post(keys::routes::rotate),
        )
        .route(
            "/v1/accounts/{id}/keys/{key_id}",
            axum::routing::delete(keys::routes::revoke),
        )
        .route(
            "/v1/accounts/{id}/audit-logs",
            get(audit::routes::account_events),
        )
        .route("/v1/billing/stripe/webhook", post(billing::webhook::stripe))
        .route("/v1/ops/instances", get(ops::list))
        .route("/v1/ops/instances/{id}/reconcile", post(ops::reconcile))
        .route("/v1/ops/audit-logs", get(audit::routes::all_events))
        .fallback(dashboard)
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(256 * 1024))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            headers::security,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(trace)
                .layer(PropagateRequestIdLayer::x_request_id()),
        )
        .with_state(app)
}

#[derive(serde::Serialize)]
struct PlatformInfo {
    instance_id: String,
    gateway_url: String,
    /// The platform's publishable key (browser-safe): the dashboard signs users up and in with it.
    publishable_key: String,
    /// Where the packed SDK can be installed from, when this control plane serves it.
    sdk: Option<SdkTarballs>,
}

#[derive(serde::Serialize)]
struct SdkTarballs {
    client: String,
    react: String,
}

async fn platform_info(
    axum::extract::State(app): axum::extract::State<AppState>,
) -> error::Result<axum::Json<PlatformInfo>> {
    let key = platform_publishable_key(&app).await?;
    Ok(axum::Json(PlatformInfo {
        instance_id: app.platform.instance_id.clone(),
        gateway_url: app.gateway_url.clone(),
        publishable_key: key.expose_secret().to_owned(),
        sdk: app
            .config
            .sdk_dir
            .as_ref()
            .filter(|dir| SDK_TARBALLS.iter().all(|name| dir.join(name).is_file()))
            .map(|_| SdkTarballs {
                client: format!("{}/sdk/{}", app.dashboard_url, SDK_TARBALLS[0]),
                react: format!("{}/sdk/{}", app.dashboard_url, SDK_TARBALLS[1]),
            }),
    }))
}

/// The platform instance's publishable key, kept sealed (unlike customers' keys, the control
/// plane hands it out on every start and to the dashboard).
pub async fn platform_publishable_key(app: &App) -> error::Result<SecretString> {
    let sealed = db::meta(&app.db, "platform_publishable_key")
        .await?
        .ok_or(Error::NotFound("platform key"))?;
    let key = app.master.open(&sealed, "platform_publishable_key")?;
    Ok(SecretString::from(
        String::from_utf8(key).map_err(anyhow::Error::from)?,
    ))
}

/// A running control plane.
pub struct Running {
    pub addr: SocketAddr,
    pub app: AppState,
    shutdown: tokio::sync::watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    background: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops serving, stops the background tasks, and lets the provisioners shut down (local
    /// instances stop or keep running per `stop_instances_on_shutdown`).
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        let result = self.server.await;
        for task in self.background {
            task.abort();
        }
        for provisioner in distinct(&self.app.provisioners) {
            provisioner.shutdown().await;
        }
        self.app.db.close().await;
        result.context("server task")?.context("server")
    }
}

/// Each provisioner once (one serves several regions).
fn distinct(provisioners: &HashMap<String, Arc<dyn Provisioner>>) -> Vec<&Arc<dyn Provisioner>> {
    let mut seen: Vec<*const ()> = Vec::new();
    let mut distinct = Vec::new();
    for provisioner in provisioners.values() {
        let ptr = Arc::as_ptr(provisioner) as *const ();
        if !seen.contains(&ptr) {
            seen.push(ptr);
            distinct.push(provisioner);
        }
    }
    distinct
}

/// A provisioner for each `kubernetes` region whose cluster answers, when the control plane
/// is configured for Kubernetes (and the region has no ready-made one). A region whose
/// cluster cannot be reached is logged and stays unavailable until the next start.
async fn kubernetes_provisioners(config: &Config) -> Vec<(String, Arc<dyn Provisioner>)> {
    let Some(settings) = &config.kubernetes else {
        return Vec::new();
    };
    let regions = config.catalog.regions.iter().filter(|r| {
        r.provisioner == ProvisionerKind::Kubernetes && !config.provisioners.0.contains_key(&r.id)
    });
    let connecting = regions.map(|region| async move {
        match KubernetesProvisioner::for_region(region, settings, &config.platform_region).await {
            Ok(provisioner) => {
                Some((region.id.clone(), Arc::new(provisioner) as Arc<dyn Provisioner>))
            }
            Err(err) => {
                tracing::error!(region = %region.id, error = %format!("{err:#}"), "the region's cluster cannot be reached; the region is unavailable");
                None
            }
        }
    });
    futures::future::join_all(connecting)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// Opens storage, starts the provisioners and the platform instance, binds `config.listen`.
pub async fn start(config: Config, clock: Clock) -> anyhow::Result<Running> {
    // reqwest is built without a default TLS provider; Stripe is called over TLS.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data dir {}", config.data_dir.display()))?;
    let master = Arc::new(MasterKey::load_or_create(
        config.master_key.as_ref(),
        &config.data_dir,
    )?);
    let db = db::connect(
        config.database_url.as_ref().map(|u| u.expose_secret()),
        &config.data_dir,
    )
    .await?;
    ops::ensure_operator_key(&db, &config.data_dir).await?;

    let (events, event_log) = tokio::sync::mpsc::unbounded_channel();
    let executable = match &config.instance_executable {
        Some(path) => path.clone(),
        None => std::env::current_exe().context("locating the authstack executable")?,
    };
    let local: Arc<dyn Provisioner> = Arc::new(LocalProvisioner::new(LocalOptions {
        executable,
        instances_dir: config.data_dir.join("instances"),
        events: events.clone(),
        stop_on_shutdown: config.stop_instances_on_shutdown,
    }));
    let mut provisioners: HashMap<String, Arc<dyn Provisioner>> = config
        .catalog
        .regions
        .iter()
        .filter(|r| r.provisioner == ProvisionerKind::Local)
        .map(|r| (r.id.clone(), local.clone()))
        .collect();
    provisioners.extend(kubernetes_provisioners(&config).await);
    provisioners.extend(config.provisioners.0.clone());
    for provisioner in distinct(&provisioners) {
        provisioner.observe(events.clone());
    }

    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    let gateway_url = config
        .gateway_url
        .clone()
        .unwrap_or_else(|| "http://127.0.0.1:7401".to_owned())
        .trim_end_matches('/')
        .to_owned();

    let (platform_id, platform_secrets) =
        platform_instance(&db, &master, &clock, &config.platform_region).await?;
    let planner = customize::planner::from_settings(&config.planner, config.llm.clone())?;
    let dashboard_url = config
        .dashboard_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", browser_address(addr)))
        .trim_end_matches('/')
        .to_owned();
    let app = Arc::new(App {
        dashboard_url,
        planner,
        platform: Platform::new(platform_id.clone(), &gateway_url, platform_secrets),
        reconciler: Reconciler::default(),
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .context("HTTP client")?,
        gateway_url,
        provisioners,
        master,
        clock,
        db,
        config,
    });
    ensure_platform_key(&app).await?;
    allow_dashboard(&app, addr).await?;
    reconcile::apply_now(&app, &platform_id)
        .await
        .context("starting the platform instance")?;

    let background = vec![
        reconcile::spawn_event_log(app.clone(), event_log),
        reconcile::spawn(app.clone()),
        billing::spawn_clock(app.clone(), app.config.billing_tick),
    ];
    let (shutdown, mut stopped) = tokio::sync::watch::channel(false);
    let service = router(app.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let server = tokio::spawn(async move {
        axum::serve(listener, service)
            .with_graceful_shutdown(async move {
                let _ = stopped.wait_for(|&stop| stop).await;
            })
            .await
    });
    tracing::info!(%addr, platform_instance = %platform_id, "control plane ready");
    Ok(Running {
        addr,
        app,
        shutdown,
        server,
        background,
    })
}

/// The dashboard runs in browsers at the control plane's own origin (and any configured
/// others): the platform instance, which it signs users in with, allows them.
async fn allow_dashboard(app: &App, addr: SocketAddr) -> anyhow::Result<()> {
    let addr = browser_address(addr);
    let mut origins = vec![format!("http://{addr}")];
    if addr.ip().is_loopback() {
        origins.push(format!("http://localhost:{}", addr.port()));
    }
    if let Ok(url) = reqwest::Url::parse(&app.dashboard_url) {
        let origin = url.origin().ascii_serialization();
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    origins.extend(app.config.dashboard_origins.iter().cloned());
    let now = app.clock.now();
    let mut tx = app.db.writer.begin().await?;
    sqlx::query("UPDATE instances SET allowed_origins = $1 WHERE id = $2")
        .bind(serde_json::to_string(&origins)?)
        .bind(&app.platform.instance_id)
        .execute(&mut *tx)
        .await?;
    route_changes::record(&mut *tx, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The address a browser on this machine reaches `addr` at: a wildcard bind is reached on
/// loopback.
pub fn browser_address(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    }
}

/// The packed SDK packages `/sdk/` serves (from `Config::sdk_dir`).
const SDK_TARBALLS: [&str; 2] = ["authstack-client.tgz", "authstack-react.tgz"];

/// Paths outside the API: the packed SDK, the dashboard's files, and its `index.html` for the routes the app
/// handles in the browser. API paths (and everything without a dashboard) are a JSON 404.
async fn dashboard(
    axum::extract::State(app): axum::extract::State<AppState>,
    request: Request<axum::body::Body>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    use tower::ServiceExt;
    let path = request.uri().path();
    // `//assets` would make the file service redirect to `//assets/`, a protocol-relative URL
    // that browsers read as another host.
    let api = headers::is_api(path) || path.starts_with("/sdk/") || path.starts_with("//");
    let read = matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    );
    if let (Some(dir), Some(name), true) = (&app.config.sdk_dir, path.strip_prefix("/sdk/"), read)
        && SDK_TARBALLS.contains(&name)
        && dir.join(name).is_file()
    {
        return match tower_http::services::ServeFile::new(dir.join(name))
            .oneshot(request)
            .await
        {
            Ok(response) => response.into_response(),
            Err(err) => Error::Internal(anyhow::anyhow!("serving the SDK: {err}")).into_response(),
        };
    }
    match &app.config.dashboard_dir {
        Some(dir) if !api && read => {
            let index = tower_http::services::ServeFile::new(dir.join("index.html"));
            match tower_http::services::ServeDir::new(dir)
                .fallback(index)
                .oneshot(request)
                .await
            {
                Ok(response) => response.into_response(),
                Err(err) => {
                    Error::Internal(anyhow::anyhow!("serving the dashboard: {err}")).into_response()
                }
            }
        }
        _ => Error::NotFound("route").into_response(),
    }
}

/// The platform instance's id and secrets, creating its row on first start.
async fn platform_instance(
    db: &Db,
    master: &MasterKey,
    clock: &Clock,
    region: &str,
) -> anyhow::Result<(String, InstanceSecrets)> {
    if let Some(id) = db::meta(db, "platform_instance_id").await? {
        let instance = instances::find(db, &id)
            .await?
            .with_context(|| format!("the platform instance {id} is missing"))?;
        let secrets = InstanceSecrets::open(&instance.sealed_secrets, master, &id)?;
        return Ok((id, secrets));
    }
    let id = db::new_id("ins");
    let secrets = InstanceSecrets::generate();
    let now = clock.now();
    let mut tx = db.writer.begin().await?;
    sqlx::query(
        "INSERT INTO instances (id, account_id, environment, region, plan, state, desired, revision, \
         endpoint, allowed_origins, secrets, created_at, updated_at) \
         VALUES ($1, NULL, 'live', $2, 'platform', 'provisioning', 'running', 1, '', '[]', $3, $4, $4)",
    )
    .bind(&id)
    .bind(region)
    .bind(secrets.seal(master, &id)?)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    instances::record_step(
        &mut *tx,
        &id,
        now,
        "requested",
        Some("the platform instance"),
    )
    .await?;
    sqlx::query("INSERT INTO meta (key, value) VALUES ('platform_instance_id', $1)")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((id, secrets))
}

async fn ensure_platform_key(app: &App) -> anyhow::Result<()> {
    if db::meta(&app.db, "platform_publishable_key")
        .await?
        .is_some()
    {
        return Ok(());
    }
    let key = keys::create(
        &app.db.writer,
        None,
        &app.platform.instance_id,
        Environment::Live,
        keys::Kind::Publishable,
        "platform dashboard",
        app.clock.now(),
    )
    .await?;
    let sealed = app.master.seal(
        key.secret.expose_secret().as_bytes(),
        "platform_publishable_key",
    )?;
    db::set_meta(&app.db, "platform_publishable_key", &sealed).await?;
    Ok(())
}
