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

/// The paths of one instance's directory.
struct Layout {
    dir: PathBuf,
    data: PathBuf,
    digest: PathBuf,
    port: PathBuf,
    next_port: PathBuf,
    /// `pid`, written by control planes before blue/green deploys (read for adoption).
    legacy_pid: PathBuf,
    log: PathBuf,
}

impl Layout {
    fn new(instances_dir: &Path, instance_id: &str) -> anyhow::Result<Self> {
        anyhow::ensure!(
            !instance_id.is_empty()
                && instance_id.len() <= 128
                && instance_id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
            "invalid instance id {instance_id:?}"
        );
        // Absolute, so that the data dir in a process's command line identifies it whatever
        // the working directory of the control plane that looks.
        let instances_dir =
            std::path::absolute(instances_dir).unwrap_or_else(|_| instances_dir.to_owned());
        let dir = instances_dir.join(instance_id);
        Ok(Layout {
            data: dir.join("data"),
            digest: dir.join("spec.sha256"),
            port: dir.join("port"),
            next_port: dir.join("port.next"),
            legacy_pid: dir.join("pid"),
            log: dir.join("instance.log"),
            dir,
        })
    }

    fn pid_for(&self, port: u16) -> PathBuf {
        self.dir.join(format!("pid.{port}"))
    }

    fn config_for(&self, digest: &str) -> PathBuf {
        self.dir.join(format!(
            "config-{}.yaml",
            digest.get(..16).unwrap_or(digest)
        ))
    }

    /// Every pid file: `pid.<port>` and the legacy `pid`.
    fn pid_files(&self) -> Vec<PathBuf> {
        let mut files = vec![self.legacy_pid.clone()];
        if let Ok(entries) = std::fs::read_dir(&self.dir) {
            files.extend(
                entries
                    .filter_map(Result::ok)
                    .map(|entry| entry.path())
                    .filter(|path| {
                        path.file_name()
                            .and_then(|n| n.to_str())
                            .and_then(|n| n.strip_prefix("pid."))
                            .is_some_and(|port| port.parse::<u16>().is_ok())
                    }),
            );
        }
        files
    }

    async fn create(&self) -> anyhow::Result<()> {
        let data = self.data.clone();
        tokio::task::spawn_blocking(move || {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(&data)
                .with_context(|| format!("creating {}", data.display()))
        })
        .await?
    }
}

/// Everything needed to start one instance's process, again and again.
struct Launch {
    instance_id: String,
    layout: Layout,
    port: u16,
    /// This process's pid file (`pid.<port>`).
    pid: PathBuf,
    /// The configuration file it runs.
    config: PathBuf,
    issuer: String,
    /// Comma-separated, as `--previous-issuer` takes them.
    previous_issuers: String,
    secrets: InstanceSecrets,
    executable: PathBuf,
    /// Shared by all instances: bounds the starts under way (see [`Host::starts`]).
    starts: Arc<Semaphore>,
}

impl Launch {
    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the process and waits until it answers `/readyz`; on failure the process is
    /// gone and the error carries the end of its log.
    async fn start(&self, http: &reqwest::Client) -> anyhow::Result<Process> {
        let _starting = self.starts.acquire().await.ok();
        let (mut process, log_start) = self.spawn().await?;
        match wait_ready(http, &self.endpoint(), &mut process).await {
            Start::Ready => Ok(process),
            failure => Err(self.failed_start(process, failure, log_start).await),
        }
    }

    /// Kills what is left of a failed start and describes the failure.
    async fn failed_start(
        &self,
        mut process: Process,
        failure: Start,
        log_start: u64,
    ) -> anyhow::Error {
        process.kill().await;
        remove_file(&self.pid).await;
        let what = match failure {
            Start::Exited(status) => format!("exited while starting ({status})"),
            _ => format!("did not answer /readyz within {}s", READY_TIMEOUT.as_secs()),
        };
        let tail = log_tail(&self.layout.log, log_start).await;
        anyhow::anyhow!(
            "instance {} {what}; the end of {}:\n{tail}",
            self.instance_id,
            self.layout.log.display()
        )
    }

