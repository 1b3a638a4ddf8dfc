//! `authstack dev`: the whole product on one machine. The gateway, the control plane with the
//! local provisioner (SQLite, billing `none`, mail to outboxes) and a ready demo account, whose
//! details go to `DATA_DIR/dev.json` (mode 0600) and a short banner. A second start on the same
//! data dir keeps every account, key, instance and user, and reuses the demo account.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use authstack_instance::clock::Clock;
use authstack_instance::crypto::{MasterKey, random_secret, write_private_file};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};

use crate::audit::Actor;
use crate::config::Config;
use crate::gateway::{self, GatewayOptions};
use crate::ids::{AccountId, InstanceId};
use crate::instances::State;
use crate::keys::Kind;
use crate::provisioner::Environment;
use crate::{AppState, billing, db, instances};

pub struct DevOptions {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub gateway_listen: SocketAddr,
    /// The dashboard's built files, served at `/`.
    pub dashboard_dir: Option<PathBuf>,
    /// The packed SDK, served at `/sdk/`.
    pub sdk_dir: Option<PathBuf>,
    /// The nameserver that verifies custom domains (`host:port`); the system's resolver when
    /// `None`.
    pub dns_nameserver: Option<SocketAddr>,
}

/// What `dev.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DevInfo {
    pub control_plane_url: String,
    pub gateway_url: String,
    pub platform_publishable_key: String,
    pub demo: DemoAccount,
    /// Every instance at start: the platform's and each account's.
    #[serde(default)]
    pub instances: Vec<DevInstance>,
}

/// What a developer needs to verify an instance's tokens and read its mail.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DevInstance {
    pub name: String,
    pub instance_id: InstanceId,
    /// `iss` of its tokens; discovery at `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// `aud` of its access tokens.
    pub audience: String,
    /// Where its mail goes (also in the dashboard's dev mailbox).
    pub outbox: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoAccount {
    pub account_id: AccountId,
    pub owner_email: String,
    /// Dev only: the demo owner's password on the platform instance.
    pub owner_password: String,
    pub live_publishable_key: String,
    pub test_publishable_key: String,
    pub secret_key: String,
    /// A web application of the live instance, ready for a standard OpenID Connect library
    /// (absent in a `dev.json` written before it existed).
    #[serde(default)]
    pub example_application: Option<ExampleApplication>,
}

/// What an OpenID Connect library needs to sign the live instance's users in: the issuer, a
/// client id and secret, and where the instance sends users back (on loopback).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExampleApplication {
    pub issuer: String,
    pub client_id: String,
    /// Dev only, like the secret key: shown here and nowhere else.
    pub client_secret: String,
    pub redirect_uri: String,
    pub post_logout_redirect_uri: String,
}

/// Where the example application's users come back: a server on port 3000 of this machine.
const EXAMPLE_REDIRECT_URI: &str = "http://localhost:3000/callback";
const EXAMPLE_SIGNED_OUT_URI: &str = "http://localhost:3000/";
/// Where the instance tells the example application that a sign-in ended (back-channel logout).
const EXAMPLE_BACKCHANNEL_URI: &str = "http://localhost:3000/backchannel-logout";

pub const DEV_FILE: &str = "dev.json";
const DEMO_PLAN: &str = "pro";
const DEMO_REGION: &str = "local";

/// A running `dev` stack.
pub struct Dev {
    pub info: DevInfo,
    pub control_plane: crate::Running,
    pub gateway: gateway::RunningGateway,
}

impl Dev {
    pub async fn stop(self) -> anyhow::Result<()> {
        self.gateway.stop().await;
        self.control_plane.stop().await
    }
}

/// Starts everything and makes sure the demo account exists and is ready.
pub async fn start(options: DevOptions) -> anyhow::Result<Dev> {
    std::fs::create_dir_all(&options.data_dir)
        .with_context(|| format!("creating {}", options.data_dir.display()))?;
    // The gateway starts first: its address is every instance's issuer.
    let master = std::sync::Arc::new(MasterKey::load_or_create(None, &options.data_dir)?);
    let gateway_db = db::connect(None, &options.data_dir).await?;
    let mut config = Config::embedded(&options.data_dir);
    config.listen = options.listen;
    config.stop_instances_on_shutdown = true;
    // A developer's webhook receiver runs on their machine.
    config.allow_private_webhooks = true;
    config.dashboard_dir = options.dashboard_dir.clone();
    config.sdk_dir = options.sdk_dir.clone();
    config.dns_nameserver = options.dns_nameserver;
    config.dev_mailbox = true;
    // The dashboard's Vite dev server (`npm run dev --workspace @authstack/dashboard`).
    // The demo owner runs this platform: the dashboard shows them the Ops page.
    config.operator_emails = vec![DEMO_EMAIL.to_owned()];
    config.dashboard_origins = vec![
        "http://127.0.0.1:5174".into(),
        "http://localhost:5174".into(),
    ];
    let gateway = gateway::start(GatewayOptions {
        listen: options.gateway_listen,
        db: gateway_db,
        master,
        clock: Clock::System,
        catalog: config.catalog.clone(),
        poll_interval: Duration::from_millis(200),
        upstream_timeout: Duration::from_secs(30),
    })
    .await?;
    config.gateway_url = Some(format!("http://{}", gateway.addr));
    let control_plane = crate::start(config, Clock::System).await?;
    let app = control_plane.app.clone();
    let info = match ensure_demo(&app, &options.data_dir, control_plane.addr).await {
        Ok(info) => info,
        Err(err) => {
            gateway.stop().await;
            let _ = control_plane.stop().await;
            return Err(err);
        }
    };
    Ok(Dev {
        info,
        control_plane,
        gateway,
    })
}

