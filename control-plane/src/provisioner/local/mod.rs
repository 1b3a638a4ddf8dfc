//! The local provisioner: every instance runs as a process of this machine, started from the
//! control plane's own executable (`authstack instance serve`) and supervised by it.
//!
//! Each instance owns `instances_dir/<id>/`:
//!
//! ```text
//! data/               the instance's --data-dir (SQLite database, outbox)
//! config-<digest>.yaml the InstanceConfig a process runs (one per spec, so that a restart of
//!                     the serving process never picks up a revision still being tried)
//! spec.sha256         digest of what the serving process was started with (revision,
//!                     issuer, config, secrets)
//! port                the serving process's 127.0.0.1 port (below the ephemeral range)
//! port.next           the port of a new revision's process while it starts
//! pid.<port>          the process serving on that port, while there is one
//! instance.log        the processes' stdout and stderr (rotated to instance.log.1 past 16 MiB)
//! ```
//!
//! A new spec for a running instance is deployed blue/green: the new process starts on another
//! port beside the old one, and only once it answers its readiness probe does the endpoint
//! switch; the old process keeps serving for [`RETIRE_AFTER`] (gateways follow the endpoint
//! within their route poll interval) and then drains and stops. A new process that does not
//! become ready is stopped and the old one never noticed: the deploy fails, nothing else does.
//!
//! Secrets reach the process through its environment, never its command line. Processes run in
//! their own process group, so a Ctrl-C in the control plane's terminal does not reach them,
//! and they outlive the control plane: the next one adopts them on `apply` (same pid) when
//! they still run the same spec.

use std::collections::{HashMap, HashSet};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use anyhow::Context;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio::time::{Instant, sleep, timeout};

mod files;
mod process;
mod supervisor;

use files::{
    log_tail, ports_in_use, read_pid, read_port, remove_file, remove_stale_configs, rotate_log,
    spec_digest, stop_strays, write_config, write_file,
};
use process::{Launch, Layout, Process, Start, runs_instance, unresponsive, wait_ready};
use supervisor::{Directive, Supervision, Supervisor};

use super::{Event, InstanceRef, InstanceSecrets, InstanceSpec, Progress, Provisioner};

/// How long a start may take before it counts as failed.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// How often a starting instance is asked whether it is ready.
const READY_POLL: Duration = Duration::from_millis(25);
/// How long a stopping instance gets between SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// How often a running instance is probed, and how many misses in a row mean it hangs.
const PROBE_INTERVAL: Duration = Duration::from_secs(2);
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
const PROBE_MISSES: u32 = 3;
/// How often an adopted process (not our child, so no exit notification) is looked for.
const ADOPTED_POLL: Duration = Duration::from_millis(500);
/// How often a process being stopped is looked for.
const STOP_POLL: Duration = Duration::from_millis(50);
/// Restart backoff: doubles from the first delay up to the cap, and starts over once an
/// instance has run this long.
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_CAP: Duration = Duration::from_secs(30);
const HEALTHY_RESET: Duration = Duration::from_secs(60);
/// Consecutive failed starts after which the supervisor gives up.
const MAX_FAILED_STARTS: u32 = 10;
/// New instances get ports from here up to the kernel's ephemeral range.
const PORTS_FROM: u16 = 20000;
const MAX_LOG_BYTES: u64 = 16 * 1024 * 1024;
const LOG_TAIL_LINES: usize = 20;
const LOG_TAIL_BYTES: usize = 4096;
/// How long a replaced process keeps serving after the switch before it drains and stops:
/// several of the gateway's route polls (200 ms), so that no request reaches a stopped process.
const RETIRE_AFTER: Duration = Duration::from_secs(2);

/// How the local provisioner runs instances.
pub struct LocalOptions {
    /// The `authstack` executable; instances run as `EXECUTABLE instance serve ...`.
    pub executable: PathBuf,
    /// One directory per instance is kept under it.
    pub instances_dir: PathBuf,
    /// Crashes, restarts and give-ups are reported here.
    pub events: mpsc::UnboundedSender<Event>,
    /// Whether [`Provisioner::shutdown`] stops the instances, or leaves them running for the
    /// next control plane to adopt.
    pub stop_on_shutdown: bool,
    /// Start instances with `--allow-private-webhooks` (`authstack dev` only).
    pub allow_private_webhooks: bool,
}