    /// Starts the process and writes its pid file; returns it with the log offset at which
    /// its output begins.
    async fn spawn(&self) -> anyhow::Result<(Process, u64)> {
        // A port held by anything else would make the process fail, or worse, make another
        // server answer our readiness probe.
        std::net::TcpListener::bind(("127.0.0.1", self.port)).with_context(|| {
            format!(
                "port {} of instance {} is in use by another process",
                self.port, self.instance_id
            )
        })?;
        rotate_log(&self.layout.log).await;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.layout.log)
            .with_context(|| format!("opening {}", self.layout.log.display()))?;
        let log_start = log.metadata().map(|m| m.len()).unwrap_or(0);
        let stderr = log.try_clone()?;

        let mut command = tokio::process::Command::new(&self.executable);
        command
            .arg("instance")
            .arg("serve")
            .arg(format!("--listen=127.0.0.1:{}", self.port))
            .arg(flag("--data-dir", &self.layout.data))
            .arg(flag("--config", &self.config))
            .arg(format!("--audience={}", self.instance_id))
            .arg(format!("--issuer={}", self.issuer))
            .arg(format!("--previous-issuer={}", self.previous_issuers))
            .arg("--trust-forwarded-for")
            .arg("--log-format=json")
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(stderr)
            // Own process group: a Ctrl-C to the control plane's terminal must not stop
            // instances, and they must survive the control plane to be adopted.
            .process_group(0)
            .kill_on_drop(false);
        // The control plane's own AUTHSTACK_* settings (database URL, data dir, listen address,
        // SMTP URL...) would otherwise become the instance's.
        for (key, _) in std::env::vars_os() {
            if key.as_bytes().starts_with(b"AUTHSTACK_") && key.as_bytes() != b"AUTHSTACK_LOG" {
                command.env_remove(key);
            }
        }
        command
            // An error that ends the process is reported from the log's last lines: keep them
            // the message, not a backtrace (panics still follow RUST_BACKTRACE).
            .env("RUST_LIB_BACKTRACE", "0")
            // Large blocks (Argon2's 19 MiB) come from mmap and go back to the system when the
            // instance frees them, instead of staying in glibc's heap.
            .env("MALLOC_MMAP_THRESHOLD_", "4194304")
            .env(
                "AUTHSTACK_GATEWAY_SECRET",
                self.secrets.gateway_secret.expose_secret(),
            )
            .env(
                "AUTHSTACK_ADMIN_KEY",
                self.secrets.admin_key.expose_secret(),
            )
            .env(
                "AUTHSTACK_MASTER_KEY",
                self.secrets.master_key.expose_secret(),
            );
        let child = command
            .spawn()
            .with_context(|| format!("starting {}", self.executable.display()))?;
        let mut process = Process::Child(child);
        if let Some(pid) = process.pid()
            && let Err(err) = write_file(&self.pid, format!("{pid}\n").as_bytes())
        {
            // Unrecorded, a process could be neither adopted nor stopped later.
            process.kill().await;
            return Err(err);
        }
        tracing::info!(instance_id = %self.instance_id, pid = ?process.pid(), port = self.port, "instance process started");
        Ok((process, log_start))
    }
}

fn flag(name: &str, path: &Path) -> std::ffi::OsString {
    let mut flag = std::ffi::OsString::from(format!("{name}="));
    flag.push(path);
    flag
}

/// An instance process.
enum Process {
    /// Started by this provisioner: its exit is waited for.
    Child(tokio::process::Child),
    /// Left running by an earlier control plane: not our child, so looked for in `/proc`.
    Adopted { pid: i32, data_dir: PathBuf },
}

impl Process {
    fn adopted(pid: i32, layout: &Layout) -> Process {
        Process::Adopted {
            pid,
            data_dir: layout.data.clone(),
        }
    }

    fn pid(&self) -> Option<i32> {
        match self {
            Process::Child(child) => child.id().and_then(|pid| i32::try_from(pid).ok()),
            Process::Adopted { pid, .. } => Some(*pid),
        }
    }

    fn signal(&self, signal: Signal) {
        let pid = match self {
            // Not yet waited for, so the pid cannot have been reused.
            Process::Child(child) => child.id().and_then(|pid| i32::try_from(pid).ok()),
            // Checked again right before signalling, in case the pid has been reused.
            Process::Adopted { pid, data_dir } => {
                Some(*pid).filter(|&pid| runs_instance(pid, data_dir))
            }
        };
        if let Some(pid) = pid.filter(|&pid| pid > 1) {
            let _ = kill(Pid::from_raw(pid), signal);
        }
    }