async fn ensure_demo(app: &AppState, data_dir: &Path, addr: SocketAddr) -> anyhow::Result<DevInfo> {
    let path = data_dir.join(DEV_FILE);
    let previous: Option<DevInfo> = std::fs::read(&path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let demo = match previous {
        Some(info)
            if crate::accounts::find(&app.db, &info.demo.account_id)
                .await?
                .is_some() =>
        {
            info.demo
        }
        _ => create_demo(app).await?,
    };
    wait_until_ready(app, &demo.account_id).await?;
    let info = DevInfo {
        control_plane_url: format!("http://{addr}"),
        gateway_url: app.gateway_url.clone(),
        platform_publishable_key: crate::platform_publishable_key(app)
            .await?
            .expose_secret()
            .to_owned(),
        demo,
        instances: dev_instances(app, data_dir).await?,
    };
    let _ = std::fs::remove_file(&path);
    write_private_file(&path, &serde_json::to_vec_pretty(&info)?)?;
    Ok(info)
}

async fn dev_instances(app: &AppState, data_dir: &Path) -> anyhow::Result<Vec<DevInstance>> {
    let instances_dir = data_dir.join("instances");
    let mut out = Vec::new();
    for instance in instances::all(&app.db).await? {
        if instance.state == State::Deleted {
            continue;
        }
        let name = match &instance.account_id {
            None => "platform".to_owned(),
            Some(account_id) => {
                let account = crate::accounts::find(&app.db, account_id).await?;
                format!(
                    "{} {}",
                    account.map_or_else(|| account_id.to_string(), |a| a.name),
                    instance.environment
                )
            }
        };
        let (issuer, _) = crate::domains::issuers(app, &instance).await?;
        out.push(DevInstance {
            name,
            issuer,
            audience: instance.id.to_string(),
            outbox: crate::mailbox::outbox_of(&instances_dir, &instance.id)
                .display()
                .to_string(),
            instance_id: instance.id,
        });
    }
    out.sort_by_key(|i| i.name != "platform");
    Ok(out)
}

async fn create_demo(app: &AppState) -> anyhow::Result<DemoAccount> {
    let password = random_secret("", 12).expose_secret().to_owned();
    let mut email = DEMO_EMAIL.to_owned();
    for attempt in 1..=20 {
        let response = app
            .platform
            .admin(&app.http, reqwest::Method::POST, "/v1/admin/users")
            .json(&serde_json::json!({ "email": email, "password": password, "name": "Demo Owner", "email_verified": true }))
            .send()
            .await?;
        match response.status().as_u16() {
            201 | 200 => break,
            // A previous data dir lost its dev.json; the user exists with an unknown password.
            409 => email = format!("demo+{attempt}@authstack.dev"),
            status => anyhow::bail!(
                "creating the demo user: {status} {}",
                response.text().await.unwrap_or_default()
            ),
        }
    }
    let token = login(app, &email, &password, None).await?;
    let caller = app
        .platform
        .verify(&app.http, &token)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let account = crate::accounts::create(app, &caller, "Demo Company", None)
        .await
        .map_err(|e| anyhow::anyhow!("creating the demo account: {e}"))?;
    billing::activate(
        app,
        Actor::User(&caller.user_id),
        &account.id,
        DEMO_PLAN,
        DEMO_REGION,
        billing::ProviderKind::None,
    )
    .await
    .map_err(|e| anyhow::anyhow!("activating the demo plan: {e}"))?;
    wait_until_ready(app, &account.id).await?;
    let key = |environment, kind, name: &'static str| {
        let app = app.clone();
        let account_id = account.id.clone();
        let caller = caller.clone();
        async move {
            crate::keys::create_for_account(&app, &account_id, &caller, name, environment, kind)
                .await
                .map(|k| k.secret.expose_secret().to_owned())
                .map_err(|e| anyhow::anyhow!("creating a demo key: {e}"))
        }
    };
    let example_application = Some(example_application(app, &account.id).await?);
    Ok(DemoAccount {
        example_application,
        live_publishable_key: key(Environment::Live, Kind::Publishable, "demo live").await?,
        test_publishable_key: key(Environment::Test, Kind::Publishable, "demo test").await?,
        secret_key: key(Environment::Live, Kind::Secret, "demo server").await?,
        account_id: account.id,
        owner_email: email,
        owner_password: password,
    })
}