/// Runs instances as supervised processes on 127.0.0.1; see the module documentation.
pub struct LocalProvisioner {
    host: Arc<Host>,
}

/// The provisioner's state, shared with the tasks that apply specs.
struct Host {
    options: LocalOptions,
    http: reqwest::Client,
    /// One slot per instance this provisioner has touched; operations on one instance are
    /// serialised by its slot's lock, different instances proceed in parallel.
    slots: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<Slot>>>>,
    /// Serialises port choices, so that two new instances never get the same port.
    port_choice: tokio::sync::Mutex<()>,
    /// Bounds the processes starting at once: a start gets [`READY_TIMEOUT`] of its own, not a
    /// share of a machine busy starting hundreds (after a reboot, every instance at once).
    starts: Arc<Semaphore>,
}

#[derive(Default)]
struct Slot {
    supervision: Option<Supervision>,
}

impl LocalProvisioner {
    pub fn new(options: LocalOptions) -> Self {
        // reqwest is built without a default TLS provider and panics without one, even for the
        // plain-HTTP probes here; installing it twice is harmless.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(PROBE_TIMEOUT)
            .build()
            .unwrap_or_else(|err| {
                tracing::warn!(error = %err, "building the probe client failed; using defaults");
                reqwest::Client::new()
            });
        LocalProvisioner {
            host: Arc::new(Host {
                options,
                http,
                slots: std::sync::Mutex::new(HashMap::new()),
                port_choice: tokio::sync::Mutex::new(()),
                starts: Arc::new(Semaphore::new(concurrent_starts())),
            }),
        }
    }
}

#[async_trait::async_trait]
impl Provisioner for LocalProvisioner {
    async fn apply(&self, spec: &InstanceSpec, _progress: &dyn Progress) -> anyhow::Result<String> {
        // In a task of its own: a caller that stops waiting must not leave a process started
        // but unsupervised.
        let host = self.host.clone();
        let spec = spec.clone();
        tokio::spawn(async move { host.apply(&spec).await })
            .await
            .context("applying the instance spec")?
    }

    async fn suspend(&self, instance: &InstanceRef) -> anyhow::Result<()> {
        let instance_id = instance.id.as_str();
        let layout = Layout::new(&self.host.options.instances_dir, instance_id)?;
        let slot = self.host.slot(instance_id);
        let mut slot = slot.lock().await;
        self.host.stop(&mut slot, instance_id, &layout).await;
        tracing::info!(instance_id, "instance suspended");
        Ok(())
    }

    async fn delete(&self, instance: &InstanceRef) -> anyhow::Result<()> {
        let instance_id = instance.id.as_str();
        let layout = Layout::new(&self.host.options.instances_dir, instance_id)?;
        let slot = self.host.slot(instance_id);
        let mut slot = slot.lock().await;
        self.host.stop(&mut slot, instance_id, &layout).await;
        match tokio::fs::remove_dir_all(&layout.dir).await {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => {
                return Err(err).with_context(|| format!("removing {}", layout.dir.display()));
            }
        }
        self.host
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(instance_id);
        tracing::info!(instance_id, "instance deleted");
        Ok(())
    }

    async fn shutdown(&self) {
        let slots: Vec<_> = self
            .host
            .slots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        let stop = self.host.options.stop_on_shutdown;
        let directive = if stop {
            Directive::Stop
        } else {
            Directive::Detach
        };
        // Tell every supervisor first, then wait: the instances stop in parallel.
        let mut ending = Vec::new();
        for slot in slots {
            let mut slot = slot.lock().await;
            if let Some(supervision) = slot.supervision.take() {
                let _ = supervision.directives.send(directive);
                ending.push(supervision.task);
            }
        }
        for task in ending {
            let _ = task.await;
        }
        tracing::info!(stopped = stop, "local provisioner shut down");
    }
}