    /// Waits until the process has exited and says how.
    async fn exited(&mut self, poll: Duration) -> String {
        match self {
            Process::Child(child) => match child.wait().await {
                Ok(status) => status.to_string(),
                Err(err) => {
                    let _ = child.start_kill();
                    format!("waiting for the process failed: {err}")
                }
            },
            Process::Adopted { pid, data_dir } => loop {
                if !runs_instance(*pid, data_dir) {
                    return format!("adopted process {pid} is gone (exit status unknown)");
                }
                sleep(poll).await;
            },
        }
    }

    /// SIGTERM, then SIGKILL if it is still there after [`STOP_GRACE`].
    async fn stop(&mut self) {
        self.signal(Signal::SIGTERM);
        if timeout(STOP_GRACE, self.exited(STOP_POLL)).await.is_err() {
            tracing::warn!(pid = ?self.pid(), "instance did not stop within the grace period; killing it");
            self.kill().await;
        }
    }

    async fn kill(&mut self) {
        self.signal(Signal::SIGKILL);
        let _ = timeout(Duration::from_secs(5), self.exited(STOP_POLL)).await;
    }
}

/// Whether `pid` is a live process serving the instance whose data dir is `data_dir`.
fn runs_instance(pid: i32, data_dir: &Path) -> bool {
    if pid <= 1 || kill(Pid::from_raw(pid), None).is_err() {
        return false;
    }
    // A zombie, or another program that got the pid, has a different (or empty) command line.
    let mut wanted = b"--data-dir=".to_vec();
    wanted.extend_from_slice(data_dir.as_os_str().as_bytes());
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|cmdline| {
        cmdline
            .split(|&b| b == 0)
            .any(|arg| arg == wanted.as_slice())
    })
}

enum Start {
    Ready,
    Exited(String),
    TimedOut,
}

/// Polls `/readyz` until it answers 200, the process exits, or [`READY_TIMEOUT`] passes.
async fn wait_ready(http: &reqwest::Client, endpoint: &str, process: &mut Process) -> Start {
    let answers = async {
        while !ready(http, endpoint).await {
            sleep(READY_POLL).await;
        }
    };
    tokio::select! {
        () = answers => Start::Ready,
        status = process.exited(Duration::from_millis(100)) => Start::Exited(status),
        () = sleep(READY_TIMEOUT) => Start::TimedOut,
    }
}

async fn ready(http: &reqwest::Client, endpoint: &str) -> bool {
    http.get(format!("{endpoint}/readyz"))
        .send()
        .await
        .is_ok_and(|response| response.status() == reqwest::StatusCode::OK)
}

/// Returns once the instance has missed [`PROBE_MISSES`] probes in a row; rotates its log on
/// the way.
async fn unresponsive(http: &reqwest::Client, endpoint: &str, log: &Path) -> String {
    let mut misses = 0;
    loop {
        sleep(PROBE_INTERVAL).await;
        if ready(http, endpoint).await {
            misses = 0;
        } else {
            misses += 1;
            if misses >= PROBE_MISSES {
                return format!("did not answer /readyz {PROBE_MISSES} times in a row; killed it");
            }
        }
        rotate_log(log).await;
    }
}

#[derive(Clone, Copy)]
enum Directive {
    /// Stop the process gracefully, then end supervision.
    Stop,
    /// End supervision and leave the process running, for the next control plane to adopt.
    Detach,
}

/// The handle on one instance's supervisor task.
struct Supervision {
    /// What the process runs ([`spec_digest`]).
    digest: String,
    /// Its configuration file.
    config: PathBuf,
    endpoint: String,
    directives: mpsc::UnboundedSender<Directive>,
    task: JoinHandle<()>,
}

impl Supervision {
    async fn end(self, directive: Directive) {
        let _ = self.directives.send(directive);
        if let Err(err) = self.task.await {
            tracing::warn!(error = %err, "instance supervisor failed");
        }
    }
}

/// Watches one instance process: restarts it when it exits or hangs, reports what happened.
struct Supervisor {
    launch: Arc<Launch>,
    endpoint: String,
    http: reqwest::Client,
    events: mpsc::UnboundedSender<Event>,
    directives: mpsc::UnboundedReceiver<Directive>,
}

