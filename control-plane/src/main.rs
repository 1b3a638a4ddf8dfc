//! `authstack`: the control plane, the gateway, the all-in-one `dev` mode, operator commands,
//! and (`authstack instance ...`) the instance itself, which the local provisioner runs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use authstack_control_plane::catalog::Catalog;
use authstack_control_plane::config::{BillingConfig, Config, KubernetesConfig, StripeConfig};
use authstack_control_plane::customize::planner::PlannerKind;
use authstack_control_plane::{dev, gateway, ops};
use authstack_instance::clock::Clock;
use clap::{Args, Parser, Subcommand, ValueEnum};
use secrecy::SecretString;

#[derive(Parser)]
#[command(
    name = "authstack",
    version,
    about = "AuthStack: dedicated authentication infrastructure per customer"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Everything on this machine: gateway, control plane, local instances, a demo account.
    Dev(DevArgs),
    /// Serve the control-plane API.
    Serve(Box<ServeArgs>),
    /// Serve the API-key gateway.
    Gateway(gateway::cli::GatewayArgs),
    /// Apply the control plane's database migrations and exit.
    Migrate(StorageArgs),
    /// Operator commands over the control-plane API.
    #[command(subcommand)]
    Instances(InstancesCommand),
    /// Sign in to the platform (as in the dashboard) and keep the session for `authstack token`.
    Login(LoginArgs),
    /// Print a fresh platform access token of the `authstack login` session, for the
    /// control-plane API: `curl -H "authorization: Bearer $(authstack token)" …`.
    Token,
    /// Print the control-plane API's OpenAPI document (what `GET /openapi.json` serves).
    Openapi,
    /// Run one AuthStack instance (what the local provisioner starts).
    #[command(subcommand)]
    Instance(authstack_instance::cli::Command),
}

#[derive(Args)]
struct DevArgs {
    #[arg(long, env = "AUTHSTACK_DATA_DIR", default_value = "./authstack-data")]
    data_dir: PathBuf,
    #[arg(long, env = "AUTHSTACK_LISTEN", default_value = "127.0.0.1:7400")]
    listen: SocketAddr,
    #[arg(
        long,
        env = "AUTHSTACK_GATEWAY_LISTEN",
        default_value = "127.0.0.1:7401"
    )]
    gateway_listen: SocketAddr,
    /// json or pretty.
    #[arg(long, env = "AUTHSTACK_LOG_FORMAT", default_value = "pretty")]
    log_format: String,
    /// The dashboard's built files, served at `/` (`sdk-js/apps/dashboard/dist` when it exists).
    #[arg(long, env = "AUTHSTACK_DASHBOARD_DIR")]
    dashboard_dir: Option<PathBuf>,
    /// The packed SDK (`authstack-client.tgz`, `authstack-react.tgz`), served at `/sdk/`
    /// (`sdk-js/dist-packages` when it exists; `scripts/run` packs it).
    #[arg(long, env = "AUTHSTACK_SDK_DIR")]
    sdk_dir: Option<PathBuf>,
    /// The nameserver (`host:port`) that custom domains' TXT records are verified against; the
    /// system's resolver when absent.
    #[arg(long, env = "AUTHSTACK_DNS_NAMESERVER")]
    dns_nameserver: Option<SocketAddr>,
}

/// The dashboard directory given, or the repository's build when it exists.
fn dashboard_dir(given: Option<PathBuf>) -> Option<PathBuf> {
    given.or_else(|| {
        let built = PathBuf::from("sdk-js/apps/dashboard/dist");
        built.join("index.html").exists().then_some(built)
    })
}

