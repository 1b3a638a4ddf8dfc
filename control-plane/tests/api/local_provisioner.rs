//! Tests: the local provisioner, with real instance processes (`authstack instance serve`).
//!
//! - `local_provisioner_runs_an_instance_that_answers_only_the_gateway`
//! - `local_provisioner_reports_a_crash_and_repairs_it_on_the_same_port`
//! - `local_provisioner_does_nothing_for_the_same_spec_again`
//! - `local_provisioner_rolls_a_new_configuration_out_blue_green`
//! - `local_provisioner_suspends_an_instance_and_resumes_it_with_its_data`
//! - `local_provisioner_deletes_an_instance_and_twice_is_fine`
//! - `local_provisioner_adopts_instances_an_earlier_control_plane_left_running`
//! - `local_provisioner_kills_and_restarts_an_instance_that_stops_answering`
//! - `local_provisioner_reports_a_failed_start_with_the_end_of_the_log`
//! - `local_instances_reach_a_loopback_webhook_only_when_allowed`

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use authstack_control_plane::catalog::Capacity;
use authstack_control_plane::provisioner::local::{LocalOptions, LocalProvisioner};
use authstack_control_plane::provisioner::{
    Environment, Event, InstanceRef, InstanceSecrets, InstanceSpec, NoProgress, Provisioner,
};
use authstack_instance::config::InstanceConfig;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use reqwest::StatusCode;
use secrecy::ExposeSecret;
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::helpers::alive;

/// A provisioner's directory; every instance process still running under it is killed on drop,
/// so that a failing test leaves nothing behind.
struct Site {
    dir: TempDir,
}

