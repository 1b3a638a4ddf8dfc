//! Memory of idle local instances, for `scripts/bench-local-instances` (docs/benchmarks.md,
//! "Control plane: 100 idle local instances").
//!
//! Starts COUNT instances at once through the [`LocalProvisioner`], waits until all answer,
//! idles 5 s and reads each process's memory from `/proc`; then has every instance hash one
//! password (one admin-API user each), idles again and measures again; then deletes them all.
//!
//! Usage: `idle_instances [COUNT] [EXECUTABLE]` (COUNT defaults to 100; EXECUTABLE to
//! `$AUTHSTACK_EXECUTABLE`, else the `authstack` binary next to this example's directory).
//! Memory is in MiB (1024 × 1024 bytes).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use authstack_control_plane::catalog::Capacity;
use authstack_control_plane::provisioner::local::{LocalOptions, LocalProvisioner};
use authstack_control_plane::provisioner::{
    Environment, InstanceRef, InstanceSecrets, InstanceSpec, NoProgress, Provisioner,
};
use authstack_instance::config::InstanceConfig;
use secrecy::ExposeSecret;
use tokio::task::JoinSet;

const IDLE: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let count: usize = match args.next() {
        Some(raw) => raw.parse().context("COUNT must be a number")?,
        None => 100,
    };
    let executable = match args
        .next()
        .or_else(|| std::env::var("AUTHSTACK_EXECUTABLE").ok())
    {
        Some(path) => PathBuf::from(path),
        None => default_executable()?,
    };
    anyhow::ensure!(
        executable.is_file(),
        "{} not found: build it with cargo build --release -p authstack-control-plane --bin authstack",
        executable.display()
    );

    println!("executable: {}", executable.display());
    let dir = tempfile::tempdir()?;
    let (events, mut event_log) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(event) = event_log.recv().await {
            eprintln!("provisioner event: {event:?}");
        }
    });
    let provisioner = Arc::new(LocalProvisioner::new(LocalOptions {
        executable: executable.clone(),
        instances_dir: dir.path().join("instances"),
        events,
        stop_on_shutdown: true,
        allow_private_webhooks: false,
    }));
    let specs: Vec<InstanceSpec> = (0..count).map(spec).collect();

    // The instances run in their own process groups, so a Ctrl-C here would not reach them:
    // delete them on Ctrl-C too.
    let outcome = tokio::select! {
        outcome = measure(&provisioner, &specs, dir.path()) => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };

    let started = Instant::now();
    let mut deleting = JoinSet::new();
    for spec in &specs {
        let provisioner = provisioner.clone();
        let id = spec.id.clone();
        deleting.spawn(async move { provisioner.delete(&InstanceRef::new(&id, None)).await });
    }
    while let Some(deleted) = deleting.join_next().await {
        if let Err(err) = deleted? {
            eprintln!("delete failed: {err:#}");
        }
    }
    provisioner.shutdown().await;
    println!(
        "deleted all {count} instances in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    outcome
}

async fn measure(
    provisioner: &Arc<LocalProvisioner>,
    specs: &[InstanceSpec],
    dir: &Path,
) -> anyhow::Result<()> {
    let count = specs.len();
    let started = Instant::now();
    let mut applying = JoinSet::new();
    for spec in specs {
        let provisioner = provisioner.clone();
        let spec = spec.clone();
        applying.spawn(async move {
            provisioner
                .apply(&spec, &NoProgress)
                .await
                .map(|endpoint| (spec, endpoint))
        });
    }
    // Every apply finishes before any error is reported, so that none is cut short.
    let mut endpoints = Vec::with_capacity(count);
    let mut failures = Vec::new();
    while let Some(applied) = applying.join_next().await {
        match applied? {
            Ok(applied) => endpoints.push(applied),
            Err(err) => failures.push(format!("{err:#}")),
        }
    }
    if let Some(first) = failures.first() {
        anyhow::bail!(
            "{} of {count} instances did not start; the first: {first}",
            failures.len()
        );
    }
    let all_ready = started.elapsed();
    println!(
        "{count} instances started at once, all ready after {:.2} s",
        all_ready.as_secs_f64()
    );

    tokio::time::sleep(IDLE).await;
    let pids = pids(specs, dir)?;
    report("idle (5 s after all ready)", &pids)?;
    // At 1,000 instances one Argon2id block each (19 MiB) would not fit in 24 GiB at once.
    if std::env::var_os("AUTHSTACK_BENCH_IDLE_ONLY").is_some() {
        return Ok(());
    }

    // One password hash per instance: what a first sign-up or login leaves behind.
    let http = reqwest::Client::builder().no_proxy().build()?;
    let mut hashing = JoinSet::new();
    for (spec, endpoint) in endpoints {
        let http = http.clone();
        hashing.spawn(async move {
            let response = http
                .post(format!("{endpoint}/v1/admin/users"))
                .header(
                    "X-AuthStack-Gateway",
                    spec.secrets.gateway_secret.expose_secret(),
                )
                .bearer_auth(spec.secrets.admin_key.expose_secret())
                .json(&serde_json::json!({
                    "email": "first@example.com",
                    "password": "correct horse battery",
                    "email_verified": true,
                }))
                .send()
                .await?;
            anyhow::ensure!(
                response.status().is_success(),
                "create user: {}",
                response.status()
            );
            Ok(())
        });
    }
    while let Some(created) = hashing.join_next().await {
        created??;
    }
    tokio::time::sleep(IDLE).await;
    report("after one password hash each, idle 5 s", &pids)?;
    // A hashing thread idle for 30 s gives its Argon2 block back (one thread per core, each
    // waits its turn on the job queue: allow two rounds).
    tokio::time::sleep(Duration::from_secs(65)).await;
    report("after one password hash each, idle 65 s", &pids)?;

    let own = Memory::of(std::process::id().try_into()?)?;
    println!(
        "the supervising process itself: VmRSS {:.1} MiB",
        mib(own.rss_kib)
    );
    Ok(())
}

