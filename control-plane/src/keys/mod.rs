//! API keys. Publishable keys (`ask_live_…`, `ask_test_…`) identify an instance and its
//! environment and are safe in a browser; secret keys (`ask_secret_live_…`, `ask_secret_test_…`)
//! call the instance's admin API from a server. 256 random bits each; only the SHA-256 is
//! stored and the key is shown once. Rotation issues a new key and lets the old one work for a
//! grace period; revocation reaches the gateway within its poll interval (200 ms).

pub mod routes;
pub mod store;

use authstack_instance::clock::UnixTime;
use authstack_instance::crypto::{random_secret, sha256_hex};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::audit::{self, Actor};
use crate::db::new_id;
use crate::error::{Error, Result};
use crate::gateway::changes;
use crate::ids::{AccountId, InstanceId};
use crate::instances::State as InstanceState;
use crate::platform::Caller;
use crate::provisioner::Environment;
use crate::{App, AppState};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = KeyKind)]
pub enum Kind {
    Publishable,
    Secret,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Publishable => "publishable",
            Kind::Secret => "secret",
        }
    }

    pub fn prefix(self, environment: Environment) -> &'static str {
        match (self, environment) {
            (Kind::Publishable, Environment::Live) => "ask_live_",
            (Kind::Publishable, Environment::Test) => "ask_test_",
            (Kind::Secret, Environment::Live) => "ask_secret_live_",
            (Kind::Secret, Environment::Test) => "ask_secret_test_",
        }
    }
}

/// A key as listed: never the key itself.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    #[schema(value_type = Kind)]
    pub kind: String,
    #[schema(value_type = Environment)]
    pub environment: String,
    pub instance_id: InstanceId,
    /// The key's first characters, to recognise it.
    pub display_prefix: String,
    #[serde(serialize_with = "crate::http::time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UnixTime,
    #[serde(serialize_with = "crate::http::optional_time")]
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<UnixTime>,
    /// Set by rotation: the key stops working then.
    #[serde(serialize_with = "crate::http::optional_time")]
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<UnixTime>,
    #[serde(serialize_with = "crate::http::optional_time")]
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<UnixTime>,
    #[schema(required = true)]
    pub replaced_by: Option<String>,
    /// Who made it (`None` for keys older than this record and the system's own).
    #[schema(required = true)]
    pub created_by: Option<Creator>,
    #[serde(skip)]
    pub account_id: Option<AccountId>,
}

/// The member who made a key.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = KeyCreator)]
pub struct Creator {
    pub user_id: String,
    /// Their address when they made it.
    pub email: String,
    /// Whether they are still a member of the account: `false` flags a key that outlived its
    /// maker's access; `None` when the viewer may not list the members.
    #[schema(required = true)]
    pub member: Option<bool>,
}

impl ApiKey {
    pub fn usable(&self, now: UnixTime) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| now < at)
    }
}

/// A key just created: the only time its value exists outside the caller's hands.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NewKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// Shown once; store it now.
    #[serde(serialize_with = "expose")]
    #[schema(value_type = String)]
    pub secret: SecretString,
}

fn expose<S: serde::Serializer>(
    secret: &SecretString,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

/// Creates a key for an instance (not yet written: [`store::insert`] with the returned hash).
fn mint(
    account_id: Option<&AccountId>,
    instance_id: &InstanceId,
    environment: Environment,
    kind: Kind,
    name: &str,
    creator: Option<&Caller>,
    now: UnixTime,
) -> (NewKey, String) {
    let secret = random_secret(kind.prefix(environment), 32);
    let display_prefix: String = secret
        .expose_secret()
        .chars()
        .take(kind.prefix(environment).len() + 4)
        .collect();
    let key = ApiKey {
        id: new_id("key"),
        account_id: account_id.cloned(),
        instance_id: instance_id.clone(),
        environment: environment.as_str().to_owned(),
        kind: kind.as_str().to_owned(),
        name: name.to_owned(),
        display_prefix,
        created_at: now,
        last_used_at: None,
        expires_at: None,
        revoked_at: None,
        replaced_by: None,
        created_by: creator.map(|caller| Creator {
            user_id: caller.user_id.clone(),
            email: caller.email.clone(),
            member: None,
        }),
    };
    let hash = sha256_hex(secret.expose_secret());
    (NewKey { key, secret }, hash)
}

/// Creates and stores a key for an instance.
pub async fn create<'c, E>(
    executor: E,
    account_id: Option<&AccountId>,
    instance_id: &InstanceId,
    environment: Environment,
    kind: Kind,
    name: &str,
    now: UnixTime,
) -> sqlx::Result<NewKey>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let (key, hash) = mint(account_id, instance_id, environment, kind, name, None, now);
    store::insert(executor, &key.key, &hash).await?;
    Ok(key)
}

/// The longest a rotated key may keep working.
pub const MAX_GRACE_SECS: i64 = 30 * 24 * 3600;
pub const DEFAULT_GRACE_SECS: i64 = 24 * 3600;

/// A secret key outlives the session that makes it: only a recent sign-in may mint one.
fn recent_sign_in(app: &App, caller: &Caller) -> Result<()> {
    caller.ensure_recent_sign_in(app.clock.now())
}