#[derive(Args, Clone)]
struct StorageArgs {
    /// The control plane's SQLite database, master key, operator key and local instances.
    #[arg(long, env = "AUTHSTACK_DATA_DIR", default_value = "./authstack-data")]
    data_dir: PathBuf,
    /// PostgreSQL URL; SQLite in the data dir when absent.
    #[arg(long, env = "AUTHSTACK_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
enum BillingProvider {
    None,
    Stripe,
}

#[derive(Clone, Copy, ValueEnum)]
enum ProvisionerChoice {
    /// Only `local` regions: instances as processes on this machine.
    Local,
    /// `kubernetes` regions through their clusters too (`local` regions stay local).
    Kubernetes,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    storage: StorageArgs,
    #[arg(long, env = "AUTHSTACK_LISTEN", default_value = "127.0.0.1:7400")]
    listen: SocketAddr,
    /// The gateway's public URL (every instance's issuer).
    #[arg(
        long,
        env = "AUTHSTACK_GATEWAY_URL",
        default_value = "http://127.0.0.1:7401"
    )]
    gateway_url: String,
    /// Base64 of 32 bytes; seals instance secrets. DATA_DIR/master.key when absent.
    #[arg(long, env = "AUTHSTACK_MASTER_KEY", hide_env_values = true)]
    master_key: Option<String>,
    /// Plans and regions (YAML); the shipped plans.yaml when absent.
    #[arg(long, env = "AUTHSTACK_CATALOG")]
    catalog: Option<PathBuf>,
    #[arg(long, env = "AUTHSTACK_BILLING", value_enum, default_value = "none")]
    billing: BillingProvider,
    #[arg(long, env = "AUTHSTACK_STRIPE_API_KEY", hide_env_values = true)]
    stripe_api_key: Option<String>,
    #[arg(
        long,
        env = "AUTHSTACK_STRIPE_API_BASE",
        default_value = "https://api.stripe.com/"
    )]
    stripe_api_base: String,
    /// Comma-separated webhook signing secrets (several while rotating).
    #[arg(long, env = "AUTHSTACK_STRIPE_WEBHOOK_SECRETS", hide_env_values = true)]
    stripe_webhook_secrets: Option<String>,
    /// The dashboard's public URL: where Checkout and the billing portal return and the
    /// platform's mails link to (`http://` + the listen address when absent).
    #[arg(long, env = "AUTHSTACK_DASHBOARD_URL")]
    dashboard_url: Option<String>,
    /// Comma-separated addresses of platform users who may use the operator API and the
    /// dashboard's Ops page once verified (the operator key in DATA_DIR/ops.key always may).
    #[arg(long, env = "AUTHSTACK_OPERATOR_EMAILS", value_delimiter = ',')]
    operator_emails: Vec<String>,
    /// The dashboard's built files, served at `/` (`sdk-js/apps/dashboard/dist` when it exists).
    #[arg(long, env = "AUTHSTACK_DASHBOARD_DIR")]
    dashboard_dir: Option<PathBuf>,
    /// Days a past-due subscription keeps running.
    #[arg(long, env = "AUTHSTACK_PAYMENT_GRACE_DAYS", default_value_t = 7)]
    payment_grace_days: u64,
    /// Days a cancelled or suspended account's data is kept.
    #[arg(long, env = "AUTHSTACK_DATA_RETENTION_DAYS", default_value_t = 30)]
    data_retention_days: u64,
    #[arg(long, env = "AUTHSTACK_LOG_FORMAT", default_value = "json")]
    log_format: String,
    /// Where customer instances run: `kubernetes` provisions the catalogue's kubernetes regions
    /// through their kubeconfig contexts (or the pod's service account).
    #[arg(
        long,
        env = "AUTHSTACK_PROVISIONER",
        value_enum,
        default_value = "local"
    )]
    provisioner: ProvisionerChoice,
    /// The instance image on Kubernetes; this release's by default.
    #[arg(long, env = "AUTHSTACK_INSTANCE_IMAGE")]
    instance_image: Option<String>,
    /// Running in a pod: regions whose kube_context is `in-cluster`, and the platform region,
    /// use the pod's service account.
    #[arg(long, env = "AUTHSTACK_KUBE_IN_CLUSTER")]
    kube_in_cluster: bool,
    /// Kubernetes API calls per second per cluster (client-side limit).
    #[arg(long, env = "AUTHSTACK_KUBE_QPS", default_value_t = 20.0)]
    kube_qps: f32,
    /// Calls allowed at once above the QPS.
    #[arg(long, env = "AUTHSTACK_KUBE_BURST", default_value_t = 40)]
    kube_burst: u32,
    /// The customization planner: `rules` (offline, deterministic) or `llm`.
    #[arg(long, env = "AUTHSTACK_PLANNER", value_enum, default_value_t = PlannerKind::Rules)]
    planner: PlannerKind,
    /// The OpenAI-compatible endpoint of the `llm` planner (`https://…/v1`).
    #[arg(long, env = "AUTHSTACK_LLM_URL")]
    llm_url: Option<String>,
    #[arg(long, env = "AUTHSTACK_LLM_MODEL", default_value = "gpt-4o-mini")]
    llm_model: String,
    #[arg(long, env = "AUTHSTACK_LLM_API_KEY", hide_env_values = true)]
    llm_api_key: Option<String>,
    /// The nameserver (`host:port`) that custom domains' TXT records are verified against; the
    /// system's resolver when absent.
    #[arg(long, env = "AUTHSTACK_DNS_NAMESERVER")]
    dns_nameserver: Option<SocketAddr>,
}

