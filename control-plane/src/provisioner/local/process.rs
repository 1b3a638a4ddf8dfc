//! One instance's directory and processes: where its files are, how a process is launched,
//! adopted, probed and stopped.

use super::*;

/// The paths of one instance's directory.
pub(super) struct Layout {
    pub(super) dir: PathBuf,
    pub(super) data: PathBuf,
    pub(super) digest: PathBuf,
    pub(super) port: PathBuf,
    pub(super) next_port: PathBuf,
    /// `pid`, written by control planes before blue/green deploys (read for adoption).
    pub(super) legacy_pid: PathBuf,
    pub(super) log: PathBuf,
}

impl Layout {
    pub(super) fn new(instances_dir: &Path, instance_id: &str) -> anyhow::Result<Self> {
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

    pub(super) fn pid_for(&self, port: u16) -> PathBuf {
        self.dir.join(format!("pid.{port}"))
    }

    pub(super) fn config_for(&self, digest: &str) -> PathBuf {
        self.dir.join(format!(
            "config-{}.yaml",
            digest.get(..16).unwrap_or(digest)
        ))
    }

    /// Every pid file: `pid.<port>` and the legacy `pid`.
    pub(super) fn pid_files(&self) -> Vec<PathBuf> {
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

    pub(super) async fn create(&self) -> anyhow::Result<()> {
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
pub(super) struct Launch {
    pub(super) instance_id: String,
    pub(super) layout: Layout,
    pub(super) port: u16,
    /// This process's pid file (`pid.<port>`).
    pub(super) pid: PathBuf,
    /// The configuration file it runs.
    pub(super) config: PathBuf,
    pub(super) issuer: String,
    /// Comma-separated, as `--previous-issuer` takes them.
    pub(super) previous_issuers: String,
    pub(super) secrets: InstanceSecrets,
    pub(super) executable: PathBuf,
    /// Shared by all instances: bounds the starts under way (see [`Host::starts`]).
    pub(super) starts: Arc<Semaphore>,
    /// Passes `--allow-private-webhooks` (`authstack dev`).
    pub(super) allow_private_webhooks: bool,
    /// Passed as `--notify-email`.
    pub(super) notify_email: Option<String>,
}

impl Launch {
    pub(super) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the process and waits until it answers `/readyz`; on failure the process is
    /// gone and the error carries the end of its log.
    pub(super) async fn start(&self, http: &reqwest::Client) -> anyhow::Result<Process> {
        let _starting = self.starts.acquire().await.ok();
        let (mut process, log_start) = self.spawn().await?;
        match wait_ready(http, &self.endpoint(), &mut process).await {
            Start::Ready => Ok(process),
            failure => Err(self.failed_start(process, failure, log_start).await),
        }
    }

    /// Kills what is left of a failed start and describes the failure.
    pub(super) async fn failed_start(
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
    pub(super) async fn spawn(&self) -> anyhow::Result<(Process, u64)> {
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
            .args(
                self.allow_private_webhooks
                    .then_some("--allow-private-webhooks"),
            )
            .args(
                self.notify_email
                    .as_ref()
                    .map(|e| format!("--notify-email={e}")),
            )
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

pub(super) fn flag(name: &str, path: &Path) -> std::ffi::OsString {
    let mut flag = std::ffi::OsString::from(format!("{name}="));
    flag.push(path);
    flag
}

/// An instance process.
pub(super) enum Process {
    /// Started by this provisioner: its exit is waited for.
    Child(tokio::process::Child),
    /// Left running by an earlier control plane: not our child, so looked for in `/proc`.
    Adopted { pid: i32, data_dir: PathBuf },
}

impl Process {
    pub(super) fn adopted(pid: i32, layout: &Layout) -> Process {
        Process::Adopted {
            pid,
            data_dir: layout.data.clone(),
        }
    }

    pub(super) fn pid(&self) -> Option<i32> {
        match self {
            Process::Child(child) => child.id().and_then(|pid| i32::try_from(pid).ok()),
            Process::Adopted { pid, .. } => Some(*pid),
        }
    }

    pub(super) fn signal(&self, signal: Signal) {
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
    pub(super) async fn exited(&mut self, poll: Duration) -> String {
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
    pub(super) async fn stop(&mut self) {
        self.signal(Signal::SIGTERM);
        if timeout(STOP_GRACE, self.exited(STOP_POLL)).await.is_err() {
            tracing::warn!(pid = ?self.pid(), "instance did not stop within the grace period; killing it");
            self.kill().await;
        }
    }

    pub(super) async fn kill(&mut self) {
        self.signal(Signal::SIGKILL);
        let _ = timeout(Duration::from_secs(5), self.exited(STOP_POLL)).await;
    }
}

/// Whether `pid` is a live process serving the instance whose data dir is `data_dir`.
pub(super) fn runs_instance(pid: i32, data_dir: &Path) -> bool {
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

pub(super) enum Start {
    Ready,
    Exited(String),
    TimedOut,
}

/// Polls `/readyz` until it answers 200, the process exits, or [`READY_TIMEOUT`] passes.
pub(super) async fn wait_ready(
    http: &reqwest::Client,
    endpoint: &str,
    process: &mut Process,
) -> Start {
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

pub(super) async fn ready(http: &reqwest::Client, endpoint: &str) -> bool {
    http.get(format!("{endpoint}/readyz"))
        .send()
        .await
        .is_ok_and(|response| response.status() == reqwest::StatusCode::OK)
}

/// Returns once the instance has missed [`PROBE_MISSES`] probes in a row; rotates its log on
/// the way.
pub(super) async fn unresponsive(http: &reqwest::Client, endpoint: &str, log: &Path) -> String {
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
