//! API keys. Publishable keys (`ask_live_…`, `ask_test_…`) identify an instance and its
//! environment and are safe in a browser; secret keys (`ask_secret_live_…`, `ask_secret_test_…`)
//! call the instance's admin API from a server. 256 random bits each; only the SHA-256 is
//! stored and the key is shown once. Rotation issues a new key and lets the old one work for a
//! grace period; revocation reaches the gateway within its poll interval (200 ms).

pub mod routes;

use authstack_instance::clock::UnixTime;
use authstack_instance::crypto::{random_secret, sha256_hex};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::{Db, new_id};
use crate::provisioner::Environment;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
#[derive(Debug, Clone, Serialize)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub environment: String,
    pub instance_id: String,
    /// The key's first characters, to recognise it.
    pub display_prefix: String,
    #[serde(serialize_with = "crate::http::time")]
    pub created_at: UnixTime,
    #[serde(serialize_with = "crate::http::optional_time")]
    pub last_used_at: Option<UnixTime>,
    /// Set by rotation: the key stops working then.
    #[serde(serialize_with = "crate::http::optional_time")]
    pub expires_at: Option<UnixTime>,
    #[serde(serialize_with = "crate::http::optional_time")]
    pub revoked_at: Option<UnixTime>,
    pub replaced_by: Option<String>,
    #[serde(skip)]
    pub account_id: Option<String>,
}

const COLUMNS: &str = "id, account_id, instance_id, environment, kind, name, display_prefix, created_at, \
    last_used_at, expires_at, revoked_at, replaced_by";

impl ApiKey {
    fn from_row(row: &AnyRow) -> sqlx::Result<ApiKey> {
        Ok(ApiKey {
            id: row.try_get("id")?,
            account_id: row.try_get("account_id")?,
            instance_id: row.try_get("instance_id")?,
            environment: row.try_get("environment")?,
            kind: row.try_get("kind")?,
            name: row.try_get("name")?,
            display_prefix: row.try_get("display_prefix")?,
            created_at: row.try_get("created_at")?,
            last_used_at: row.try_get("last_used_at")?,
            expires_at: row.try_get("expires_at")?,
            revoked_at: row.try_get("revoked_at")?,
            replaced_by: row.try_get("replaced_by")?,
        })
    }

    pub fn usable(&self, now: UnixTime) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|at| now < at)
    }
}

/// A key just created: the only time its value exists outside the caller's hands.
#[derive(Serialize)]
pub struct NewKey {
    #[serde(flatten)]
    pub key: ApiKey,
    /// Shown once; store it now.
    #[serde(serialize_with = "expose")]
    pub secret: SecretString,
}

fn expose<S: serde::Serializer>(secret: &SecretString, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(secret.expose_secret())
}

/// Creates a key for an instance.
#[allow(clippy::too_many_arguments)]
pub async fn create<'c, E>(
    executor: E,
    account_id: Option<&str>,
    instance_id: &str,
    environment: Environment,
    kind: Kind,
    name: &str,
    now: UnixTime,
) -> sqlx::Result<NewKey>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let secret = random_secret(kind.prefix(environment), 32);
    let display_prefix: String = secret
        .expose_secret()
        .chars()
        .take(kind.prefix(environment).len() + 4)
        .collect();
    let key = ApiKey {
        id: new_id("key"),
        account_id: account_id.map(str::to_owned),
        instance_id: instance_id.to_owned(),
        environment: environment.as_str().to_owned(),
        kind: kind.as_str().to_owned(),
        name: name.to_owned(),
        display_prefix,
        created_at: now,
        last_used_at: None,
        expires_at: None,
        revoked_at: None,
        replaced_by: None,
    };
    sqlx::query(
        "INSERT INTO api_keys (id, account_id, instance_id, environment, kind, name, display_prefix, hash, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&key.id)
    .bind(account_id)
    .bind(instance_id)
    .bind(&key.environment)
    .bind(&key.kind)
    .bind(name)
    .bind(&key.display_prefix)
    .bind(sha256_hex(secret.expose_secret()))
    .bind(now)
    .execute(executor)
    .await?;
    Ok(NewKey { key, secret })
}

pub async fn of_account(db: &Db, account_id: &str) -> sqlx::Result<Vec<ApiKey>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM api_keys WHERE account_id = $1 ORDER BY created_at, id"
    ))
    .bind(account_id)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(ApiKey::from_row).collect()
}

pub async fn find<'c, E>(executor: E, id: &str) -> sqlx::Result<Option<ApiKey>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1"))
        .bind(id)
        .fetch_optional(executor)
        .await?;
    row.as_ref().map(ApiKey::from_row).transpose()
}
