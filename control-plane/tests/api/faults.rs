//! Faults under steady traffic through the gateway: a local instance's serving process killed
//! with SIGKILL (the supervisor restarts it; the gateway serves again within seconds), and the
//! control plane itself killed with SIGKILL (`authstack dev`, a real process: its instances and
//! the other gateways carry on, and the next control plane adopts the same processes). The
//! graceful restart and the reboot are in `lifecycle.rs`.
//!
//! - `the_gateway_serves_a_killed_instance_again_once_its_supervisor_restarts_it`
//! - `instances_outlive_a_killed_control_plane_and_the_next_one_adopts_them`

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use authstack_control_plane::dev::DevInfo;
use authstack_control_plane::gateway::{self, GatewayOptions};
use authstack_instance::clock::Clock;
use authstack_instance::crypto::MasterKey;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use crate::helpers::{
    PASSWORD, alive, executable, install_tls_provider, serving_pid, spawn_platform,
};

/// The interval of the steady client.
const PROBE_EVERY: Duration = Duration::from_millis(20);
/// A generous bound for a loaded CI machine; the measured time is printed.
const RECOVERY_BOUND: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_serves_a_killed_instance_again_once_its_supervisor_restarts_it() {
    let platform = spawn_platform().await;
    let (owner, live_id, key) = platform.live_customer("faults@acme.test", "starter").await;
    let secret = platform.create_key(&owner, "live", "secret").await["secret"]
        .as_str()
        .expect("key shown once")
        .to_owned();
    let user = create_user(&platform.gateway, &secret, "kept@customer.test").await;
    let probe = Probe::start(&platform.gateway, &key);
    probe.wait_for_successes(5).await;

    let dir = platform.instance_dir(&live_id);
    let pid = serving_pid(&dir).expect("a serving process");
    let killed_at = Instant::now();
    kill(Pid::from_raw(pid), Signal::SIGKILL).expect("kill -9");
    let outage = probe.outage_after(killed_at, RECOVERY_BOUND).await;
    let samples = probe.stop().await;

    assert_ne!(serving_pid(&dir), Some(pid), "a new process serves");
    assert!(user_exists(&platform.gateway, &secret, &user).await);
    // While it is down the gateway answers at once, in a way a client knows to retry.
    for failure in samples.iter().filter(|s| !s.ok()) {
        assert_eq!(
            failure.answer,
            Ok((503, "instance_unavailable".to_owned())),
            "{failure:?}"
        );
    }
    eprintln!(
        "faults/instance kill -9: serving through the gateway again after {:.2?} \
         ({} of {} requests every {PROBE_EVERY:?} failed, all 503)",
        outage.recovered,
        outage.failed,
        samples.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_outlive_a_killed_control_plane_and_the_next_one_adopts_them() {
    install_tls_provider();
    let dir = tempfile::tempdir().expect("temp dir");
    let _cleanup = InstancesKilledOnDrop(dir.path());
    let mut dev = Dev::start(dir.path(), &free_address(), &free_address()).await;
    let info: DevInfo =
        serde_json::from_slice(&std::fs::read(dir.path().join("dev.json")).expect("dev.json"))
            .expect("dev.json parses");
    // Another gateway on the same database, as in production, where gateways are their own
    // processes: it keeps serving while the control plane is gone.
    let other = gateway::start(GatewayOptions {
        listen: "127.0.0.1:0".parse().expect("address"),
        db: authstack_control_plane::db::connect(None, dir.path())
            .await
            .expect("database"),
        master: Arc::new(MasterKey::load_or_create(None, dir.path()).expect("master key")),
        clock: Clock::System,
        catalog: authstack_control_plane::config::Config::embedded(dir.path()).catalog,
        poll_interval: Duration::from_millis(100),
        upstream_timeout: Duration::from_secs(30),
    })
    .await
    .expect("gateway starts");
    let other_url = format!("http://{}", other.addr);
    let secret = &info.demo.secret_key;
    let user = create_user(&other_url, secret, "outlives@customer.test").await;
    let pids = instance_pids(dir.path());
    assert!(pids.len() >= 3, "platform, demo live and test: {pids:?}");
    let probe = Probe::start(&other_url, &info.demo.live_publishable_key);
    let dev_probe = Probe::start(&info.gateway_url, &info.demo.live_publishable_key);
    probe.wait_for_successes(5).await;
    dev_probe.wait_for_successes(5).await;

    let killed_at = Instant::now();
    kill(dev.pid(), Signal::SIGKILL).expect("kill -9");
    let status = dev.child.wait().await.expect("wait");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    // Down a while: nothing of the control plane runs, the instances do.
    tokio::time::sleep(Duration::from_secs(1)).await;
    for (instance, pid) in &pids {
        assert!(
            alive(*pid),
            "{instance} ({pid}) died with the control plane"
        );
    }

    let log_before = std::fs::metadata(dir.path().join("dev.log")).map_or(0, |m| m.len());
    let restarting = Instant::now();
    let dev = dev.again().await;
    let restart = restarting.elapsed();
    // Its rows still say `ready` from before: the banner comes before the adoption pass.
    wait_for_adoption(dir.path(), log_before, &pids).await;
    // Its own gateway serves again; the other one never stopped.
    let dev_outage = dev_probe
        .outage_after(killed_at, killed_at.elapsed() + RECOVERY_BOUND)
        .await;
    dev_probe.stop().await;
    let samples = probe.stop().await;
    let failed: Vec<&Sample> = samples.iter().filter(|s| !s.ok()).collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert_eq!(instance_pids(dir.path()), pids, "adopted, not restarted");
    assert!(user_exists(&info.gateway_url, secret, &user).await);
    other.stop().await;
    dev.stop().await;
    eprintln!(
        "faults/control plane kill -9: {} instances kept serving ({} requests through another \
         gateway, none failed); restarted, it adopted every one (same pid), its gateway served \
         again {:.2?} after the start and it was ready in {restart:.2?}",
        pids.len(),
        samples.len(),
        dev_outage.back - restarting
    );
}

/// `authstack dev` as a process (SIGKILLed on drop).
pub struct Dev {
    child: Child,
    dir: PathBuf,
    listen: String,
    gateway_listen: String,
}

impl Dev {
    /// Starts it and waits for its banner.
    pub async fn start(dir: &Path, listen: &str, gateway_listen: &str) -> Dev {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("dev.log"))
            .expect("log file");
        let banner = dir.join("banner.txt");
        let mut child = Command::new(executable())
            .args(["dev", "--log-format", "json", "--listen", listen])
            .args(["--gateway-listen", gateway_listen, "--data-dir"])
            .arg(dir)
            // Not the repository: no dashboard or SDK directories to find.
            .current_dir(dir)
            .stdout(std::fs::File::create(&banner).expect("banner file"))
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("spawn authstack dev");
        let started = Instant::now();
        while !std::fs::read_to_string(&banner).is_ok_and(|b| b.contains("AuthStack is running")) {
            if let Some(status) = child.try_wait().expect("try_wait") {
                panic!("authstack dev exited ({status}): {}", log_tail(dir));
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "authstack dev not up in 120 s: {}",
                log_tail(dir)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Dev {
            child,
            dir: dir.to_owned(),
            listen: listen.to_owned(),
            gateway_listen: gateway_listen.to_owned(),
        }
    }

    /// Another start on the same data dir and ports (the gateway's address is every issuer).
    async fn again(&self) -> Dev {
        Dev::start(&self.dir, &self.listen, &self.gateway_listen).await
    }

    fn pid(&self) -> Pid {
        Pid::from_raw(self.child.id().expect("running") as i32)
    }

    /// SIGTERM: it stops, and its instances with it.
    pub async fn stop(mut self) {
        kill(self.pid(), Signal::SIGTERM).expect("kill -TERM");
        let status = tokio::time::timeout(Duration::from_secs(60), self.child.wait())
            .await
            .expect("stopped in 60 s")
            .expect("wait");
        assert!(status.success(), "{status}: {}", log_tail(&self.dir));
    }
}

/// Kills, on drop, every instance process under a data dir: a failing test leaves none behind.
pub struct InstancesKilledOnDrop<'a>(pub &'a Path);

impl Drop for InstancesKilledOnDrop<'_> {
    fn drop(&mut self) {
        crate::helpers::kill_instances(self.0);
    }
}

/// The end of `dev.log` before any backtrace, so the error that stopped it shows.
fn log_tail(dir: &Path) -> String {
    let log = std::fs::read_to_string(dir.join("dev.log")).unwrap_or_default();
    let log = log.split("Stack backtrace:").next().unwrap_or_default();
    let mut start = log.len().saturating_sub(3000);
    while !log.is_char_boundary(start) {
        start += 1;
    }
    log[start..].to_owned()
}

/// A local address free a moment ago, on a port below both the kernel's ephemeral range
/// (`ip_local_port_range`, from 32768 by default) and the local provisioner's instance ports
/// (from 20000): a port from either can be taken, while `authstack dev` is down, by the local end
/// of an outgoing connection or by an instance another test starts, and its restart on the same
/// port would then fail with "address in use".
pub fn free_address() -> String {
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let start = std::process::id() % 1000 * 10;
    for _ in 0..10_000 {
        let offset = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let port = u16::try_from(10_000 + (start + offset) % 10_000).unwrap_or(10_000);
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return format!("127.0.0.1:{port}");
        }
    }
    panic!("no free port between 10000 and 19999");
}

