//! One instance and the gateway in front of it, for `scripts/bench-gateway`.
//!
//! Starts an instance (SQLite in a temporary directory, gateway secret set) and the gateway on a
//! fresh control-plane database with one `ready` instance row, a publishable key, and a plan
//! whose rate limit does not get in the way, and signs a user up for authenticated requests.
//! Prints one JSON line on stdout — `{"direct_url", "gateway_url", "key", "gateway_secret",
//! "access_token"}` — and runs until Ctrl-C or SIGTERM.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use authstack_control_plane::catalog::Catalog;
use authstack_control_plane::db;
use authstack_control_plane::gateway::changes as route_changes;
use authstack_control_plane::gateway::{self, GatewayOptions};
use authstack_control_plane::provisioner::InstanceSecrets;
use authstack_instance::clock::Clock;
use authstack_instance::config::ServerConfig;
use authstack_instance::crypto::{MasterKey, random_secret, sha256_hex};
use secrecy::ExposeSecret;

const PLAN: &str = "bench";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let clock = Clock::System;

    let mut secrets = InstanceSecrets::generate();
    let mut config = ServerConfig::embedded(dir.path().join("instance"));
    config.listen = SocketAddr::from(([127, 0, 0, 1], 0));
    config.gateway_secret = Some(secrets.gateway_secret.clone());
    config.trust_forwarded_for = true;
    config.instance.auth.require_email_verification = false;
    // Long enough for a whole benchmark run.
    config.instance.tokens.access_token_ttl_secs = 3600;
    let instance = authstack_instance::start(config, clock.clone()).await?;
    if let Some(admin_key) = &instance.initial_admin_key {
        secrets.admin_key = admin_key.clone();
    }
    let instance_id = instance.app.instance_id.clone();
    let direct_url = format!("http://{}", instance.addr);

    let db = db::connect(None, dir.path()).await?;
    let master = Arc::new(MasterKey::load_or_create(None, dir.path())?);
    let now = clock.now();
    sqlx::query(
        "INSERT INTO instances (id, account_id, environment, region, plan, state, desired, \
         revision, endpoint, allowed_origins, secrets, created_at, updated_at) \
         VALUES ($1, NULL, 'live', 'local', $2, 'ready', 'running', 1, $3, '[]', $4, $5, $5)",
    )
    .bind(&instance_id)
    .bind(PLAN)
    .bind(&direct_url)
    .bind(secrets.seal(&master, &instance_id)?)
    .bind(now)
    .execute(&db.writer)
    .await?;
    let key = random_secret("ask_live_", 32);
    sqlx::query(
        "INSERT INTO api_keys (id, account_id, instance_id, environment, kind, name, \
         display_prefix, hash, created_at) \
         VALUES ($1, NULL, $2, 'live', 'publishable', 'bench', 'ask_live_', $3, $4)",
    )
    .bind(db::new_id("key"))
    .bind(&instance_id)
    .bind(sha256_hex(key.expose_secret()))
    .bind(now)
    .execute(&db.writer)
    .await?;
    route_changes::record(&db.writer, now).await?;

    let mut catalog = Catalog::built_in();
    let mut plan = catalog
        .plans
        .first()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("the built-in catalog has no plan"))?;
    plan.id = PLAN.into();
    plan.stripe_price_id = "price_bench".into();
    plan.limits.api_requests_per_second = 10_000_000;
    catalog.plans.push(plan);

    let gateway = gateway::start(GatewayOptions {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        db,
        master,
        clock,
        catalog,
        poll_interval: Duration::from_millis(200),
        upstream_timeout: Duration::from_secs(30),
    })
    .await?;

    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let signup: serde_json::Value = reqwest::Client::new()
        .post(format!("{direct_url}/v1/auth/signup"))
        .header(
            "x-authstack-gateway",
            secrets.gateway_secret.expose_secret(),
        )
        .json(&serde_json::json!({
            "email": "bench@example.com",
            "password": "benchmark passphrase 42",
        }))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let access_token = signup["access_token"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("the signup returned no access token: {signup}"))?;

    println!(
        "{}",
        serde_json::json!({
            "direct_url": direct_url,
            "gateway_url": format!("http://{}", gateway.addr),
            "key": key.expose_secret(),
            "gateway_secret": secrets.gateway_secret.expose_secret(),
            "access_token": access_token,
        })
    );

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    gateway.stop().await;
    instance.stop().await?;
    Ok(())
}
