//! `authstack gateway`: the gateway as its own process, next to the control plane's database.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use authstack_instance::clock::Clock;
use authstack_instance::crypto::MasterKey;
use secrecy::SecretString;

use super::GatewayOptions;
use crate::catalog::Catalog;

#[derive(clap::Args)]
pub struct GatewayArgs {
    #[arg(
        long,
        env = "AUTHSTACK_GATEWAY_LISTEN",
        default_value = "127.0.0.1:7401"
    )]
    pub listen: SocketAddr,
    /// The control plane's data directory (its SQLite database and master key).
    #[arg(long, env = "AUTHSTACK_DATA_DIR", default_value = "./authstack-data")]
    pub data_dir: PathBuf,
    /// The control plane's PostgreSQL URL; SQLite in the data dir when absent.
    #[arg(long, env = "AUTHSTACK_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Base64 of 32 bytes, the control plane's master key; DATA_DIR/master.key when absent.
    #[arg(long, env = "AUTHSTACK_MASTER_KEY", hide_env_values = true)]
    pub master_key: Option<String>,
    /// Plans and regions (YAML), for the per-key rate limits; the shipped plans.yaml when absent.
    #[arg(long, env = "AUTHSTACK_CATALOG")]
    pub catalog: Option<PathBuf>,
}

/// Runs the gateway until SIGTERM or Ctrl-C. Logging is the caller's to set up.
pub async fn run(args: GatewayArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;
    let master_key = args.master_key.map(SecretString::from);
    let master = MasterKey::load_or_create(master_key.as_ref(), &args.data_dir)?;
    let catalog = match &args.catalog {
        Some(path) => Catalog::from_file(path)?,
        None => Catalog::built_in(),
    };
    let db = crate::db::connect(args.database_url.as_deref(), &args.data_dir).await?;
    let stop = authstack_instance::cli::shutdown_signal();
    let running = super::start(GatewayOptions {
        listen: args.listen,
        db,
        master: Arc::new(master),
        clock: Clock::System,
        catalog,
        poll_interval: Duration::from_millis(200),
        upstream_timeout: Duration::from_secs(30),
    })
    .await?;
    stop.await;
    tracing::info!("gateway shutting down");
    running.stop().await;
    Ok(())
}
