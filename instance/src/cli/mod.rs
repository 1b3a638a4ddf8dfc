//! The command line of an instance: `serve`, `import`, `openapi`. The `authstack-instance`
//! binary is this; the control plane's `authstack instance ...` embeds the same commands so the
//! local provisioner can run instances from its own executable.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::clock::Clock;
use crate::config::{InstanceConfig, ServerConfig};
use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use secrecy::{ExposeSecret, SecretString};

mod import;
mod import_firebase;
mod import_keycloak;
mod sidecar;

#[derive(Parser)]
#[command(
    name = "authstack-instance",
    version,
    about = "AuthStack instance: accounts, sessions and tokens for one customer environment"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the instance API.
    Serve(Box<ServeArgs>),
    /// Import users from a JSON-lines file (resumable), an Auth0, Firebase or Keycloak export
    /// (`import auth0|firebase|keycloak`).
    Import(import::ImportArgs),
    /// Print the OpenAPI document.
    Openapi,
    /// Print the JSON Schema of the instance configuration (`--config`, revisions).
    ConfigSchema,
    /// Print the built-in permissions and roles as JSON (the SDKs generate their constants
    /// from it).
    Builtins,
}

/// Where the instance keeps its state.
#[derive(Args, Clone)]
pub struct StorageArgs {
    /// Directory for the SQLite database, the master key and the mail outbox.
    #[arg(long, env = "AUTHSTACK_DATA_DIR", default_value = "./authstack-data")]
    data_dir: PathBuf,
    /// PostgreSQL URL (postgres://...); SQLite in the data dir when absent.
    #[arg(long, env = "AUTHSTACK_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    storage: StorageArgs,
    #[arg(long, env = "AUTHSTACK_LISTEN", default_value = "127.0.0.1:7300")]
    listen: SocketAddr,
    /// Instance configuration (YAML or JSON); defaults apply to everything not in it.
    #[arg(long, env = "AUTHSTACK_CONFIG")]
    config: Option<PathBuf>,
    /// The `iss` claim and public base URL; defaults to http://LISTEN.
    #[arg(long, env = "AUTHSTACK_ISSUER")]
    issuer: Option<String>,
    /// Earlier issuers whose tokens still verify here until they expire (comma-separated).
    #[arg(long, env = "AUTHSTACK_PREVIOUS_ISSUERS", value_delimiter = ',')]
    previous_issuer: Vec<String>,
    /// The `aud` claim; defaults to the instance id.
    #[arg(long, env = "AUTHSTACK_AUDIENCE")]
    audience: Option<String>,
    /// Base64 of 32 bytes; overrides DATA_DIR/master.key.
    #[arg(long, env = "AUTHSTACK_MASTER_KEY", hide_env_values = true)]
    master_key: Option<String>,
    /// smtps://user:pass@host:465, smtp://user:pass@host:587?tls=required (STARTTLS) or smtp://relay:25;
    /// mail goes to DATA_DIR/outbox when absent.
    #[arg(long, env = "AUTHSTACK_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// redis://host:6379 or rediss://host:6380 (TLS): rate-limit counters shared by the replicas
    /// there instead of in the database.
    #[arg(long, env = "AUTHSTACK_REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
    /// Take the client IP from X-Forwarded-For (only behind the AuthStack gateway).
    #[arg(long, env = "AUTHSTACK_TRUST_FORWARDED_FOR")]
    trust_forwarded_for: bool,
    /// Refuse every request (but /healthz and /readyz) that does not carry this secret in
    /// `X-AuthStack-Gateway`: the instance is reachable only through the AuthStack gateway.
    #[arg(long, env = "AUTHSTACK_GATEWAY_SECRET", hide_env_values = true)]
    gateway_secret: Option<String>,
    /// Let webhooks target loopback and private addresses (development only).
    #[arg(long, env = "AUTHSTACK_WEBHOOKS_ALLOW_PRIVATE")]
    allow_private_webhooks: bool,
    /// Where mail about the instance's operation goes (a webhook endpoint disabled).
    #[arg(long, env = "AUTHSTACK_NOTIFY_EMAIL")]
    notify_email: Option<String>,
    /// Log format: json or pretty.
    #[arg(long, env = "AUTHSTACK_LOG_FORMAT", default_value = "json")]
    log_format: String,
}

/// Initialises logging to stderr: `json` (one object per line) or `pretty`; the filter comes
/// from `AUTHSTACK_LOG`.
pub fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("AUTHSTACK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // A closed log pipe must not take the server down: by default the subscriber reports write
    // failures with eprintln!, which panics when stderr itself is gone.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .log_internal_errors(false);
    if format == "pretty" {
        builder.init();
    } else {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init();
    }
}

/// Parses the process arguments and runs the command.
pub fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(cli.command))
}

/// Runs one command.
pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => serve(*args).await,
        Command::Import(args) => import::run(args).await,
        Command::Openapi => {
            println!("{}", crate::openapi().to_pretty_json()?);
            Ok(())
        }
        Command::ConfigSchema => {
            let schema = schemars::schema_for!(crate::config::InstanceConfig);
            println!("{}", serde_json::to_string_pretty(&schema)?);
            Ok(())
        }
        Command::Builtins => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::rbac::builtins())?
            );
            Ok(())
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logging(&args.log_format);
    let instance = match &args.config {
        Some(path) => InstanceConfig::from_file(path)?,
        None => InstanceConfig::default(),
    };
    let config = ServerConfig {
        listen: args.listen,
        data_dir: args.storage.data_dir,
        database_url: args.storage.database_url.map(SecretString::from),
        master_key: args.master_key.map(SecretString::from),
        issuer: args.issuer,
        previous_issuers: args.previous_issuer,
        audience: args.audience,
        smtp_url: args.smtp_url.map(SecretString::from),
        redis_url: args.redis_url.map(SecretString::from),
        trust_forwarded_for: args.trust_forwarded_for,
        gateway_secret: args.gateway_secret.map(SecretString::from),
        allow_private_webhooks: args.allow_private_webhooks,
        notify_email: args.notify_email.filter(|a| !a.trim().is_empty()),
        instance,
    };
    let stop = shutdown_signal();
    let running = crate::start(config, Clock::System).await?;
    if let Some(key) = &running.initial_admin_key {
        // Printed once, to the terminal, never to the log.
        println!(
            "Admin secret key (shown once; store it now): {}",
            key.expose_secret()
        );
    }
    stop.await;
    tracing::info!("shutting down");
    running.stop().await.context("shutting down")
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed when this is called, not when the
/// future is first polled: call it before starting (and logging "ready"), so that a SIGTERM
/// sent right after readiness shuts down gracefully instead of killing the process.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{Signal, SignalKind, signal};
        async fn received(signal: Option<Signal>) {
            match signal {
                Some(mut signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        let terminate = signal(SignalKind::terminate()).ok();
        let interrupt = signal(SignalKind::interrupt()).ok();
        async move {
            tokio::select! {
                () = received(terminate) => {},
                () = received(interrupt) => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
