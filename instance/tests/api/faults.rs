//! Faults: the real `authstack-instance` binary killed with SIGKILL while eight writers sign up,
//! rotate refresh tokens and create organizations. Restarted on the same data, it still has
//! every write it acknowledged: a 2xx means committed.
//!
//! - `kill_9_under_write_load_loses_no_acknowledged_write`

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::Backend;
use crate::process::{Launch, Server};
const WRITERS: usize = 8;
/// How long the load runs before the kill, at the least.
const LOAD: Duration = Duration::from_millis(1500);
/// Signups acknowledged before the kill, at the least (a loaded machine takes longer).
const MIN_SIGNUPS: usize = 2 * WRITERS;
const PASSWORD: &str = "correct horse battery staple";
/// Fixed, so that access tokens verify across the restart (which listens on a new port).
const ISSUER: &str = "https://faults.instances.authstack.test";
/// Signups answer with tokens at once, and one address signs up as often as the load wants.
const CONFIG: &str = "\
auth:
  require_email_verification: false
rate_limits:
  signups_per_ip: { max: 1000000, window_secs: 3600 }
";

backend_tests!(kill_9_under_write_load_loses_no_acknowledged_write);

async fn kill_9_under_write_load_loses_no_acknowledged_write(backend: Backend) {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("config.yaml"), CONFIG).expect("config");
    let database_url = backend.fresh_database().await;
    let launch = Launch {
        dir: dir.path(),
        issuer: ISSUER,
        database_url: database_url.as_deref(),
        redis_url: None,
    };
    let mut server = Server::start(&launch).await;
    let admin_key = server.admin_key().await;
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");

    let killed = Arc::new(AtomicBool::new(false));
    let signups = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let mut writes = Writes {
                http: http.clone(),
                base: server.base.clone(),
                killed: killed.clone(),
                signups: signups.clone(),
                users: Vec::new(),
                in_flight: None,
                refused: Vec::new(),
            };
            tokio::spawn(async move {
                writes.until_killed(writer).await;
                writes
            })
        })
        .collect();
    let started = Instant::now();
    while started.elapsed() < LOAD || signups.load(Ordering::SeqCst) < MIN_SIGNUPS {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "only {} signups in 60 s",
            signups.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // No request is sent once this is set; those still out when the process dies are in flight.
    killed.store(true, Ordering::SeqCst);
    let load = started.elapsed();
    kill(server.pid(), Signal::SIGKILL).expect("kill -9");
    let status = server.child.wait().await.expect("wait");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    let mut all = Vec::new();
    for writer in writers {
        all.push(writer.await.expect("writer"));
    }
    let refused: Vec<&String> = all.iter().flat_map(|w| &w.refused).collect();
    assert!(refused.is_empty(), "before the kill: {refused:#?}");

    let restarting = Instant::now();
    let server = Server::start(&launch).await;
    let restart = restarting.elapsed();

    let app = Verifier {
        http,
        base: server.base.clone(),
        admin_key,
    };
    let mut lost = Vec::new();
    for user in all.iter().flat_map(|w| &w.users) {
        lost.extend(app.check(user).await);
    }
    assert!(lost.is_empty(), "acknowledged but lost: {lost:#?}");
    server.assert_no_new_admin_key();

    let users: Vec<&User> = all.iter().flat_map(|w| &w.users).collect();
    let rotations: usize = users.iter().map(|u| u.rotations).sum();
    let organizations: usize = users.iter().map(|u| u.organizations.len()).sum();
    let in_flight = all.iter().filter(|w| w.in_flight.is_some()).count();
    let name = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres { .. } => "postgres",
    };
    eprintln!(
        "faults/{name}: kill -9 after {load:.1?} with {} signups, {rotations} refresh rotations, \
         {organizations} organizations acknowledged and {in_flight} requests in flight; \
         lost 0; restart to ready {restart:.2?}",
        users.len()
    );
}

/// A user whose signup was acknowledged, with its latest acknowledged writes.
struct User {
    id: String,
    email: String,
    /// From the last acknowledged rotation (or the signup).
    refresh_token: String,
    rotations: usize,
    /// A rotation was in flight at the kill: it may have been committed, using up
    /// `refresh_token`, with the new token never received.
    rotation_in_doubt: bool,
    organizations: Vec<String>,
}

/// One writer's load: sign up, rotate the refresh token twice, create an organization; again.
struct Writes {
    http: reqwest::Client,
    base: String,
    killed: Arc<AtomicBool>,
    signups: Arc<AtomicUsize>,
    users: Vec<User>,
    /// What was sent and never answered, because the process died.
    in_flight: Option<&'static str>,
    /// Answers other than 2xx, and failures before the kill: there should be none.
    refused: Vec<String>,
}

