//! Time from activation to both instances ready, measured in-process on the release build:
//! billing `none` (`POST /v1/accounts/{id}/subscription`) and Stripe (a signed
//! `checkout.session.completed` delivered to the webhook). Run by `scripts/bench-activation`.
//!
//!     cargo run --release -p authstack-control-plane --example activation -- [ROUNDS]

use std::sync::Arc;
use std::time::{Duration, Instant};

use authstack_control_plane::billing::stripe::signature;
use authstack_control_plane::config::{BillingConfig, Config, StripeConfig};
use authstack_control_plane::gateway::{self, GatewayOptions};
use authstack_control_plane::ids::AccountId;
use authstack_control_plane::{AppState, dev, instances};
use authstack_instance::clock::Clock;
use authstack_instance::crypto::MasterKey;
use secrecy::SecretString;
use serde_json::json;

const SECRET: &str = "whsec_bench";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let executable = std::env::current_exe()?
        .parent()
        .and_then(|examples| examples.parent())
        .map(|release| release.join("authstack"))
        .ok_or_else(|| anyhow::anyhow!("cannot locate target/release/authstack"))?;
    anyhow::ensure!(
        executable.exists(),
        "build it first: cargo build --release -p authstack-control-plane --bin authstack"
    );
    let none = measure(rounds, false, &executable).await?;
    let stripe = measure(rounds, true, &executable).await?;
    report(
        "billing none: POST subscription -> both instances ready",
        &none,
    );
    report(
        "stripe: signed checkout.session.completed -> both instances ready",
        &stripe,
    );
    Ok(())
}

fn report(label: &str, samples: &[Duration]) {
    let mut sorted = samples.to_vec();
    sorted.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label}: n={} min={:.0} ms p50={:.0} ms max={:.0} ms",
        sorted.len(),
        ms(sorted[0]),
        ms(sorted[sorted.len() / 2]),
        ms(sorted[sorted.len() - 1])
    );
}

async fn measure(
    rounds: usize,
    stripe: bool,
    executable: &std::path::Path,
) -> anyhow::Result<Vec<Duration>> {
    let dir = tempfile::tempdir()?;
    let master = Arc::new(MasterKey::load_or_create(None, dir.path())?);
    let db = authstack_control_plane::db::connect(None, dir.path()).await?;
    let mut config = Config::embedded(dir.path());
    config.listen = "127.0.0.1:0".parse()?;
    config.instance_executable = Some(executable.to_owned());
    config.stop_instances_on_shutdown = true;
    if stripe {
        config.billing = BillingConfig::Stripe(StripeConfig {
            api_key: SecretString::from("sk_test_bench".to_owned()),
            api_base: "http://127.0.0.1:9/".into(),
            webhook_secrets: vec![SecretString::from(SECRET.to_owned())],
            webhook_tolerance: Duration::from_secs(300),
            return_url: "http://127.0.0.1/".into(),
        });
    }
    let gateway = gateway::start(GatewayOptions {
        listen: "127.0.0.1:0".parse()?,
        db,
        master,
        clock: Clock::System,
        catalog: config.catalog.clone(),
        poll_interval: Duration::from_millis(200),
        upstream_timeout: Duration::from_secs(30),
    })
    .await?;
    config.gateway_url = Some(format!("http://{}", gateway.addr));
    let running = authstack_control_plane::start(config, Clock::System).await?;
    let app = running.app.clone();
    let cp = format!("http://{}", running.addr);
    let http = reqwest::Client::new();
    let mut samples = Vec::new();
    for round in 0..rounds {
        let (account_id, token) = account(&app, round).await?;
        let started = Instant::now();
        if stripe {
            let now = app.clock.now();
            let payload = serde_json::to_vec(&json!({
                "id": format!("evt_bench_{round}"), "object": "event", "created": now,
                "type": "checkout.session.completed", "api_version": "2025-03-31.basil",
                "data": { "object": {
                    "id": format!("cs_bench_{round}"), "object": "checkout.session", "mode": "subscription",
                    "customer": format!("cus_bench_{round}"), "subscription": format!("sub_bench_{round}"),
                    "client_reference_id": account_id, "payment_status": "paid", "status": "complete",
                    "metadata": { "account_id": account_id, "plan": "starter", "region": "local" }
                }}
            }))?;
            let response = http
                .post(format!("{cp}/v1/billing/stripe/webhook"))
                .header("stripe-signature", signature::sign(&payload, SECRET, now))
                .body(payload)
                .send()
                .await?;
            anyhow::ensure!(
                response.status().is_success(),
                "webhook: {}",
                response.text().await?
            );
        } else {
            let response = http
                .post(format!("{cp}/v1/accounts/{account_id}/subscription"))
                .bearer_auth(&token)
                .json(&json!({ "plan": "starter", "region": "local" }))
                .send()
                .await?;
            anyhow::ensure!(
                response.status().is_success(),
                "subscribe: {}",
                response.text().await?
            );
        }
        loop {
            let current = instances::of_account(&app.db, &account_id).await?;
            if current.len() == 2 && current.iter().all(|i| i.state == instances::State::Ready) {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(60),
                "not ready after 60 s"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        samples.push(started.elapsed());
    }
    gateway.stop().await;
    running.stop().await?;
    Ok(samples)
}

/// A verified platform user, an account, and a token working in it.
async fn account(app: &AppState, round: usize) -> anyhow::Result<(AccountId, String)> {
    let email = format!("bench{round}@authstack.test");
    let password = "correct horse battery staple";
    let created = app
        .platform
        .admin(&app.http, reqwest::Method::POST, "/v1/admin/users")
        .json(&json!({ "email": email, "password": password, "email_verified": true }))
        .send()
        .await?;
    anyhow::ensure!(
        created.status().is_success(),
        "user: {}",
        created.text().await?
    );
    let token = dev::login(app, &email, password, None).await?;
    let caller = app
        .platform
        .verify(&app.http, &token)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let account =
        authstack_control_plane::accounts::create(app, &caller, &format!("Bench {round}"), None)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    let token = dev::login(app, &email, password, Some(&account.organization_id)).await?;
    Ok((account.id, token))
}