#[derive(Args)]
struct LoginArgs {
    /// The control plane's URL.
    #[arg(long, env = "AUTHSTACK_URL", default_value = "http://127.0.0.1:7400")]
    url: String,
    /// The platform user's email (asked when absent).
    #[arg(long)]
    email: Option<String>,
    /// The organization (id or name) to work in, when the user has several.
    #[arg(long)]
    organization: Option<String>,
    /// Read the password from the first line of standard input (else it is asked on the
    /// terminal, or taken from AUTHSTACK_PASSWORD).
    #[arg(long)]
    password_stdin: bool,
}

async fn login(args: LoginArgs) -> anyhow::Result<()> {
    use std::io::{BufRead, IsTerminal, Write};
    let email = match args.email {
        Some(email) => email,
        None => {
            eprint!("Email: ");
            std::io::stderr().flush()?;
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim().to_owned()
        }
    };
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else if let Ok(password) = std::env::var("AUTHSTACK_PASSWORD") {
        password
    } else if std::io::stdin().is_terminal() {
        rpassword::prompt_password("Password: ")?
    } else {
        anyhow::bail!("no password: use --password-stdin, AUTHSTACK_PASSWORD or a terminal");
    };
    let password = SecretString::from(password);
    let file = authstack_control_plane::credentials::path()?;
    let (stored, accounts) = authstack_control_plane::credentials::login(
        &file,
        &args.url,
        &email,
        &password,
        args.organization.as_deref(),
    )
    .await?;
    let accounts = if accounts.is_empty() {
        "no account yet".to_owned()
    } else {
        format!("account {}", accounts.join(", "))
    };
    println!(
        "Signed in as {} in organization {} ({accounts}); `authstack token` prints an access token. Stored in {}",
        stored.email,
        stored.organization_id,
        file.display()
    );
    Ok(())
}

#[derive(Subcommand)]
enum InstancesCommand {
    /// Every instance across regions: state, revision, last error.
    List(OpsArgs),
    /// Ask the control plane to reconcile an instance now.
    Reconcile {
        id: String,
        #[command(flatten)]
        ops: OpsArgs,
    },
}

#[derive(Args)]
struct OpsArgs {
    #[arg(long, env = "AUTHSTACK_URL", default_value = "http://127.0.0.1:7400")]
    url: String,
    /// The operator key; read from DATA_DIR/ops.key when absent.
    #[arg(long, env = "AUTHSTACK_OPS_KEY", hide_env_values = true)]
    ops_key: Option<String>,
    #[arg(long, env = "AUTHSTACK_DATA_DIR", default_value = "./authstack-data")]
    data_dir: PathBuf,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // reqwest is built without a default TLS provider: the HTTP clients of every command
    // (`login`, `token`, `instances`, and the servers) need this one installed first.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::Openapi => {
            println!(
                "{}",
                authstack_control_plane::openapi::openapi().to_pretty_json()?
            );
            Ok(())
        }
        Command::Instance(command) => runtime.block_on(authstack_instance::cli::run(command)),
        Command::Dev(args) => runtime.block_on(run_dev(args)),
        Command::Serve(args) => runtime.block_on(serve(*args)),
        Command::Gateway(args) => {
            authstack_instance::cli::init_logging("json");
            runtime.block_on(gateway::cli::run(args))
        }
        Command::Migrate(args) => runtime.block_on(async {
            authstack_control_plane::db::connect(args.database_url.as_deref(), &args.data_dir)
                .await?;
            println!("migrations applied");
            Ok(())
        }),
        Command::Instances(command) => runtime.block_on(instances(command)),
        Command::Login(args) => runtime.block_on(login(args)),
        Command::Token => runtime.block_on(async {
            let file = authstack_control_plane::credentials::path()?;
            println!(
                "{}",
                authstack_control_plane::credentials::token(&file).await?
            );
            Ok(())
        }),
    }
}