fn spec(index: usize) -> InstanceSpec {
    InstanceSpec {
        id: format!("ins_idle_{index:03}"),
        account_id: None,
        environment: Environment::Test,
        region: "local".to_owned(),
        issuer: "http://127.0.0.1:7401".to_owned(),
        previous_issuers: Vec::new(),
        hostnames: Vec::new(),
        revision: 1,
        config: InstanceConfig::default(),
        secrets: InstanceSecrets::generate(),
        capacity: Capacity::default(),
        version_history_days: 30,
        notify_email: None,
    }
}

fn default_executable() -> anyhow::Result<PathBuf> {
    // target/release/examples/idle_instances -> target/release/authstack
    let this = std::env::current_exe()?;
    let release = this
        .parent()
        .and_then(Path::parent)
        .context("locating target/release")?;
    Ok(release.join("authstack"))
}

fn pids(specs: &[InstanceSpec], dir: &Path) -> anyhow::Result<Vec<i32>> {
    specs
        .iter()
        .map(|spec| {
            // The serving process is the one on the port in `port` (`pid.<port>`: blue/green
            // deploys keep one pid file per process).
            let instance = dir.join("instances").join(&spec.id);
            let port_file = instance.join("port");
            let port = std::fs::read_to_string(&port_file)
                .with_context(|| format!("reading {}", port_file.display()))?;
            let path = instance.join(format!("pid.{}", port.trim()));
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            text.trim()
                .parse()
                .with_context(|| format!("{} holds no pid", path.display()))
        })
        .collect()
}

/// One process's memory, in KiB, from `/proc/<pid>/status` and `/proc/<pid>/smaps_rollup`.
struct Memory {
    /// Resident pages, shared ones (the executable's code) counted in every process.
    rss_kib: u64,
    /// Resident private anonymous memory (heap, stacks).
    anon_kib: u64,
    /// Proportional share: shared pages divided among the processes that map them.
    pss_kib: u64,
    threads: u64,
}

impl Memory {
    fn of(pid: i32) -> anyhow::Result<Memory> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .with_context(|| format!("process {pid} is gone"))?;
        let rollup =
            std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        Ok(Memory {
            rss_kib: field(&status, "VmRSS:"),
            anon_kib: field(&status, "RssAnon:"),
            pss_kib: field(&rollup, "Pss:"),
            threads: field(&status, "Threads:"),
        })
    }
}

fn field(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|value| value.parse().ok())
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn report(phase: &str, pids: &[i32]) -> anyhow::Result<()> {
    let memory: Vec<Memory> = pids
        .iter()
        .map(|&pid| Memory::of(pid))
        .collect::<anyhow::Result<_>>()?;
    let count = memory.len() as u64;
    let sum = |f: fn(&Memory) -> u64| memory.iter().map(f).sum::<u64>();
    let max = |f: fn(&Memory) -> u64| memory.iter().map(f).max().unwrap_or(0);
    let (rss, anon, pss) = (sum(|m| m.rss_kib), sum(|m| m.anon_kib), sum(|m| m.pss_kib));
    println!("\n{phase}: {count} processes");
    println!("| measure | total | mean | max |");
    println!("|---|---|---|---|");
    println!(
        "| VmRSS | {:.0} MiB | {:.1} MiB | {:.1} MiB |",
        mib(rss),
        mib(rss) / count as f64,
        mib(max(|m| m.rss_kib))
    );
    println!(
        "| RssAnon (private) | {:.0} MiB | {:.1} MiB | {:.1} MiB |",
        mib(anon),
        mib(anon) / count as f64,
        mib(max(|m| m.anon_kib))
    );
    println!(
        "| PSS (shared pages split) | {:.0} MiB | {:.1} MiB | {:.1} MiB |",
        mib(pss),
        mib(pss) / count as f64,
        mib(max(|m| m.pss_kib))
    );
    println!(
        "| threads | {} | {:.1} | {} |",
        sum(|m| m.threads),
        sum(|m| m.threads) as f64 / count as f64,
        max(|m| m.threads)
    );
    Ok(())
}
