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
use crate::ids::InstanceId;
use crate::provisioner::{Environment, InstanceSecrets};
use crate::{instances, keys};

/// The platform instance's publishable key, kept sealed (unlike customers' keys, the control
/// plane hands it out on every start and to the dashboard).
pub async fn platform_publishable_key(app: &App) -> error::Result<SecretString> {
    let sealed = crate::meta::get(&app.db, crate::meta::Key::PlatformPublishableKey)
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
    instances::store::set_allowed_origins(&mut tx, &app.platform.instance_id, &origins, None)
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
) -> anyhow::Result<(InstanceId, InstanceSecrets)> {
    if let Some(id) = crate::meta::get(db, crate::meta::Key::PlatformInstanceId).await? {
        let id = InstanceId::from(id);
        let instance = instances::find(db, &id)
            .await?
            .with_context(|| format!("the platform instance {id} is missing"))?;
        let secrets = InstanceSecrets::open(&instance.sealed_secrets, master, &id)?;
        return Ok((id, secrets));
    }
    let id = InstanceId::from(db::new_id("ins"));
    let secrets = InstanceSecrets::generate();
    let now = clock.now();
    let mut tx = db.begin_write().await?;
    let new = instances::store::NewInstance {
        id: &id,
        account_id: None,
        environment: Environment::Live,
        region,
        plan: "platform",
        sealed_secrets: &secrets.seal(master, &id)?,
    };
    instances::store::insert(&mut tx, &new, now, "the platform instance").await?;
    crate::meta::insert(&mut *tx, crate::meta::Key::PlatformInstanceId, &id).await?;
    tx.commit().await?;
    Ok((id, secrets))
}

pub(crate) async fn ensure_platform_key(app: &App) -> anyhow::Result<()> {
    if crate::meta::get(&app.db, crate::meta::Key::PlatformPublishableKey)
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
    crate::meta::set(&app.db, crate::meta::Key::PlatformPublishableKey, &sealed).await?;
    Ok(())
}
