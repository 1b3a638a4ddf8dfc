//! How the control plane runs: where it keeps state, where it listens, how it bills. Filled
//! from flags and `AUTHSTACK_*` variables; the defaults run on one machine.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use crate::catalog::Catalog;

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
        }
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