impl Host {
    async fn apply(&self, spec: &InstanceSpec) -> anyhow::Result<String> {
        let layout = Layout::new(&self.options.instances_dir, &spec.id)?;
        let digest = spec_digest(spec)?;
        let slot = self.slot(&spec.id);
        let mut slot = slot.lock().await;
        if let Some(supervision) = &slot.supervision {
            if supervision.task.is_finished() {
                // The supervisor gave up; start over.
                slot.supervision = None;
            } else if supervision.digest == digest {
                return Ok(supervision.endpoint.clone());
            } else {
                return self.replace(&mut slot, spec, layout, digest).await;
            }
        }

        layout.create().await?;
        let port = self.port(&layout).await?;
        let launch = self.launch(spec, layout, port, &digest);
        let layout = &launch.layout;
        stop_strays(layout, port).await;

        let running = read_pid(&launch.pid)
            .or_else(|| read_pid(&layout.legacy_pid))
            .filter(|&pid| runs_instance(pid, &layout.data));
        if let Some(pid) = running {
            let mut process = Process::adopted(pid, layout);
            let same_spec = std::fs::read_to_string(&layout.digest)
                .is_ok_and(|on_disk| on_disk.trim() == digest);
            if same_spec
                && matches!(
                    wait_ready(&self.http, &launch.endpoint(), &mut process).await,
                    Start::Ready
                )
            {
                tracing::info!(instance_id = %spec.id, pid, "adopted a running instance");
                if !launch.pid.exists() {
                    write_file(&launch.pid, format!("{pid}\n").as_bytes())?;
                    remove_file(&layout.legacy_pid).await;
                }
                slot.supervision = Some(self.supervise(launch.clone(), digest, process));
                return Ok(launch.endpoint());
            }
            tracing::info!(instance_id = %spec.id, pid, same_spec, "restarting an instance left running by an earlier control plane");
            process.stop().await;
        }
        remove_file(&launch.pid).await;
        remove_file(&layout.legacy_pid).await;

        write_config(&launch.config, spec)?;
        write_file(&layout.digest, format!("{digest}\n").as_bytes())?;
        let process = launch.start(&self.http).await?;
        tracing::info!(instance_id = %spec.id, revision = spec.revision, pid = ?process.pid(), port, "instance ready");
        slot.supervision = Some(self.supervise(launch.clone(), digest, process));
        remove_stale_configs(layout, &launch.config).await;
        Ok(launch.endpoint())
    }

    /// Blue/green: starts `spec` on a new port beside the serving process, switches to it once
    /// ready and retires the old one a little later. On failure the old process serves on.
    async fn replace(
        &self,
        slot: &mut Slot,
        spec: &InstanceSpec,
        layout: Layout,
        digest: String,
    ) -> anyhow::Result<String> {
        let port = self.next_port(&layout).await?;
        let launch = self.launch(spec, layout, port, &digest);
        let layout = &launch.layout;
        tracing::info!(instance_id = %spec.id, revision = spec.revision, port, "starting the new revision beside the serving one");
        let started = match write_config(&launch.config, spec) {
            Ok(()) => launch.start(&self.http).await,
            Err(err) => Err(err),
        };
        let process = match started {
            Ok(process) => process,
            Err(err) => {
                remove_file(&layout.next_port).await;
                let serving = slot.supervision.as_ref().map(|s| s.config.clone());
                if serving.as_ref() != Some(&launch.config) {
                    remove_file(&launch.config).await;
                }
                return Err(err);
            }
        };
        write_file(&layout.port, format!("{port}\n").as_bytes())?;
        remove_file(&layout.next_port).await;
        write_file(&layout.digest, format!("{digest}\n").as_bytes())?;
        let endpoint = launch.endpoint();
        let old = slot
            .supervision
            .replace(self.supervise(launch.clone(), digest, process));
        tracing::info!(instance_id = %spec.id, revision = spec.revision, %endpoint, "switched to the new revision");
        if let Some(old) = old {
            let layout = Layout::new(&self.options.instances_dir, &spec.id)?;
            let serving = launch.config.clone();
            tokio::spawn(async move {
                sleep(RETIRE_AFTER).await;
                old.end(Directive::Stop).await;
                remove_stale_configs(&layout, &serving).await;
            });
        }
        Ok(endpoint)
    }

