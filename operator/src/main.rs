//! `authstack-operator`: runs the AuthStackInstance controller against the current kubeconfig
//! context (or the in-cluster configuration), with leader election over a coordination Lease,
//! `/metrics` and `/healthz`, JSON logs, and graceful shutdown on SIGTERM.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use authstack_operator::controller::{self, RunOptions};
use authstack_operator::render::{RegionRedis, Settings};
use authstack_operator::{ratelimit, server};
use clap::Parser;
use kube::runtime::events::Reporter;
use tokio::sync::watch;

/// How long reconciles in flight get to finish after SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(20);

#[derive(Parser)]
#[command(name = "authstack-operator", version, about)]
struct Args {
    /// Serves /metrics, /healthz and /readyz.
    #[arg(
        long,
        env = "AUTHSTACK_OPERATOR_METRICS_LISTEN",
        default_value = "0.0.0.0:8080"
    )]
    metrics_listen: SocketAddr,
    /// Reconciles running at once.
    #[arg(long, env = "AUTHSTACK_OPERATOR_CONCURRENCY", default_value_t = 8)]
    concurrency: u16,
    /// Kubernetes API calls per second (average).
    #[arg(long, env = "AUTHSTACK_OPERATOR_KUBE_QPS", default_value_t = 20.0)]
    kube_qps: f32,
    /// Kubernetes API calls at once above the average.
    #[arg(long, env = "AUTHSTACK_OPERATOR_KUBE_BURST", default_value_t = 40)]
    kube_burst: u32,
    /// The kubeconfig context (the current one when absent; in-cluster config in a pod).
    #[arg(long, env = "AUTHSTACK_OPERATOR_CONTEXT")]
    context: Option<String>,
    /// Only reconcile resources of this namespace (all namespaces when absent).
    #[arg(long, env = "AUTHSTACK_OPERATOR_WATCH_NAMESPACE")]
    watch_namespace: Option<String>,
    /// Namespace of the leader-election Lease.
    #[arg(long, env = "POD_NAMESPACE", default_value = "default")]
    lease_namespace: String,
    #[arg(
        long,
        env = "AUTHSTACK_OPERATOR_LEASE_NAME",
        default_value = "authstack-operator"
    )]
    lease_name: String,
    /// This replica's name in the Lease (the pod name).
    #[arg(long, env = "POD_NAME")]
    identity: Option<String>,
    /// Disable leader election (a single replica, e.g. a developer's machine).
    #[arg(long, env = "AUTHSTACK_OPERATOR_NO_LEADER_ELECTION")]
    no_leader_election: bool,
    /// Where the AuthStack gateway runs: the only namespace admitted by instance NetworkPolicies.
    #[arg(
        long,
        env = "AUTHSTACK_GATEWAY_NAMESPACE",
        default_value = "authstack-system"
    )]
    gateway_namespace: String,
    /// The gateway's Service (custom hostnames are routed to it).
    #[arg(
        long,
        env = "AUTHSTACK_GATEWAY_SERVICE",
        default_value = "authstack-gateway"
    )]
    gateway_service: String,
    #[arg(
        long,
        env = "AUTHSTACK_OPERATOR_INGRESS_CLASS",
        default_value = "nginx"
    )]
    ingress_class: String,
    /// cert-manager ClusterIssuer for custom hostnames.
    #[arg(
        long,
        env = "AUTHSTACK_OPERATOR_CLUSTER_ISSUER",
        default_value = "letsencrypt"
    )]
    cluster_issuer: String,
    /// The region's Redis (redis://… or rediss://…): instances share their rate-limit counters
    /// between replicas there instead of in their databases.
    #[arg(long, env = "AUTHSTACK_REGION_REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
    /// Set when CloudNativePG is not installed (only `external` databases then).
    #[arg(long, env = "AUTHSTACK_OPERATOR_NO_CNPG")]
    no_cnpg: bool,
    /// json or pretty.
    #[arg(long, env = "AUTHSTACK_LOG_FORMAT", default_value = "json")]
    log_format: String,
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("AUTHSTACK_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().flatten_event(true).init();
    } else {
        builder.init();
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    init_logging(&args.log_format);
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let metrics = server::install_metrics()?;
    metrics::gauge!("authstack_operator_leader").set(0.0);

    let config = match &args.context {
        Some(context) => kube::Config::from_kubeconfig(&kube::config::KubeConfigOptions {
            context: Some(context.clone()),
            ..Default::default()
        })
        .await
        .with_context(|| format!("loading kubeconfig context {context}"))?,
        None => kube::Config::infer()
            .await
            .context("no kubeconfig and not in a cluster")?,
    };
    let client = ratelimit::client(config, args.kube_qps, args.kube_burst)?;
    let identity = args.identity.clone().unwrap_or_else(|| {
        std::env::var("HOSTNAME")
            .unwrap_or_else(|_| format!("authstack-operator-{}", std::process::id()))
    });

    let (stop_tx, stop_rx) = watch::channel(false);
    let stopped = {
        let stop_rx = stop_rx.clone();
        move || {
            let mut rx = stop_rx.clone();
            async move {
                let _ = rx.wait_for(|stop| *stop).await;
            }
        }
    };
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        let _ = stop_tx.send(true);
    });
    // A standby is ready to take over; the leader is ready once its caches are filled.
    let (ready, ready_rx) = watch::channel(true);
    let server = tokio::spawn(server::serve(
        args.metrics_listen,
        metrics,
        ready_rx,
        stopped(),
    ));

    let settings = Settings {
        gateway_namespace: args.gateway_namespace.clone(),
        gateway_service: args.gateway_service.clone(),
        ingress_class: args.ingress_class.clone(),
        cluster_issuer: args.cluster_issuer.clone(),
        redis: args.redis_url.clone().map(RegionRedis),
    };
    let options = RunOptions {
        concurrency: args.concurrency,
        namespace: args.watch_namespace.clone(),
        cnpg: !args.no_cnpg,
    };
    let reporter = Reporter {
        controller: "authstack-operator".into(),
        instance: Some(identity.clone()),
    };

    // Reconciles in flight may finish after a signal; past this, the process exits anyway.
    let deadline = {
        let stopped = stopped.clone();
        move || async move {
            stopped().await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
            tracing::warn!("the controller did not stop within {SHUTDOWN_GRACE:?}; exiting");
        }
    };
    if args.no_leader_election {
        tokio::select! {
            _ = controller::run(client, settings, reporter, options, ready, stopped()) => {}
            _ = deadline() => {}
        }
    } else {
        let lease = kube_lease_manager::LeaseManagerBuilder::new(client.clone(), &args.lease_name)
            .with_namespace(&args.lease_namespace)
            .with_identity(&identity)
            .with_duration(15)
            .with_grace(5)
            .build()
            .await
            .context("setting up the leader-election lease")?;
        let (mut leader, lease_task) = lease.watch().await;
        tracing::info!(%identity, lease = %args.lease_name, "waiting for leadership");
        let mut stop = stop_rx.clone();
        loop {
            if *leader.borrow_and_update() {
                break;
            }
            tokio::select! {
                changed = leader.changed() => { changed.context("leader election stopped")?; }
                _ = stop.wait_for(|stop| *stop) => { return Ok(()); }
            }
        }
        metrics::gauge!("authstack_operator_leader").set(1.0);
        tracing::info!(%identity, "leading: starting the controller");
        // Losing the lease stops the controller as a shutdown would: another replica takes
        // over, and this process exits for its pod to restart as a standby.
        let mut lost = leader.clone();
        let stop_or_lost = {
            let stopped = stopped();
            async move {
                tokio::select! {
                    _ = stopped => {}
                    _ = lost.wait_for(|leading| !*leading) => {
                        tracing::warn!("lost the leader lease");
                    }
                }
            }
        };
        tokio::select! {
            _ = controller::run(client, settings, reporter, options, ready, stop_or_lost) => {}
            _ = deadline() => {}
        }
        metrics::gauge!("authstack_operator_leader").set(0.0);
        // Dropping the receiver releases the lease for the next leader at once.
        drop(leader);
        let _ = tokio::time::timeout(Duration::from_secs(5), lease_task).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    Ok(())
}
