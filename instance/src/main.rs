//! `authstack-instance`: run an instance, import users, print the OpenAPI document.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use authstack_instance::clock::Clock;
use authstack_instance::config::{InstanceConfig, ServerConfig};
use clap::{Args, Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};

mod import;

#[derive(Parser)]
#[command(
    name = "authstack-instance",
    version,
    about = "AuthStack instance: accounts, sessions and tokens for one customer environment"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the instance API.
    Serve(ServeArgs),
    /// Import users from a JSON-lines file (resumable).
    Import(import::ImportArgs),
    /// Print the OpenAPI document.
    Openapi,
}

/// Where the instance keeps its state.
#[derive(Args, Clone)]
struct StorageArgs {
    /// Directory for the SQLite database, the master key and the mail outbox.
    #[arg(long, env = "AUTHSTACK_DATA_DIR", default_value = "./authstack-data")]
    data_dir: PathBuf,
    /// PostgreSQL URL (postgres://...); SQLite in the data dir when absent.
    #[arg(long, env = "AUTHSTACK_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
}

#[derive(Args)]
struct ServeArgs {
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
    /// Take the client IP from X-Forwarded-For (only behind the AuthStack gateway).
    #[arg(long, env = "AUTHSTACK_TRUST_FORWARDED_FOR")]
    trust_forwarded_for: bool,
    /// Log format: json or pretty.
    #[arg(long, env = "AUTHSTACK_LOG_FORMAT", default_value = "json")]
    log_format: String,
}

fn init_logging(format: &str) {
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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Serve(args) => serve(args).await,
        Command::Import(args) => import::run(args).await,
        Command::Openapi => {
            println!("{}", authstack_instance::openapi().to_pretty_json()?);
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
        audience: args.audience,
        smtp_url: args.smtp_url.map(SecretString::from),
        trust_forwarded_for: args.trust_forwarded_for,
        instance,
    };
    let running = authstack_instance::start(config, Clock::System).await?;
    if let Some(key) = &running.initial_admin_key {
        // Printed once, to the terminal, never to the log.
        println!(
            "Admin secret key (shown once; store it now): {}",
            key.expose_secret()
        );
    }
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.stop().await.context("shutting down")
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