/// The account's keys, each creator marked by whether they are still a member (when the
/// caller may list the members).
pub async fn list(
    app: &App,
    caller: &Caller,
    account: &crate::accounts::Account,
) -> Result<Vec<ApiKey>> {
    let mut keys = store::of_account(&app.db, &account.id).await?;
    if keys.iter().any(|k| k.created_by.is_some())
        && let Some(members) = app
            .platform
            .member_ids(&app.http, caller, &account.organization_id)
            .await?
    {
        for creator in keys.iter_mut().filter_map(|k| k.created_by.as_mut()) {
            creator.member = Some(members.contains(&creator.user_id));
        }
    }
    Ok(keys)
}

/// Creates a key for the account's instance in `environment`, made by `caller` (a secret key
/// only after a recent sign-in).
pub async fn create_for_account(
    app: &AppState,
    account_id: &AccountId,
    caller: &Caller,
    name: &str,
    environment: Environment,
    kind: Kind,
) -> Result<NewKey> {
    if kind == Kind::Secret {
        recent_sign_in(app, caller)?;
    }
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("name: 1 to 100 characters"));
    }
    let instance = crate::instances::of_account(&app.db, account_id)
        .await?
        .into_iter()
        .find(|i| i.environment == environment && i.state != InstanceState::Deleting)
        .ok_or_else(|| {
            Error::Conflict(format!(
                "the account has no {environment} instance; subscribe to a plan first"
            ))
        })?;
    let now = app.clock.now();
    let (key, hash) = mint(
        Some(account_id),
        &instance.id,
        environment,
        kind,
        name,
        Some(caller),
        now,
    );
    let mut tx = app.db.begin_write().await?;
    store::insert(&mut *tx, &key.key, &hash).await?;
    audit::record(
        &mut *tx,
        now,
        Some(account_id),
        Actor::User(&caller.user_id),
        "key.created",
        Some(&key.key.id),
        serde_json::json!({ "name": name, "kind": kind.as_str(), "environment": environment.as_str() }),
    )
    .await?;
    let data = serde_json::json!({ "key_id": key.key.id, "name": name, "kind": kind.as_str() });
    crate::account_webhooks::record_for_instance(&mut tx, now, &instance, "key.created", data)
        .await?;
    changes::record(&mut *tx, now).await?;
    tx.commit().await?;
    Ok(key)
}

/// Replaces `key_id` with a new key made by `caller`; the old one works for `grace` seconds.
pub async fn rotate(
    app: &App,
    account_id: &AccountId,
    caller: &Caller,
    key_id: &str,
    grace: i64,
) -> Result<NewKey> {
    if !(0..=MAX_GRACE_SECS).contains(&grace) {
        return Err(Error::invalid(format!(
            "grace_period_secs: 0 to {MAX_GRACE_SECS}"
        )));
    }
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    let old = store::find(&mut *tx, key_id)
        .await?
        .filter(|k| k.account_id.as_ref() == Some(account_id))
        .ok_or(Error::NotFound("key"))?;
    if !old.usable(now) || old.replaced_by.is_some() {
        return Err(Error::Conflict(
            "this key is revoked, expired or already rotated".into(),
        ));
    }
    let environment = Environment::parse(&old.environment).ok_or(Error::NotFound("key"))?;
    let kind = if old.kind == "secret" {
        recent_sign_in(app, caller)?;
        Kind::Secret
    } else {
        Kind::Publishable
    };
    let (new, hash) = mint(
        Some(account_id),
        &old.instance_id,
        environment,
        kind,
        &old.name,
        Some(caller),
        now,
    );
    store::insert(&mut *tx, &new.key, &hash).await?;
    store::retire(&mut *tx, &old.id, now + grace, &new.key.id).await?;
    audit::record(
        &mut *tx,
        now,
        Some(account_id),
        Actor::User(&caller.user_id),
        "key.rotated",
        Some(&old.id),
        serde_json::json!({ "new_key_id": new.key.id, "grace_period_secs": grace }),
    )
    .await?;
    let data = serde_json::json!({ "key_id": old.id, "new_key_id": new.key.id, "instance_id": old.instance_id, "environment": environment.as_str(), "grace_period_secs": grace });
    crate::account_webhooks::record(&mut tx, now, account_id, "key.rotated", data).await?;
    changes::record(&mut *tx, now).await?;
    tx.commit().await?;
    Ok(new)
}

/// Revokes `key_id` at once (again is a no-op).
pub async fn revoke(
    app: &App,
    account_id: &AccountId,
    caller: &Caller,
    key_id: &str,
) -> Result<()> {
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    let key = store::find(&mut *tx, key_id)
        .await?
        .filter(|k| k.account_id.as_ref() == Some(account_id))
        .ok_or(Error::NotFound("key"))?;
    if key.revoked_at.is_none() {
        store::revoke(&mut *tx, &key.id, now).await?;
        audit::record(
            &mut *tx,
            now,
            Some(account_id),
            Actor::User(&caller.user_id),
            "key.revoked",
            Some(&key.id),
            serde_json::Value::Null,
        )
        .await?;
        let data = serde_json::json!({ "key_id": key.id, "instance_id": key.instance_id, "environment": key.environment });
        crate::account_webhooks::record(&mut tx, now, account_id, "key.revoked", data).await?;
        changes::record(&mut *tx, now).await?;
    }
    tx.commit().await?;
    Ok(())
}
