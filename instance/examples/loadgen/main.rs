//! A closed-loop HTTP load generator for the instance's hot endpoints: each of `connections`
//! workers sends its next request when the previous one answered.
//!
//! Scenarios: `login` (password login, a fresh session each time), `refresh` (each worker
//! follows its own refresh-token chain, as a client would), `me` (authenticated GET /v1/me),
//! the OpenID Provider's `oidc-signin`, `oidc-exchange` and `oidc-page` (see [`oidc`]), and
//! `signup` and `webhook-drain` (see [`webhooks`]; for `webhook-drain` the last argument is
//! the number of events, not seconds).
//! Prints one JSON line: what was counted, requests, errors, requests/s, p50 and p99 latency in
//! ms (and, for `oidc-signin`, the mean time of each of its four requests; for `oidc-exchange`,
//! how many codes were collected beforehand and at what rate).
//!
//! Usage: cargo run --release --example loadgen -- BASE_URL ADMIN_KEY SCENARIO [connections] [seconds]

mod oidc;
mod webhooks;

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

const PASSWORD: &str = "benchmark passphrase";

/// What one worker measured: the latency of each counted operation, the failed ones, and the
/// window it ran in.
pub struct Sample {
    latencies: Vec<Duration>,
    errors: u64,
    started: Instant,
    ended: Instant,
    /// Time summed per step, for scenarios that report their steps.
    steps: Vec<Duration>,
    /// What was prepared before the window (oidc-exchange: codes), and in how long.
    prepared: Option<(u64, Duration)>,
}

impl Sample {
    fn new(started: Instant) -> Self {
        Sample {
            latencies: Vec::new(),
            errors: 0,
            started,
            ended: started,
            steps: Vec::new(),
            prepared: None,
        }
    }

    /// Records one operation; a failed one counts as an error too.
    fn record(&mut self, latency: Duration, outcome: anyhow::Result<()>) {
        self.latencies.push(latency);
        if let Err(err) = outcome {
            self.fail(err);
        }
    }

    /// Counts a failure outside the timed part; the first is printed, to say what went wrong.
    fn fail(&mut self, err: anyhow::Error) {
        if self.errors == 0 {
            eprintln!("loadgen: {err:#}");
        }
        self.errors += 1;
    }
}

/// What every worker gets: the HTTP client, the instance, its own user.
#[derive(Clone)]
pub struct Worker {
    http: reqwest::Client,
    base: String,
    email: String,
}

async fn login(http: &reqwest::Client, base: &str, email: &str) -> anyhow::Result<Value> {
    let reply = http
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await?;
    if !reply.status().is_success() {
        bail!("login failed: {}", reply.text().await?);
    }
    Ok(reply.json().await?)
}