async fn run_dev(args: DevArgs) -> anyhow::Result<()> {
    authstack_instance::cli::init_logging(&args.log_format);
    let stop = authstack_instance::cli::shutdown_signal();
    let running = dev::start(dev::DevOptions {
        data_dir: args.data_dir.clone(),
        listen: args.listen,
        gateway_listen: args.gateway_listen,
        dashboard_dir: dashboard_dir(args.dashboard_dir.clone()),
        dns_nameserver: args.dns_nameserver,
        sdk_dir: args.sdk_dir.clone().or_else(|| {
            let packed = PathBuf::from("sdk-js/dist-packages");
            packed.is_dir().then_some(packed)
        }),
    })
    .await?;
    println!("{}", dev::banner(&running.info, &args.data_dir));
    stop.await;
    tracing::info!("stopping; local instances stop too");
    running.stop().await
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    authstack_instance::cli::init_logging(&args.log_format);
    let mut config = Config::embedded(&args.storage.data_dir);
    config.database_url = args.storage.database_url.map(SecretString::from);
    config.master_key = args.master_key.map(SecretString::from);
    config.listen = args.listen;
    config.gateway_url = Some(args.gateway_url);
    if let Some(path) = &args.catalog {
        config.catalog = Catalog::from_file(path)?;
    }
    if let ProvisionerChoice::Kubernetes = args.provisioner {
        let defaults = KubernetesConfig::default();
        config.kubernetes = Some(KubernetesConfig {
            instance_image: args.instance_image.unwrap_or(defaults.instance_image),
            in_cluster: args.kube_in_cluster,
            qps: args.kube_qps,
            burst: args.kube_burst,
            ..defaults
        });
    }
    config.planner = args.planner;
    config.dns_nameserver = args.dns_nameserver;
    config.dashboard_dir = dashboard_dir(args.dashboard_dir.clone());
    let dashboard_url = args.dashboard_url.clone().unwrap_or_else(|| {
        format!(
            "http://{}",
            authstack_control_plane::browser_address(args.listen)
        )
    });
    config.dashboard_url = Some(dashboard_url.clone());
    config.operator_emails = args
        .operator_emails
        .iter()
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty())
        .collect();
    config.llm =
        args.llm_url.map(
            |base_url| authstack_control_plane::customize::planner::LlmSettings {
                base_url,
                model: args.llm_model,
                api_key: args.llm_api_key.map(SecretString::from),
            },
        );
    config.payment_grace = Duration::from_secs(args.payment_grace_days * 24 * 3600);
    config.data_retention = Duration::from_secs(args.data_retention_days * 24 * 3600);
    config.billing = match args.billing {
        BillingProvider::None => BillingConfig::None,
        BillingProvider::Stripe => BillingConfig::Stripe(StripeConfig {
            api_key: SecretString::from(
                args.stripe_api_key
                    .context("--stripe-api-key is required with --billing stripe")?,
            ),
            api_base: args.stripe_api_base,
            webhook_secrets: args
                .stripe_webhook_secrets
                .context("--stripe-webhook-secrets is required with --billing stripe")?
                .split(',')
                .map(|s| SecretString::from(s.trim().to_owned()))
                .collect(),
            webhook_tolerance: Duration::from_secs(300),
            return_url: format!("{}/instances", dashboard_url.trim_end_matches('/')),
        }),
    };
    let stop = authstack_instance::cli::shutdown_signal();
    let running = authstack_control_plane::start(config, Clock::System).await?;
    stop.await;
    tracing::info!(
        "shutting down; local instances keep running and are re-adopted at the next start"
    );
    running.stop().await
}

async fn instances(command: InstancesCommand) -> anyhow::Result<()> {
    let (ops, path) = match &command {
        InstancesCommand::List(ops) => (ops, "/v1/ops/instances".to_owned()),
        InstancesCommand::Reconcile { id, ops } => {
            (ops, format!("/v1/ops/instances/{id}/reconcile"))
        }
    };
    let key = match &ops.ops_key {
        Some(key) => key.clone(),
        None => std::fs::read_to_string(ops.data_dir.join(ops::OPS_KEY_FILE))
            .with_context(|| "no --ops-key and no DATA_DIR/ops.key")?
            .trim()
            .to_owned(),
    };
    let client = reqwest::Client::new();
    let url = format!("{}{path}", ops.url.trim_end_matches('/'));
    let request = match command {
        InstancesCommand::List(_) => client.get(url),
        InstancesCommand::Reconcile { .. } => client.post(url),
    };
    let response = request.bearer_auth(key).send().await?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    anyhow::ensure!(
        status.is_success(),
        "{status}: {}",
        body["message"].as_str().unwrap_or("")
    );
    if let Some(rows) = body["data"].as_array() {
        println!(
            "{:<38} {:<38} {:<5} {:<14} {:<12} {:>3}  LAST ERROR",
            "INSTANCE", "ACCOUNT", "ENV", "REGION", "STATE", "REV"
        );
        for row in rows {
            println!(
                "{:<38} {:<38} {:<5} {:<14} {:<12} {:>3}  {}",
                row["id"].as_str().unwrap_or(""),
                row["account_id"].as_str().unwrap_or("(platform)"),
                row["environment"].as_str().unwrap_or(""),
                row["region"].as_str().unwrap_or(""),
                row["state"].as_str().unwrap_or(""),
                row["revision"].as_i64().unwrap_or(0),
                row["last_error"].as_str().unwrap_or(""),
            );
        }
    } else {
        println!(
            "reconcile requested for {}",
            body["id"].as_str().unwrap_or("")
        );
    }
    Ok(())
}
