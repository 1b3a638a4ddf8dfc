//! How the control plane runs: where it keeps state, where it listens, how it bills. Filled
//! from flags and `AUTHSTACK_*` variables; the defaults run on one machine.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use crate::catalog::Catalog;
use crate::provisioner::Provisioner;

#[derive(Debug, Clone)]
pub struct Config {
    /// Holds the control plane's SQLite database, its master key, and the local instances.
    pub data_dir: PathBuf,
    /// `postgres://...`; SQLite in `data_dir` when `None`.
    pub database_url: Option<SecretString>,
    /// Base64 of 32 bytes; seals instance secrets. `data_dir/master.key` when `None`.
    pub master_key: Option<SecretString>,
    pub listen: SocketAddr,
    /// The public URL of the gateway, given to customers with their keys.
    pub gateway_url: Option<String>,
    pub catalog: Catalog,
    pub billing: BillingConfig,
    /// The executable that runs instances (`EXE instance serve ...`); this one by default.
    pub instance_executable: Option<PathBuf>,
    /// How long a subscription whose payment failed keeps running.
    pub payment_grace: Duration,
    /// How long a cancelled or suspended account's data is kept before deletion.
    pub data_retention: Duration,
    /// How often the billing clock checks grace periods and retention.
    pub billing_tick: Duration,
    /// The region of the control plane's own platform instance.
    pub platform_region: String,
    /// Stop local instances when the control plane stops (`authstack dev`); otherwise they keep
    /// serving and the next start re-adopts them.
    pub stop_instances_on_shutdown: bool,
    /// Start local instances with `--allow-private-webhooks` (`authstack dev`): their webhooks
    /// may then reach loopback and private addresses, which production instances refuse.
    pub allow_private_webhooks: bool,
    /// Provision `kubernetes` regions through their clusters; without it only `local` regions
    /// are available.
    pub kubernetes: Option<KubernetesConfig>,
    /// Ready-made provisioners by region id, used instead of the ones `start` would build
    /// (tests: a Kubernetes provisioner over a fake API server).
    pub provisioners: Provisioners,
    /// Which customization planner turns prompts into configuration patches: `rules` (offline,
    /// the default) or `llm` (an OpenAI-compatible endpoint, `llm` below).
    pub planner: crate::customize::planner::PlannerKind,
    pub llm: Option<crate::customize::planner::LlmSettings>,
    /// The dashboard's built files (`sdk-js/apps/dashboard/dist`), served at `/`.
    pub dashboard_dir: Option<PathBuf>,
    /// Browser origins the dashboard runs on besides the control plane's own (e.g. a Vite dev
    /// server): the platform instance allows them.
    pub dashboard_origins: Vec<String>,
    /// The dashboard's public URL: where the platform instance's mails (verification, password
    /// reset, invitations) link to. `http://` + the control plane's address when absent.
    pub dashboard_url: Option<String>,
    /// Platform users who may use the operator API (`/v1/ops/…`) with their own access token,
    /// once their address is verified; the operator key works regardless.
    pub operator_emails: Vec<String>,
    /// Serve `GET /v1/dev/mailbox` (every local instance's outbox, without sign-in): only
    /// `authstack dev`.
    pub dev_mailbox: bool,
    /// The packed SDK (`authstack-client.tgz`, `authstack-react.tgz`), served at `/sdk/` so
    /// that a machine without the public npm registry can install it.
    pub sdk_dir: Option<PathBuf>,
    /// The nameserver that verifies custom domains' TXT records (`host:port`); the system's
    /// resolver when `None`.
    pub dns_nameserver: Option<SocketAddr>,
}

impl Config {
    /// Everything at its default, with state under `data_dir`.
    pub fn embedded(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            database_url: None,
            master_key: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 7400)),
            gateway_url: None,
            catalog: Catalog::built_in(),
            billing: BillingConfig::None,
            instance_executable: None,
            payment_grace: Duration::from_secs(7 * 24 * 3600),
            data_retention: Duration::from_secs(30 * 24 * 3600),
            billing_tick: Duration::from_secs(60),
            platform_region: "local".into(),
            stop_instances_on_shutdown: false,
            allow_private_webhooks: false,
            kubernetes: None,
            provisioners: Provisioners::default(),
            planner: crate::customize::planner::PlannerKind::Rules,
            llm: None,
            dashboard_dir: None,
            dashboard_origins: Vec::new(),
            dashboard_url: None,
            operator_emails: Vec::new(),
            dev_mailbox: false,
            sdk_dir: None,
            dns_nameserver: None,
        }
    }
}

/// The image instances run unless configured: this release's.
pub fn default_instance_image() -> String {
    format!(
        "ghcr.io/authstack/authstack-instance:{}",
        env!("CARGO_PKG_VERSION")
    )
}

/// How the control plane reaches the clusters of `kubernetes` regions.
#[derive(Debug, Clone)]
pub struct KubernetesConfig {
    /// The image instances run (`AUTHSTACK_INSTANCE_IMAGE`).
    pub instance_image: String,
    /// The control plane runs in a pod: regions whose `kube_context` is `in-cluster`, and the
    /// platform region, use the pod's service account instead of a kubeconfig context.
    pub in_cluster: bool,
    /// Client-side limit of API calls per second to each cluster, and the burst above it.
    pub qps: f32,
    pub burst: u32,
    /// How long an `apply` waits for the instance to be ready at the new revision.
    pub ready_timeout: Duration,
}

impl Default for KubernetesConfig {
    fn default() -> Self {
        KubernetesConfig {
            instance_image: default_instance_image(),
            in_cluster: false,
            qps: 20.0,
            burst: 40,
            ready_timeout: Duration::from_secs(600),
        }
    }
}

/// Provisioners by region id.
#[derive(Clone, Default)]
pub struct Provisioners(pub HashMap<String, Arc<dyn Provisioner>>);

impl fmt::Debug for Provisioners {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

#[derive(Debug, Clone)]
pub enum BillingConfig {
    /// Plans are granted at once (the embedded default, and self-hosting).
    None,
    Stripe(StripeConfig),
}

#[derive(Debug, Clone)]
pub struct StripeConfig {
    pub api_key: SecretString,
    /// `https://api.stripe.com/`, or a local fake server in tests.
    pub api_base: String,
    /// Webhook signing secrets; several while one is being rotated.
    pub webhook_secrets: Vec<SecretString>,
    /// Signed timestamps older (or newer) than this are refused.
    pub webhook_tolerance: Duration,
    /// Where Checkout and the billing portal send the customer back (the dashboard).
    pub return_url: String,
}