/// The API scenarios: `login`, `refresh` and `me`, one request each.
async fn api(
    worker: Worker,
    scenario: String,
    started: Instant,
    seconds: f64,
) -> anyhow::Result<Sample> {
    let Worker { http, base, email } = worker;
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut sample = Sample::new(started);
    let session = login(&http, &base, &email).await?;
    let access = session["access_token"]
        .as_str()
        .context("access token")?
        .to_owned();
    let mut refresh = session["refresh_token"]
        .as_str()
        .context("refresh token")?
        .to_owned();
    while Instant::now() < deadline {
        let sent = Instant::now();
        let ok = match scenario.as_str() {
            "login" => login(&http, &base, &email).await.is_ok(),
            "me" => http
                .get(format!("{base}/v1/me"))
                .bearer_auth(&access)
                .send()
                .await?
                .status()
                .is_success(),
            "refresh" => {
                let reply = http
                    .post(format!("{base}/v1/auth/refresh"))
                    .json(&json!({ "refresh_token": refresh }))
                    .send()
                    .await?;
                if reply.status().is_success() {
                    let body: Value = reply.json().await?;
                    refresh = body["refresh_token"]
                        .as_str()
                        .context("refresh token")?
                        .to_owned();
                    true
                } else {
                    false
                }
            }
            other => bail!("unknown scenario {other}"),
        };
        sample.latencies.push(sent.elapsed());
        if !ok {
            sample.errors += 1;
        }
    }
    sample.ended = Instant::now();
    Ok(sample)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, admin_key, scenario, rest @ ..] = args.as_slice() else {
        bail!(
            "usage: loadgen BASE_URL ADMIN_KEY login|refresh|me|oidc-signin|oidc-exchange|oidc-page|signup|webhook-drain [connections] [seconds|events]"
        );
    };
    let connections: usize = rest.first().map(|s| s.parse()).transpose()?.unwrap_or(16);
    let seconds: f64 = rest.get(1).map(|s| s.parse()).transpose()?.unwrap_or(10.0);
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    // Redirects are read, never followed: the OpenID scenarios check every Location.
    let http = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(connections)
        .build()?;
    let received = webhooks::receiver().await?;
    if scenario == "webhook-drain" {
        let received = received.context("webhook-drain needs LOADGEN_RECEIVER")?;
        let events = seconds as u64;
        let line = webhooks::drain(&http, base, admin_key, connections, events, received).await?;
        println!("{line}");
        return Ok(());
    }

    // One verified user per worker, created through the admin API.
    let mut emails = Vec::new();
    for worker in 0..connections {
        let email = format!(
            "bench-{}-{worker}@example.com",
            uuid::Uuid::new_v4().simple()
        );
        let reply = http
            .post(format!("{base}/v1/admin/users"))
            .bearer_auth(admin_key)
            .json(&json!({ "email": email, "password": PASSWORD, "email_verified": true }))
            .send()
            .await?;
        if reply.status().as_u16() != 201 {
            bail!("creating a user failed: {}", reply.text().await?);
        }
        emails.push(email);
    }
    let client = match scenario.as_str() {
        "oidc-signin" | "oidc-exchange" | "oidc-page" => {
            Some(oidc::register(&http, base, admin_key).await?)
        }
        "login" | "refresh" | "me" | "signup" => None,
        other => bail!("unknown scenario {other}"),
    };

    // Workers that prepare (oidc-exchange) start their window together, once all are ready.
    let ready = Arc::new(tokio::sync::Barrier::new(connections));
    let out_of_codes = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut workers = Vec::new();
    for email in emails {
        let worker = Worker {
            http: http.clone(),
            base: base.clone(),
            email,
        };
        let (scenario, client) = (scenario.clone(), client.clone());
        let (ready, out_of_codes) = (ready.clone(), out_of_codes.clone());
        workers.push(tokio::spawn(async move {
            match (scenario.as_str(), client) {
                ("oidc-signin", Some(client)) => {
                    oidc::signin(worker, client, started, seconds).await
                }
                ("oidc-page", Some(client)) => oidc::page(worker, client, started, seconds).await,
                ("signup", None) => webhooks::signup(worker, started, seconds).await,
                ("oidc-exchange", Some(client)) => {
                    oidc::exchange(worker, client, seconds, ready, out_of_codes).await
                }
                _ => api(worker, scenario, started, seconds).await,
            }
        }));
    }
    let mut samples = Vec::new();
    for worker in workers {
        samples.push(worker.await??);
    }
    report(scenario, connections, samples);
    Ok(())
}

fn report(scenario: &str, connections: usize, samples: Vec<Sample>) {
    let started = samples.iter().map(|s| s.started).min();
    let ended = samples.iter().map(|s| s.ended).max();
    let elapsed = match (started, ended) {
        (Some(started), Some(ended)) => (ended - started).as_secs_f64(),
        _ => 0.0,
    };
    let errors: u64 = samples.iter().map(|s| s.errors).sum();
    let mut steps: Vec<Duration> = Vec::new();
    for sample in &samples {
        steps.resize(steps.len().max(sample.steps.len()), Duration::ZERO);
        for (total, step) in steps.iter_mut().zip(&sample.steps) {
            *total += *step;
        }
    }
    let prepared: Vec<(u64, Duration)> = samples.iter().filter_map(|s| s.prepared).collect();
    let mut latencies: Vec<Duration> = samples.into_iter().flat_map(|s| s.latencies).collect();
    latencies.sort();
    let count = latencies.len();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pct = |p: f64| {
        latencies
            .get(((count as f64 * p) as usize).min(count.saturating_sub(1)))
            .map_or(0.0, |d| ms(*d))
    };
    let mut line = json!({
        "scenario": scenario, "counts": oidc::counts(scenario), "connections": connections,
        "seconds": elapsed, "requests": count, "errors": errors,
        "requests_per_sec": count as f64 / elapsed,
        "p50_ms": pct(0.50), "p99_ms": pct(0.99),
    });
    if !steps.is_empty() && count > 0 {
        line["step_mean_ms"] = oidc::SIGNIN_STEPS
            .iter()
            .zip(&steps)
            .map(|(name, total)| ((*name).to_owned(), json!(ms(*total) / count as f64)))
            .collect::<serde_json::Map<_, _>>()
            .into();
    }
    if let Some(longest) = prepared.iter().map(|(_, took)| *took).max() {
        let count: u64 = prepared.iter().map(|(count, _)| count).sum();
        line["prepared"] = json!(count);
        line["prepared_per_sec"] = json!(count as f64 / longest.as_secs_f64());
    }
    println!("{line}");
}
