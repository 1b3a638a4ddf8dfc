//! The platform instance's bootstrap: its row and secrets on first start, its publishable key
//! (sealed: the dashboard gets it on every start), and the dashboard's origins.

use std::net::SocketAddr;

use anyhow::Context;
use authstack_instance::clock::Clock;
use authstack_instance::crypto::MasterKey;
use secrecy::{ExposeSecret, SecretString};

use crate::App;
use crate::db::{self, Db};
use crate::error::{self, Error};
use crate::provisioner::{Environment, InstanceSecrets};
use crate::{instances, keys};

/// The platform instance's publishable key, kept sealed (unlike customers' keys, the control
/// plane hands it out on every start and to the dashboard).
pub async fn platform_publishable_key(app: &App) -> error::Result<SecretString> {
    let sealed = db::meta(&app.db, "platform_publishable_key")
        .await?
        .ok_or(Error::NotFound("platform key"))?;
    let key = app.master.open(&sealed, "platform_publishable_key")?;
    Ok(SecretString::from(
        String::from_utf8(key).map_err(anyhow::Error::from)?,
    ))
}

/// The dashboard runs in browsers at the control plane's own origin (and any configured
/// others): the platform instance, which it signs users in with, allows them.
pub(crate) async fn allow_dashboard(app: &App, addr: SocketAddr) -> anyhow::Result<()> {
    let addr = crate::browser_address(addr);
    let mut origins = vec![format!("http://{addr}")];
    if addr.ip().is_loopback() {
        origins.push(format!("http://localhost:{}", addr.port()));
    }
    if let Ok(url) = reqwest::Url::parse(&app.dashboard_url) {
        let origin = url.origin().ascii_serialization();
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    origins.extend(app.config.dashboard_origins.iter().cloned());
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    sqlx::query("UPDATE instances SET allowed_origins = $1 WHERE id = $2")
        .bind(serde_json::to_string(&origins)?)
        .bind(&app.platform.instance_id)
        .execute(&mut *tx)
        .await?;
    crate::gateway::changes::record(&mut *tx, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The platform instance's id and secrets, creating its row on first start.
pub(crate) async fn platform_instance(
    db: &Db,
    master: &MasterKey,
    clock: &Clock,
    region: &str,
) -> anyhow::Result<(String, InstanceSecrets)> {
    if let Some(id) = db::meta(db, "platform_instance_id").await? {
        let instance = instances::find(db, &id)
            .await?
            .with_context(|| format!("the platform instance {id} is missing"))?;
        let secrets = InstanceSecrets::open(&instance.sealed_secrets, master, &id)?;
        return Ok((id, secrets));
    }
    let id = db::new_id("ins");
    let secrets = InstanceSecrets::generate();
    let now = clock.now();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO instances (id, account_id, environment, region, plan, state, desired, revision, \
         endpoint, allowed_origins, secrets, created_at, updated_at) \
         VALUES ($1, NULL, 'live', $2, 'platform', 'provisioning', 'running', 1, '', '[]', $3, $4, $4)",
    )
    .bind(&id)
    .bind(region)
    .bind(secrets.seal(master, &id)?)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    instances::record_step(
        &mut *tx,
        &id,
        now,
        "requested",
        Some("the platform instance"),
    )
    .await?;
    sqlx::query("INSERT INTO meta (key, value) VALUES ('platform_instance_id', $1)")
        .bind(&id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok((id, secrets))
}

pub(crate) async fn ensure_platform_key(app: &App) -> anyhow::Result<()> {
    if db::meta(&app.db, "platform_publishable_key")
        .await?
        .is_some()
    {
        return Ok(());
    }
    let key = keys::create(
        &app.db.writer,
        None,
        &app.platform.instance_id,
        Environment::Live,
        keys::Kind::Publishable,
        "platform dashboard",
        app.clock.now(),
    )
    .await?;
    let sealed = app.master.seal(
        key.secret.expose_secret().as_bytes(),
        "platform_publishable_key",
    )?;
    db::set_meta(&app.db, "platform_publishable_key", &sealed).await?;
    Ok(())
}