impl Supervisor {
    async fn run(mut self, mut process: Process) {
        let instance_id = self.launch.instance_id.clone();
        let mut backoff = Backoff::default();
        let mut running_since = Instant::now();
        loop {
            let poll = match process {
                Process::Child(_) => STOP_POLL,
                Process::Adopted { .. } => ADOPTED_POLL,
            };
            let detail = tokio::select! {
                status = process.exited(poll) => format!("the process exited: {status}"),
                detail = unresponsive(&self.http, &self.endpoint, &self.launch.layout.log) => {
                    process.kill().await;
                    detail
                }
                directive = self.directives.recv() => {
                    self.conclude(directive, Some(process)).await;
                    return;
                }
            };
            tracing::warn!(%instance_id, %detail, "instance stopped unexpectedly; restarting it");
            self.report(Event::Crashed {
                instance_id: instance_id.clone(),
                detail,
            });
            remove_file(&self.launch.pid).await;
            if running_since.elapsed() >= HEALTHY_RESET {
                backoff = Backoff::default();
            }

            let mut failed_starts = 0;
            process = loop {
                tokio::select! {
                    () = sleep(backoff.next()) => {}
                    directive = self.directives.recv() => {
                        self.conclude(directive, None).await;
                        return;
                    }
                }
                let _starting = tokio::select! {
                    permit = self.launch.starts.acquire() => permit.ok(),
                    directive = self.directives.recv() => {
                        self.conclude(directive, None).await;
                        return;
                    }
                };
                let failure = match self.launch.spawn().await {
                    Ok((mut process, log_start)) => {
                        let started = tokio::select! {
                            started = wait_ready(&self.http, &self.endpoint, &mut process) => started,
                            directive = self.directives.recv() => {
                                self.conclude(directive, Some(process)).await;
                                return;
                            }
                        };
                        if matches!(started, Start::Ready) {
                            break process;
                        }
                        self.launch.failed_start(process, started, log_start).await
                    }
                    Err(err) => err,
                };
                failed_starts += 1;
                tracing::warn!(%instance_id, failed_starts, error = %format!("{failure:#}"), "restarting the instance failed");
                if failed_starts >= MAX_FAILED_STARTS {
                    tracing::error!(%instance_id, "giving up restarting the instance");
                    self.report(Event::Failed {
                        instance_id: instance_id.clone(),
                        detail: format!(
                            "{failed_starts} restarts in a row failed; the last: {failure:#}"
                        ),
                    });
                    return;
                }
            };
            tracing::info!(%instance_id, pid = ?process.pid(), "instance restarted and ready");
            self.report(Event::Ready {
                instance_id: instance_id.clone(),
            });
            running_since = Instant::now();
        }
    }

    /// Ends supervision as directed. A closed channel (the provisioner is gone) detaches.
    async fn conclude(&self, directive: Option<Directive>, process: Option<Process>) {
        match (directive, process) {
            (Some(Directive::Stop), Some(mut process)) => {
                process.stop().await;
                remove_file(&self.launch.pid).await;
            }
            (Some(Directive::Stop), None) => remove_file(&self.launch.pid).await,
            (Some(Directive::Detach) | None, _) => {}
        }
    }

    fn report(&self, event: Event) {
        // Nobody listening (the control plane is shutting down) is fine.
        let _ = self.events.send(event);
    }
}

/// Restart delays: 100 ms, 200 ms, 400 ms, ... up to 30 s.
struct Backoff {
    next: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            next: BACKOFF_FIRST,
        }
    }
}

impl Backoff {
    fn next(&mut self) -> Duration {
        let delay = self.next;
        self.next = (delay * 2).min(BACKOFF_CAP);
        delay
    }
}

