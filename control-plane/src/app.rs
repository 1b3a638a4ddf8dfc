//! The control plane's state and its lifecycle: [`start`] opens the database, starts the
//! provisioners, brings up the platform instance and serves the API; [`Running::stop`] ends it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use authstack_instance::clock::Clock;
use authstack_instance::crypto::MasterKey;
use secrecy::ExposeSecret;
use tokio::task::JoinHandle;

use crate::catalog::ProvisionerKind;
use crate::config::Config;
use crate::db::{self, Db};
use crate::instances::reconcile::{self, Reconciler};
use crate::platform::{self, Platform};
use crate::provisioner::Provisioner;
use crate::provisioner::kubernetes::KubernetesProvisioner;
use crate::provisioner::local::{LocalOptions, LocalProvisioner};
use crate::{account_webhooks, billing, customize, ops};

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
    /// Who bills subscriptions: chosen from `config.billing` at start.
    pub billing: Arc<dyn billing::BillingProvider>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("gateway_url", &self.gateway_url)
            .finish_non_exhaustive()
    }
}

pub type AppState = Arc<App>;

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
        allow_private_webhooks: config.allow_private_webhooks,
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
        platform::bootstrap::platform_instance(&db, &master, &clock, &config.platform_region)
            .await?;
    let planner = customize::planner::from_settings(config.planner, config.llm.clone())?;
    let dashboard_url = config
        .dashboard_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", browser_address(addr)))
        .trim_end_matches('/')
        .to_owned();
    let app = Arc::new(App {
        billing: billing::from_config(&config.billing)?,
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
    platform::bootstrap::ensure_platform_key(&app).await?;
    platform::bootstrap::allow_dashboard(&app, addr).await?;
    reconcile::apply_now(&app, &platform_id)
        .await
        .context("starting the platform instance")?;

    let background = vec![
        reconcile::spawn_event_log(app.clone(), event_log),
        reconcile::spawn(app.clone()),
        billing::spawn_clock(app.clone(), app.config.billing_tick),
        account_webhooks::delivery::spawn(app.clone()),
    ];
    let (shutdown, mut stopped) = tokio::sync::watch::channel(false);
    let service = crate::router(app.clone()).into_make_service_with_connect_info::<SocketAddr>();
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

/// The address a browser on this machine reaches `addr` at: a wildcard bind is reached on
/// loopback.
pub fn browser_address(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    }
}