/// Logs in on the platform instance; with `org_id`, the session starts in that organization.
pub async fn login(
    app: &AppState,
    email: &str,
    password: &str,
    org_id: Option<&str>,
) -> anyhow::Result<String> {
    let response = app
        .platform
        .request(&app.http, reqwest::Method::POST, "/v1/auth/login")
        .json(&serde_json::json!({ "email": email, "password": password, "org_id": org_id }))
        .send()
        .await?;
    let status = response.status();
    let body: serde_json::Value = response.json().await?;
    anyhow::ensure!(
        status.is_success(),
        "platform login failed: {status} {body}"
    );
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("platform login answered without a token")
}

async fn wait_until_ready(app: &AppState, account_id: &AccountId) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let current = instances::of_account(&app.db, account_id).await?;
        if current.len() == 2 && current.iter().all(|i| i.state == State::Ready) {
            return Ok(());
        }
        if let Some(failed) = current.iter().find(|i| i.state == State::Failed) {
            anyhow::bail!(
                "the demo {} instance failed: {}",
                failed.environment,
                failed.last_error.clone().unwrap_or_default()
            );
        }
        anyhow::ensure!(
            tokio::time::Instant::now() < deadline,
            "the demo instances are not ready after 60 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Registers the example web application with the demo account's live instance.
async fn example_application(
    app: &AppState,
    account_id: &AccountId,
) -> anyhow::Result<ExampleApplication> {
    let instance = instances::of_account(&app.db, account_id)
        .await?
        .into_iter()
        .find(|i| i.environment == Environment::Live)
        .ok_or_else(|| anyhow::anyhow!("the demo account has no live instance"))?;
    let new = crate::applications::NewApplication {
        name: "Example web app".into(),
        kind: crate::applications::Kind::Web,
        redirect_uris: vec![EXAMPLE_REDIRECT_URI.into()],
        post_logout_redirect_uris: vec![EXAMPLE_SIGNED_OUT_URI.into()],
        first_party: Some(true),
        permissions: Vec::new(),
        organization_selection: None,
        backchannel_logout_uri: Some(EXAMPLE_BACKCHANNEL_URI.into()),
        allowed_cors_origins: Vec::new(),
        access_token_ttl_secs: None,
    };
    let minted = crate::applications::create(app, &instance, &new)
        .await
        .map_err(|e| anyhow::anyhow!("registering the example application: {e}"))?;
    let client_secret = minted
        .client_secret
        .ok_or_else(|| anyhow::anyhow!("the example web application came without a secret"))?;
    Ok(ExampleApplication {
        issuer: gateway::address::issuer(&app.gateway_url, &instance.id),
        client_id: minted.application.id,
        client_secret: client_secret.expose_secret().to_owned(),
        redirect_uri: EXAMPLE_REDIRECT_URI.into(),
        post_logout_redirect_uri: EXAMPLE_SIGNED_OUT_URI.into(),
    })
}

/// The demo account's owner (`demo+N@…` when that address is taken by another password).
const DEMO_EMAIL: &str = "demo@authstack.dev";

/// The banner `authstack dev` prints.
pub fn banner(info: &DevInfo, data_dir: &Path) -> String {
    let mut instances = String::new();
    for i in &info.instances {
        instances.push_str(&format!(
            "  instance {}  {}\n    issuer   {}\n    audience {}\n    outbox   {}\n",
            i.name, i.instance_id, i.issuer, i.audience, i.outbox
        ));
    }
    let example = match &info.demo.example_application {
        Some(a) => format!(
            "  example app (OpenID Connect, live instance)\n    issuer        {}\n    client id     {}\n    \
             client secret {}\n    redirect URI  {}\n",
            a.issuer, a.client_id, a.client_secret, a.redirect_uri
        ),
        None => String::new(),
    };
    format!(
        "\nAuthStack is running (dev)\n\
         \x20 dashboard       {}/\n\
         \x20 control plane   {}\n\
         \x20 gateway         {}\n\
         \x20 platform key    {}\n\
         \x20 demo account    {}  ({} / {})\n\
         \x20   live key      {}\n\
         \x20   test key      {}\n\
         \x20   secret key    {}\n\
         {}\
         {}\
         \x20 dev mailbox     {}/dev/mailbox\n\
         \x20 all of this is in {}\n",
        info.control_plane_url.trim_end_matches('/'),
        info.control_plane_url,
        info.gateway_url,
        info.platform_publishable_key,
        info.demo.account_id,
        info.demo.owner_email,
        info.demo.owner_password,
        info.demo.live_publishable_key,
        info.demo.test_publishable_key,
        info.demo.secret_key,
        instances,
        example,
        info.control_plane_url.trim_end_matches('/'),
        data_dir.join(DEV_FILE).display(),
    )
}