    fn launch(&self, spec: &InstanceSpec, layout: Layout, port: u16, digest: &str) -> Arc<Launch> {
        Arc::new(Launch {
            instance_id: spec.id.clone(),
            pid: layout.pid_for(port),
            config: layout.config_for(digest),
            layout,
            port,
            issuer: spec.issuer.clone(),
            previous_issuers: spec.previous_issuers.join(","),
            secrets: spec.secrets.clone(),
            executable: self.options.executable.clone(),
            starts: self.starts.clone(),
            allow_private_webhooks: self.options.allow_private_webhooks,
            notify_email: spec.notify_email.clone(),
        })
    }

    /// A free port for a new revision's process, recorded in `port.next` while it starts.
    async fn next_port(&self, layout: &Layout) -> anyhow::Result<u16> {
        let _choosing = self.port_choice.lock().await;
        let port = choose_port(&ports_in_use(&self.options.instances_dir))?;
        write_file(&layout.next_port, format!("{port}\n").as_bytes())?;
        Ok(port)
    }

    fn slot(&self, instance_id: &str) -> Arc<tokio::sync::Mutex<Slot>> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        slots.entry(instance_id.to_owned()).or_default().clone()
    }

    /// The instance's port: the one in its `port` file, or a new free one that no other
    /// instance under `instances_dir` holds.
    async fn port(&self, layout: &Layout) -> anyhow::Result<u16> {
        let _choosing = self.port_choice.lock().await;
        if let Some(port) = read_port(&layout.port) {
            return Ok(port);
        }
        let port = choose_port(&ports_in_use(&self.options.instances_dir))?;
        write_file(&layout.port, format!("{port}\n").as_bytes())?;
        Ok(port)
    }

    fn supervise(&self, launch: Arc<Launch>, digest: String, process: Process) -> Supervision {
        let (directives, receiver) = mpsc::unbounded_channel();
        let supervisor = Supervisor {
            endpoint: launch.endpoint(),
            launch,
            http: self.http.clone(),
            events: self.options.events.clone(),
            directives: receiver,
        };
        Supervision {
            digest,
            config: supervisor.launch.config.clone(),
            endpoint: supervisor.endpoint.clone(),
            directives,
            task: tokio::spawn(supervisor.run(process)),
        }
    }

    /// Stops whatever runs for `layout`: the supervised process, or one left by an earlier
    /// control plane. Removes the pid file.
    async fn stop(&self, slot: &mut Slot, instance_id: &str, layout: &Layout) {
        if let Some(supervision) = slot.supervision.take() {
            supervision.end(Directive::Stop).await;
        }
        for pid_file in layout.pid_files() {
            if let Some(pid) = read_pid(&pid_file).filter(|&pid| runs_instance(pid, &layout.data)) {
                tracing::info!(
                    instance_id,
                    pid,
                    "stopping an unsupervised instance process"
                );
                Process::adopted(pid, layout).stop().await;
            }
            remove_file(&pid_file).await;
        }
        remove_file(&layout.next_port).await;
    }
}

/// Two starts per core: a start is CPU-bound (migrations, key generation) with some waiting.
fn concurrent_starts() -> usize {
    std::thread::available_parallelism().map_or(2, |cores| cores.get()) * 2
}

/// A free port on 127.0.0.1 for a new instance, outside `taken`. Taken from below the kernel's
/// ephemeral range: a listening port inside it can be held, at any restart, by the local end of
/// an outgoing connection (the gateway's, the probes'), and the instance could not bind it.
fn choose_port(taken: &HashSet<u16>) -> anyhow::Result<u16> {
    use rand::Rng;
    let ephemeral_start = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|range| range.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    if ephemeral_start > PORTS_FROM + 1000 {
        let mut rng = rand::thread_rng();
        for _ in 0..256 {
            let port = rng.gen_range(PORTS_FROM..ephemeral_start);
            if !taken.contains(&port) && std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
                return Ok(port);
            }
        }
    }
    // The ephemeral range covers (nearly) everything: let the kernel choose.
    for _ in 0..64 {
        let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
            .context("choosing a port on 127.0.0.1")?;
        let port = listener.local_addr()?.port();
        if !taken.contains(&port) {
            return Ok(port);
        }
    }
    anyhow::bail!("no free port on 127.0.0.1 that no other instance holds")
}