impl Site {
    fn new() -> Site {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        Site {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    fn instances_dir(&self) -> PathBuf {
        self.dir.path().join("instances")
    }

    fn provisioner(&self, stop_on_shutdown: bool) -> (LocalProvisioner, UnboundedReceiver<Event>) {
        self.provisioner_with(stop_on_shutdown, false)
    }

    fn provisioner_with(
        &self,
        stop_on_shutdown: bool,
        allow_private_webhooks: bool,
    ) -> (LocalProvisioner, UnboundedReceiver<Event>) {
        let (events, receiver) = tokio::sync::mpsc::unbounded_channel();
        let provisioner = LocalProvisioner::new(LocalOptions {
            executable: PathBuf::from(env!("CARGO_BIN_EXE_authstack")),
            instances_dir: self.instances_dir(),
            events,
            stop_on_shutdown,
            allow_private_webhooks,
        });
        (provisioner, receiver)
    }

    fn instance_dir(&self, id: &str) -> PathBuf {
        self.instances_dir().join(id)
    }

    /// The pid of the process serving the instance.
    fn pid(&self, id: &str) -> i32 {
        crate::helpers::serving_pid(&self.instance_dir(id)).expect("a serving process")
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let Ok(entries) = std::fs::read_dir(self.instances_dir()) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            for pid in crate::helpers::recorded_pids(&entry.path()) {
                let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                if String::from_utf8_lossy(&cmdline).contains(&*entry.path().to_string_lossy()) {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
            }
        }
    }
}

fn spec(id: &str) -> InstanceSpec {
    InstanceSpec {
        id: id.to_owned(),
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

fn port_of(endpoint: &str) -> u16 {
    endpoint
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .expect("endpoint with a port")
}

async fn next_event(events: &mut UnboundedReceiver<Event>, within: Duration) -> Event {
    tokio::time::timeout(within, events.recv())
        .await
        .expect("an event in time")
        .expect("the event channel open")
}

/// Expects a crash report and then the restart.
async fn expect_restart(events: &mut UnboundedReceiver<Event>, id: &str) -> String {
    let detail = match next_event(events, Duration::from_secs(20)).await {
        Event::Crashed {
            instance_id,
            detail,
        } if instance_id == id => detail,
        other => panic!("expected Crashed for {id}, got {other:?}"),
    };
    match next_event(events, Duration::from_secs(30)).await {
        Event::Ready { instance_id } if instance_id == id => {}
        other => panic!("expected Ready for {id}, got {other:?}"),
    }
    detail
}

/// Calls the instance's admin API as the gateway does.
struct Admin {
    http: reqwest::Client,
    endpoint: String,
    spec: InstanceSpec,
}

impl Admin {
    fn new(endpoint: &str, spec: &InstanceSpec) -> Admin {
        Admin {
            http: reqwest::Client::builder()
                .no_proxy()
                .build()
                .expect("client"),
            endpoint: endpoint.to_owned(),
            spec: spec.clone(),
        }
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.endpoint))
            .header(
                "X-AuthStack-Gateway",
                self.spec.secrets.gateway_secret.expose_secret(),
            )
            .bearer_auth(self.spec.secrets.admin_key.expose_secret())
    }

    async fn create_user(&self, email: &str) -> String {
        let response = self
            .request(reqwest::Method::POST, "/v1/admin/users")
            .json(&json!({ "email": email, "password": "correct horse battery", "email_verified": true }))
            .send()
            .await
            .expect("create user");
        assert_eq!(response.status(), StatusCode::CREATED);
        let user: Value = response.json().await.expect("user JSON");
        user["id"].as_str().expect("user id").to_owned()
    }

    async fn user_exists(&self, id: &str) -> bool {
        let response = self
            .request(reqwest::Method::GET, &format!("/v1/admin/users/{id}"))
            .send()
            .await
            .expect("get user");
        match response.status() {
            StatusCode::OK => true,
            StatusCode::NOT_FOUND => false,
            other => panic!("unexpected status {other} reading a user"),
        }
    }
}

/// A provisioner (stopping its instances on shutdown) that has applied `id`'s spec: the
/// provisioner, its events, the spec and the endpoint.
async fn applied(
    site: &Site,
    id: &str,
) -> (
    LocalProvisioner,
    UnboundedReceiver<Event>,
    InstanceSpec,
    String,
) {
    let (provisioner, events) = site.provisioner(true);
    let spec = spec(id);
    let endpoint = provisioner.apply(&spec, &NoProgress).await.expect("apply");
    (provisioner, events, spec, endpoint)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_provisioner_runs_an_instance_that_answers_only_the_gateway() {
    let site = Site::new();
    let id = "ins_runs";
    let (provisioner, _events, spec, endpoint) = applied(&site, id).await;
    assert!(endpoint.starts_with("http://127.0.0.1:"), "{endpoint}");
    let dir = site.instance_dir(id);
    for file in ["data", "port", "spec.sha256", "instance.log"] {
        assert!(dir.join(file).exists(), "{file} missing");
    }
    assert!(crate::helpers::serving_config(&dir).is_some());
    site.pid(id);

    // Only the gateway (which holds the secret) gets through.
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let jwks = format!("{endpoint}/.well-known/jwks.json");
    let refused = http.get(&jwks).send().await.expect("jwks");
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: Value = refused.json().await.expect("error body");
    assert_eq!(body["error"], "gateway_required");
    let secret = spec.secrets.gateway_secret.expose_secret();
    let allowed = http.get(&jwks).header("X-AuthStack-Gateway", secret);
    let allowed = allowed.send().await.expect("jwks");
    assert_eq!(allowed.status(), StatusCode::OK);
    provisioner.shutdown().await;
}

/// The admin key from the spec works; the user survives the crash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_provisioner_reports_a_crash_and_repairs_it_on_the_same_port() {
    let site = Site::new();
    let id = "ins_crash";
    let (provisioner, mut events, spec, endpoint) = applied(&site, id).await;
    let admin = Admin::new(&endpoint, &spec);
    let user = admin.create_user("ada@example.com").await;
    let first = site.pid(id);
    kill(Pid::from_raw(first), Signal::SIGKILL).expect("kill -9");
    let detail = expect_restart(&mut events, id).await;
    assert!(detail.contains("signal: 9"), "{detail}");
    assert_ne!(site.pid(id), first);
    assert!(admin.user_exists(&user).await);
    provisioner.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_provisioner_does_nothing_for_the_same_spec_again() {
    let site = Site::new();
    let id = "ins_again";
    let (provisioner, _events, spec, endpoint) = applied(&site, id).await;
    let pid = site.pid(id);
    let started = Instant::now();
    let again = provisioner.apply(&spec, &NoProgress).await;
    assert_eq!(again.expect("apply again"), endpoint);
    let took = started.elapsed();
    assert!(took < Duration::from_millis(500), "{took:?}");
    assert_eq!(site.pid(id), pid);
    provisioner.shutdown().await;
}

/// Blue/green: the new process starts beside the old on a new port, the endpoint switches once
/// it is ready, the old one serves a little longer and then stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_provisioner_rolls_a_new_configuration_out_blue_green() {
    let site = Site::new();
    let id = "ins_bluegreen";
    let (provisioner, mut events, mut spec, old_endpoint) = applied(&site, id).await;
    let user = Admin::new(&old_endpoint, &spec)
        .create_user("ada@example.com")
        .await;
    let old = site.pid(id);
    spec.revision = 2;
    spec.config.organizations.max_organizations = Some(5);
    let endpoint = provisioner.apply(&spec, &NoProgress).await;
    let endpoint = endpoint.expect("apply new config");
    assert_ne!(endpoint, old_endpoint);
    let new = site.pid(id);
    assert_ne!(new, old);
    assert!(alive(old), "the old process serves until it is retired");
    let retired = Instant::now();
    while alive(old) {
        let waited = retired.elapsed();
        assert!(
            waited < Duration::from_secs(15),
            "the old process was not retired"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let dir = site.instance_dir(id);
    let config = crate::helpers::serving_config(&dir).expect("the serving config");
    assert!(config.contains("max_organizations: 5"), "{config}");
    assert!(Admin::new(&endpoint, &spec).user_exists(&user).await);
    // A planned restart is not a crash.
    assert!(events.try_recv().is_err(), "unexpected event");
    provisioner.shutdown().await;
}

/// No process, port closed, data kept; twice is fine; resumed with its data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_provisioner_suspends_an_instance_and_resumes_it_with_its_data() {
    let site = Site::new();
    let id = "ins_suspend";
    let (provisioner, mut events, spec, endpoint) = applied(&site, id).await;
    let admin = Admin::new(&endpoint, &spec);
    let user = admin.create_user("ada@example.com").await;
    let pid = site.pid(id);
    let instance = InstanceRef::new(id, None);
    provisioner.suspend(&instance).await.expect("suspend");
    assert!(!alive(pid));
    let dir = site.instance_dir(id);
    assert!(crate::helpers::recorded_pids(&dir).is_empty());
    let port = tokio::net::TcpStream::connect(("127.0.0.1", port_of(&endpoint))).await;
    assert!(port.is_err());
    assert!(dir.join("data").join("authstack.db").exists());
    provisioner.suspend(&instance).await.expect("suspend again");

    let resumed = provisioner.apply(&spec, &NoProgress).await;
    assert_eq!(resumed.expect("resume"), endpoint);
    assert!(admin.user_exists(&user).await);
    // Planned stops are not crashes.
    assert!(events.try_recv().is_err(), "unexpected event");
    provisioner.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_provisioner_deletes_an_instance_and_twice_is_fine() {
    let site = Site::new();
    let id = "ins_delete";
    let (provisioner, _events, _spec, _endpoint) = applied(&site, id).await;
    let last = site.pid(id);
    let instance = InstanceRef::new(id, None);
    provisioner.delete(&instance).await.expect("delete");
    assert!(!site.instance_dir(id).exists());
    assert!(!alive(last));
    provisioner.delete(&instance).await.expect("delete again");
    provisioner.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_provisioner_adopts_instances_an_earlier_control_plane_left_running() {
    let site = Site::new();
    let id = "ins_adopted";
    let spec = spec(id);

    // Control plane #1 starts the instance and shuts down without stopping it.
    let (first, _first_events) = site.provisioner(false);
    let endpoint = first.apply(&spec, &NoProgress).await.expect("apply");
    let admin = Admin::new(&endpoint, &spec);
    let user = admin.create_user("grace@example.com").await;
    let pid = site.pid(id);
    first.shutdown().await;
    drop(first);
    assert!(alive(pid));
    assert!(admin.user_exists(&user).await);

    // Control plane #2 adopts it: same process, at once.
    let (second, mut events) = site.provisioner(false);
    let started = Instant::now();
    assert_eq!(
        second.apply(&spec, &NoProgress).await.expect("adopt"),
        endpoint
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(site.pid(id), pid);

    // Its death is noticed (it is not our child) and it comes back as our child.
    kill(Pid::from_raw(pid), Signal::SIGKILL).expect("kill -9");
    expect_restart(&mut events, id).await;
    let restarted = site.pid(id);
    assert_ne!(restarted, pid);
    assert!(admin.user_exists(&user).await);
    second.shutdown().await;

    // Control plane #3 comes up with a new revision: the left-over process is replaced.
    let (third, _third_events) = site.provisioner(true);
    let mut changed = spec.clone();
    changed.revision = 2;
    changed.config.organizations.max_organizations = Some(5);
    assert_eq!(
        third
            .apply(&changed, &NoProgress)
            .await
            .expect("apply new revision"),
        endpoint
    );
    assert_ne!(site.pid(id), restarted);
    assert!(!alive(restarted));
    assert!(admin.user_exists(&user).await);

    let last = site.pid(id);
    third
        .delete(&InstanceRef::new(id, None))
        .await
        .expect("delete");
    assert!(!alive(last));
    assert!(!site.instance_dir(id).exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_provisioner_kills_and_restarts_an_instance_that_stops_answering() {
    let site = Site::new();
    let (provisioner, mut events) = site.provisioner(true);
    let id = "ins_hung";
    provisioner
        .apply(&spec(id), &NoProgress)
        .await
        .expect("apply");
    let pid = site.pid(id);

    // SIGSTOP: the process lives on but no longer answers.
    kill(Pid::from_raw(pid), Signal::SIGSTOP).expect("kill -STOP");
    let detail = expect_restart(&mut events, id).await;
    assert!(detail.contains("readyz"), "{detail}");
    assert!(!alive(pid));
    assert_ne!(site.pid(id), pid);

    provisioner
        .delete(&InstanceRef::new(id, None))
        .await
        .expect("delete");
    provisioner.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_provisioner_reports_a_failed_start_with_the_end_of_the_log() {
    let site = Site::new();
    let (provisioner, _events) = site.provisioner(true);
    let id = "ins_broken";
    let mut spec = spec(id);
    spec.config.organizations.permissions = vec!["not a permission".to_owned()];

    let err = provisioner
        .apply(&spec, &NoProgress)
        .await
        .expect_err("an invalid configuration");
    let message = format!("{err:#}");
    assert!(message.contains("exited while starting"), "{message}");
    assert!(message.contains("instance.log"), "{message}");
    assert!(message.contains("not a permission"), "{message}");
    assert!(crate::helpers::recorded_pids(&site.instance_dir(id)).is_empty());
    assert!(!message.contains(spec.secrets.admin_key.expose_secret()));

    provisioner
        .delete(&InstanceRef::new(id, None))
        .await
        .expect("delete");
    assert!(!Path::new(&site.instance_dir(id)).exists());
}

/// `authstack dev` starts its instances with `--allow-private-webhooks`: their webhooks reach a
/// receiver on loopback. Without the allowance (production) the same target is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_instances_reach_a_loopback_webhook_only_when_allowed() {
    let received = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = received.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a loopback port");
    let url = format!(
        "http://127.0.0.1:{}/hooks",
        listener.local_addr().expect("its address").port()
    );
    let router = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move || {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            async { StatusCode::NO_CONTENT }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, router).await });

    for allowed in [true, false] {
        let site = Site::new();
        let (provisioner, _events) = site.provisioner_with(true, allowed);
        let mut spec = spec(&format!("ins_webhooks_{allowed}"));
        spec.config.webhooks = vec![authstack_instance::config::Webhook {
            url: url.clone(),
            events: vec!["user.created".into()],
            description: None,
        }];
        let endpoint = provisioner.apply(&spec, &NoProgress).await.expect("apply");
        let admin = Admin::new(&endpoint, &spec);
        let before = received.load(std::sync::atomic::Ordering::SeqCst);
        admin.create_user("ada@example.com").await;
        let hook = authstack_instance::webhooks::endpoint_id(&url);
        let mut log = Value::Null;
        for _ in 0..60 {
            log = admin
                .request(
                    reqwest::Method::GET,
                    &format!("/v1/admin/webhooks/{hook}/deliveries"),
                )
                .send()
                .await
                .expect("deliveries")
                .json()
                .await
                .expect("JSON");
            if log["data"][0]["status"] != "pending" && !log["data"][0].is_null() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        let delivered = received.load(std::sync::atomic::Ordering::SeqCst) - before;
        if allowed {
            assert_eq!(log["data"][0]["status"], "delivered", "{log:#}");
            assert_eq!(delivered, 1);
        } else {
            assert_eq!(log["data"][0]["status"], "failed", "{log:#}");
            assert_eq!(delivered, 0);
        }
        provisioner.shutdown().await;
    }
}
