//! A closed-loop HTTP load generator for the instance's hot endpoints: each of `connections`
//! workers sends its next request when the previous one answered.
//!
//! Scenarios: `login` (password login, a fresh session each time), `refresh` (each worker
//! follows its own refresh-token chain, as a client would), `me` (authenticated GET /v1/me).
//! Prints one JSON line: requests, errors, requests/s, p50 and p99 latency in ms.
//!
//! Usage: cargo run --release --example loadgen -- BASE_URL ADMIN_KEY SCENARIO [connections] [seconds]

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

async fn login(http: &reqwest::Client, base: &str, email: &str) -> anyhow::Result<Value> {
    let reply = http
        .post(format!("{base}/v1/auth/login"))
        .json(&json!({ "email": email, "password": "benchmark passphrase" }))
        .send()
        .await?;
    if !reply.status().is_success() {
        bail!("login failed: {}", reply.text().await?);
    }
    Ok(reply.json().await?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, base, admin_key, scenario, rest @ ..] = args.as_slice() else {
        bail!("usage: loadgen BASE_URL ADMIN_KEY login|refresh|me [connections] [seconds]");
    };
    let connections: usize = rest.first().map(|s| s.parse()).transpose()?.unwrap_or(16);
    let seconds: f64 = rest.get(1).map(|s| s.parse()).transpose()?.unwrap_or(10.0);
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(connections)
        .build()?;

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
            .json(&json!({ "email": email, "password": "benchmark passphrase", "email_verified": true }))
            .send()
            .await?;
        if reply.status().as_u16() != 201 {
            bail!("creating a user failed: {}", reply.text().await?);
        }
        emails.push(email);
    }

    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut workers = Vec::new();
    for email in emails {
        let (http, base, scenario) = (http.clone(), base.clone(), scenario.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0u64;
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
                latencies.push(sent.elapsed());
                if !ok {
                    errors += 1;
                }
            }
            anyhow::Ok((latencies, errors))
        }));
    }
    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (l, e) = worker.await??;
        latencies.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let pct = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{}",
        json!({
            "scenario": scenario, "connections": connections, "seconds": elapsed,
            "requests": latencies.len(), "errors": errors,
            "requests_per_sec": latencies.len() as f64 / elapsed,
            "p50_ms": pct(0.50), "p99_ms": pct(0.99),
        })
    );
    Ok(())
}