impl Writes {
    async fn until_killed(&mut self, writer: usize) {
        for n in 0.. {
            let email = format!("w{writer}-{n}@faults.test");
            let body = json!({ "email": email, "password": PASSWORD });
            let Some(session) = self.send("signup", "/v1/auth/signup", None, body).await else {
                return;
            };
            self.signups.fetch_add(1, Ordering::SeqCst);
            let mut access = text(&session, "/access_token");
            self.users.push(User {
                id: text(&session, "/user/id"),
                email,
                refresh_token: text(&session, "/refresh_token"),
                rotations: 0,
                rotation_in_doubt: false,
                organizations: Vec::new(),
            });
            for _ in 0..2 {
                let body = json!({ "refresh_token": self.user().refresh_token });
                let Some(rotated) = self.send("refresh", "/v1/auth/refresh", None, body).await
                else {
                    self.user().rotation_in_doubt = self.in_flight.is_some();
                    return;
                };
                access = text(&rotated, "/access_token");
                let user = self.user();
                user.refresh_token = text(&rotated, "/refresh_token");
                user.rotations += 1;
            }
            let body = json!({ "name": format!("Writer {writer} number {n}") });
            let Some(org) = self
                .send("organization", "/v1/organizations", Some(&access), body)
                .await
            else {
                return;
            };
            let id = text(&org, "/id");
            self.user().organizations.push(id);
        }
    }

    fn user(&mut self) -> &mut User {
        self.users.last_mut().expect("a user")
    }

    /// A POST; `None` when there is no (2xx) answer, which ends the load of this writer.
    async fn send(
        &mut self,
        what: &'static str,
        path: &str,
        token: Option<&str>,
        body: Value,
    ) -> Option<Value> {
        if self.killed.load(Ordering::SeqCst) {
            return None;
        }
        let mut request = self.http.post(format!("{}{path}", self.base)).json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        // A status without its whole body is no acknowledgement either.
        let answer = match request.send().await {
            Ok(response) => {
                let status = response.status();
                response.bytes().await.map(|body| (status, body))
            }
            Err(err) => Err(err),
        };
        match answer {
            Ok((status, body)) if status.is_success() => {
                Some(serde_json::from_slice(&body).expect("a JSON answer"))
            }
            Ok((status, body)) => {
                let body = String::from_utf8_lossy(&body).into_owned();
                self.refused.push(format!("{what}: {status} {body}"));
                None
            }
            Err(_) if self.killed.load(Ordering::SeqCst) => {
                self.in_flight = Some(what);
                None
            }
            Err(err) => {
                self.refused.push(format!("{what}: {err}"));
                None
            }
        }
    }
}

/// The string at `pointer` of an acknowledged answer.
fn text(answer: &Value, pointer: &str) -> String {
    answer
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no {pointer} in {answer}"))
        .to_owned()
}

/// Checks acknowledged writes against the restarted instance.
struct Verifier {
    http: reqwest::Client,
    base: String,
    admin_key: String,
}

impl Verifier {
    /// What of `user`'s acknowledged writes is missing.
    async fn check(&self, user: &User) -> Vec<String> {
        let mut lost = Vec::new();
        let (status, _) = self
            .call(
                reqwest::Method::GET,
                &format!("/v1/admin/users/{}", user.id),
                &self.admin_key,
                None,
            )
            .await;
        if status != 200 {
            lost.push(format!("signup of {} ({status})", user.email));
            return lost;
        }
        // The last acknowledged rotation's token is the live one; when a later rotation was in
        // flight it may be used up, and the password gets a session instead.
        let (path, body) = if user.rotation_in_doubt {
            (
                "/v1/auth/login",
                json!({ "email": user.email, "password": PASSWORD }),
            )
        } else {
            (
                "/v1/auth/refresh",
                json!({ "refresh_token": user.refresh_token }),
            )
        };
        let (status, session) = self.call(reqwest::Method::POST, path, "", Some(body)).await;
        if status != 200 {
            lost.push(format!(
                "rotation {} of {} ({status} on {path}: {session})",
                user.rotations, user.email
            ));
            return lost;
        }
        let access = session["access_token"].as_str().unwrap_or_default();
        for org in &user.organizations {
            let (status, _) = self
                .call(
                    reqwest::Method::GET,
                    &format!("/v1/organizations/{org}"),
                    access,
                    None,
                )
                .await;
            if status != 200 {
                lost.push(format!("organization {org} of {} ({status})", user.email));
            }
        }
        lost
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if !token.is_empty() {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }
}