/// What an instance is started with: a change in any of it means a restart. Secrets enter as
/// SHA-256 of high-entropy values, which reveals nothing about them.
fn spec_digest(spec: &InstanceSpec) -> anyhow::Result<String> {
    // Through serde_json::Value, whose maps are sorted: the same config gives the same bytes.
    let config = serde_json::to_vec(&serde_json::to_value(&spec.config)?)?;
    let revision = spec.revision.to_string();
    let mut hasher = Sha256::new();
    for part in [
        revision.as_bytes(),
        spec.issuer.as_bytes(),
        spec.previous_issuers.join(",").as_bytes(),
        &config,
        spec.secrets.gateway_secret.expose_secret().as_bytes(),
        spec.secrets.admin_key.expose_secret().as_bytes(),
        spec.secrets.master_key.expose_secret().as_bytes(),
    ] {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn write_config(path: &Path, spec: &InstanceSpec) -> anyhow::Result<()> {
    let config =
        serde_yaml::to_string(&spec.config).context("serialising the instance configuration")?;
    write_file(path, config.as_bytes())
}

/// Removes configuration files no process runs any more (and the single `config.yaml` of
/// control planes before blue/green deploys).
async fn remove_stale_configs(layout: &Layout, serving: &Path) {
    let Ok(entries) = std::fs::read_dir(&layout.dir) else {
        return;
    };
    for path in entries.filter_map(Result::ok).map(|entry| entry.path()) {
        let stale = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|name| {
                name == "config.yaml" || (name.starts_with("config-") && name.ends_with(".yaml"))
            })
            && path != serving;
        if stale {
            remove_file(&path).await;
        }
    }
}

/// Processes of this instance on ports other than the serving one: left by a control plane
/// that ended in the middle of a deploy. They are stopped.
async fn stop_strays(layout: &Layout, serving_port: u16) {
    for pid_file in layout.pid_files() {
        if pid_file == layout.pid_for(serving_port) || pid_file == layout.legacy_pid {
            continue;
        }
        if let Some(pid) = read_pid(&pid_file).filter(|&pid| runs_instance(pid, &layout.data)) {
            tracing::info!(
                pid,
                "stopping an instance process left from an interrupted deploy"
            );
            Process::adopted(pid, layout).stop().await;
        }
        remove_file(&pid_file).await;
    }
    remove_file(&layout.next_port).await;
}

fn read_port(path: &Path) -> Option<u16> {
    std::fs::read_to_string(path)
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|&port| port != 0)
}

fn read_pid(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path)
        .ok()?
        .trim()
        .parse()
        .ok()
        .filter(|&pid| pid > 1)
}

/// The ports recorded by the instances under `instances_dir`.
fn ports_in_use(instances_dir: &Path) -> HashSet<u16> {
    let Ok(entries) = std::fs::read_dir(instances_dir) else {
        return HashSet::new();
    };
    entries
        .filter_map(Result::ok)
        .flat_map(|entry| {
            let dir = entry.path();
            [
                read_port(&dir.join("port")),
                read_port(&dir.join("port.next")),
            ]
        })
        .flatten()
        .collect()
}

/// Writes `path` atomically (a temporary file renamed over it). Synchronous: the files are a
/// few bytes, and no cancellation can fall between starting a process and writing its pid.
fn write_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, contents)
        .with_context(|| format!("writing {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("writing {}", path.display()))
}

async fn remove_file(path: &Path) {
    match tokio::fs::remove_file(path).await {
        Ok(()) => {}
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
        Err(err) => tracing::warn!(path = %path.display(), error = %err, "removing a file failed"),
    }
}

/// Past [`MAX_LOG_BYTES`], copies the log to `instance.log.1` and empties it. Copy-and-truncate
/// rather than rename: the process keeps writing (in append mode) to the same file.
async fn rotate_log(log: &Path) {
    let too_big = tokio::fs::metadata(log)
        .await
        .is_ok_and(|meta| meta.len() > MAX_LOG_BYTES);
    if !too_big {
        return;
    }
    let log = log.to_owned();
    let rotated = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        let mut previous = log.as_os_str().to_owned();
        previous.push(".1");
        std::fs::copy(&log, PathBuf::from(previous))?;
        std::fs::OpenOptions::new()
            .write(true)
            .open(&log)?
            .set_len(0)
    })
    .await;
    if let Ok(Err(err)) = rotated {
        tracing::warn!(error = %err, "rotating an instance log failed");
    }
}

/// The last lines the process wrote since `from`.
async fn log_tail(log: &Path, from: u64) -> String {
    let Ok(bytes) = tokio::fs::read(log).await else {
        return "(no log)".to_owned();
    };
    let from = usize::try_from(from)
        .ok()
        .filter(|&from| from <= bytes.len())
        .unwrap_or(0);
    let output = &bytes[from..];
    let output = &output[output.len().saturating_sub(LOG_TAIL_BYTES)..];
    let text = String::from_utf8_lossy(output);
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n");
    if tail.trim().is_empty() {
        "(the process wrote nothing)".to_owned()
    } else {
        tail
    }
}