/// The serving pid of every instance under a data dir.
fn instance_pids(dir: &Path) -> BTreeMap<String, i32> {
    std::fs::read_dir(dir.join("instances"))
        .expect("instances dir")
        .flatten()
        .filter_map(|entry| {
            let pid = serving_pid(&entry.path())?;
            Some((entry.file_name().to_string_lossy().into_owned(), pid))
        })
        .collect()
}

/// Waits until the log, past `offset`, says each instance was adopted; fails if one was
/// started anew instead.
async fn wait_for_adoption(dir: &Path, offset: u64, pids: &BTreeMap<String, i32>) {
    let started = Instant::now();
    loop {
        let log = std::fs::read(dir.join("dev.log")).unwrap_or_default();
        let entries: Vec<Value> = log
            .get(offset as usize..)
            .unwrap_or_default()
            .split(|&b| b == b'\n')
            .filter_map(|line| serde_json::from_slice(line).ok())
            .collect();
        let about = |id: &str, message: &str| {
            entries
                .iter()
                .any(|e| e["instance_id"] == id && e["message"] == message)
        };
        for id in pids.keys() {
            assert!(
                !about(
                    id,
                    "restarting an instance left running by an earlier control plane"
                ) && !about(id, "instance process started"),
                "{id} was restarted, not adopted: {}",
                log_tail(dir)
            );
        }
        if pids
            .keys()
            .all(|id| about(id, "adopted a running instance"))
        {
            return;
        }
        assert!(
            started.elapsed() < RECOVERY_BOUND,
            "not adopted in {RECOVERY_BOUND:?}: {}",
            log_tail(dir)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Creates a user with the secret key, through a gateway; returns its id.
pub async fn create_user(gateway: &str, secret: &str, email: &str) -> String {
    let response = reqwest::Client::new()
        .post(format!("{gateway}/v1/admin/users"))
        .bearer_auth(secret)
        .json(&json!({ "email": email, "password": PASSWORD, "email_verified": true }))
        .send()
        .await
        .expect("create user");
    assert_eq!(response.status(), 201);
    let user: Value = response.json().await.expect("user JSON");
    user["id"].as_str().expect("user id").to_owned()
}

async fn user_exists(gateway: &str, secret: &str, id: &str) -> bool {
    let response = reqwest::Client::new()
        .get(format!("{gateway}/v1/admin/users/{id}"))
        .bearer_auth(secret)
        .send()
        .await
        .expect("get user");
    match response.status().as_u16() {
        200 => true,
        404 => false,
        other => panic!("unexpected status {other} reading a user"),
    }
}

/// One request of the steady client.
#[derive(Debug, Clone)]
struct Sample {
    sent: Instant,
    answered: Instant,
    /// The status and error code, or why there was no answer.
    answer: Result<(u16, String), String>,
}

impl Sample {
    fn ok(&self) -> bool {
        matches!(self.answer, Ok((200, _)))
    }
}

/// A time without service.
struct Outage {
    /// From the fault to the first success after it.
    recovered: Duration,
    /// When that success was answered.
    back: Instant,
    failed: usize,
}

/// A client asking for the JWKS through a gateway every [`PROBE_EVERY`].
struct Probe {
    samples: Arc<Mutex<Vec<Sample>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Probe {
    fn start(gateway: &str, key: &str) -> Probe {
        let samples = Arc::new(Mutex::new(Vec::new()));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("client");
        let request = http
            .get(format!("{gateway}/.well-known/jwks.json"))
            .header("x-authstack-key", key);
        let recorded = samples.clone();
        let task = tokio::spawn(async move {
            loop {
                let sent = Instant::now();
                let request = request.try_clone().expect("a bodiless request");
                let answer = match request.send().await {
                    Ok(response) => {
                        let status = response.status().as_u16();
                        let body: Value = response.json().await.unwrap_or(Value::Null);
                        let code = body["error"].as_str().unwrap_or_default().to_owned();
                        Ok((status, code))
                    }
                    Err(err) => Err(err.to_string()),
                };
                let answered = Instant::now();
                recorded.lock().expect("samples").push(Sample {
                    sent,
                    answered,
                    answer,
                });
                tokio::time::sleep_until((sent + PROBE_EVERY).into()).await;
            }
        });
        Probe { samples, task }
    }

    fn samples(&self) -> Vec<Sample> {
        self.samples.lock().expect("samples").clone()
    }

    async fn wait_for_successes(&self, n: usize) {
        let started = Instant::now();
        while self.samples().iter().filter(|s| s.ok()).count() < n {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{:?}",
                self.samples().last()
            );
            tokio::time::sleep(PROBE_EVERY).await;
        }
    }

    /// Waits for the failures that follow `fault` and for the first success after them, for
    /// `bound` from the fault at most.
    async fn outage_after(&self, fault: Instant, bound: Duration) -> Outage {
        loop {
            let after: Vec<Sample> = self
                .samples()
                .into_iter()
                .filter(|s| s.sent >= fault)
                .collect();
            if let Some(first) = after.iter().position(|s| !s.ok())
                && let Some(back) = after[first..].iter().find(|s| s.ok())
            {
                return Outage {
                    recovered: back.answered - fault,
                    back: back.answered,
                    failed: after.iter().filter(|s| !s.ok()).count(),
                };
            }
            let failed = after.iter().any(|s| !s.ok());
            assert!(
                fault.elapsed() < bound,
                "{} {bound:?} after the fault; last: {:?}",
                if failed {
                    "not serving again"
                } else {
                    "no request failed"
                },
                after.last()
            );
            tokio::time::sleep(PROBE_EVERY).await;
        }
    }

    async fn stop(self) -> Vec<Sample> {
        self.task.abort();
        let _ = self.task.await;
        std::mem::take(&mut *self.samples.lock().expect("samples"))
    }
}
