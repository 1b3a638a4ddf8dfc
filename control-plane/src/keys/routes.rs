//! `GET/POST /v1/accounts/{id}/keys`, `POST .../keys/{key_id}/rotate`, `DELETE .../keys/{key_id}`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{ApiKey, Kind, NewKey};
use crate::audit::{self, Actor};
use crate::error::{Error, Json, Result};
use crate::gateway::changes;
use crate::instances::State as InstanceState;
use crate::platform::Caller;
use crate::provisioner::Environment;
use crate::{App, AppState};

/// The longest a rotated key may keep working.
const MAX_GRACE_SECS: i64 = 30 * 24 * 3600;
const DEFAULT_GRACE_SECS: i64 = 24 * 3600;

#[derive(Serialize)]
pub struct KeyList {
    data: Vec<ApiKey>,
}

pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<axum::Json<KeyList>> {
    let account = crate::accounts::authorize(&app, &caller, &id, "keys:read").await?;
    Ok(axum::Json(KeyList {
        data: super::of_account(&app.db, &account.id).await?,
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateKeyRequest {
    name: String,
    environment: Environment,
    kind: Kind,
}

pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(request): Json<CreateKeyRequest>,
) -> Result<(StatusCode, axum::Json<NewKey>)> {
    let account = crate::accounts::authorize(&app, &caller, &id, "keys:manage").await?;
    if request.kind == Kind::Secret {
        recent_sign_in(&app, &caller)?;
    }
    let key = create_key(
        &app,
        &account.id,
        Actor::User(&caller.user_id),
        &request.name,
        request.environment,
        request.kind,
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(key)))
}

/// How recent a sign-in must be to mint a secret key.
pub const RECENT_SIGN_IN_SECS: i64 = 10 * 60;

/// A secret key outlives the session that makes it: only a recent sign-in may mint one, so
/// that a stolen or stale session cannot.
fn recent_sign_in(app: &App, caller: &Caller) -> Result<()> {
    if app.clock.now() - caller.auth_time > RECENT_SIGN_IN_SECS {
        return Err(Error::ReauthenticationRequired);
    }
    Ok(())
}

/// Creates a key for the account's instance in `environment` (shared with `authstack dev`).
pub async fn create_key(
    app: &AppState,
    account_id: &str,
    actor: Actor<'_>,
    name: &str,
    environment: Environment,
    kind: Kind,
) -> Result<NewKey> {
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
    let mut tx = app.db.writer.begin().await?;
    let key = super::create(
        &mut *tx,
        Some(account_id),
        &instance.id,
        environment,
        kind,
        name,
        now,
    )
    .await?;
    audit::record(
        &mut *tx,
        now,
        Some(account_id),
        actor,
        "key.created",
        Some(&key.key.id),
        serde_json::json!({ "name": name, "kind": kind.as_str(), "environment": environment.as_str() }),
    )
    .await?;
    changes::record(&mut *tx, now).await?;
    tx.commit().await?;
    Ok(key)
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RotateRequest {
    /// How long the old key keeps working (0 = stop now); default one day, at most 30 days.
    grace_period_secs: Option<i64>,
}

pub async fn rotate(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, key_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, axum::Json<NewKey>)> {
    let account = crate::accounts::authorize(&app, &caller, &id, "keys:manage").await?;
    // The body is optional: an empty one means the default grace period.
    let request: RotateRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RotateRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| Error::invalid(format!("invalid JSON body: {e}")))?
    };
    let grace = request.grace_period_secs.unwrap_or(DEFAULT_GRACE_SECS);
    if !(0..=MAX_GRACE_SECS).contains(&grace) {
        return Err(Error::invalid(format!(
            "grace_period_secs: 0 to {MAX_GRACE_SECS}"
        )));
    }
    let now = app.clock.now();
    let mut tx = app.db.writer.begin().await?;
    let old = super::find(&mut *tx, &key_id)
        .await?
        .filter(|k| k.account_id.as_deref() == Some(account.id.as_str()))
        .ok_or(Error::NotFound("key"))?;
    if !old.usable(now) || old.replaced_by.is_some() {
        return Err(Error::Conflict(
            "this key is revoked, expired or already rotated".into(),
        ));
    }
    let environment = Environment::parse(&old.environment).ok_or(Error::NotFound("key"))?;
    let kind = if old.kind == "secret" {
        recent_sign_in(&app, &caller)?;
        Kind::Secret
    } else {
        Kind::Publishable
    };
    let new = super::create(
        &mut *tx,
        Some(&account.id),
        &old.instance_id,
        environment,
        kind,
        &old.name,
        now,
    )
    .await?;
    sqlx::query("UPDATE api_keys SET expires_at = $1, replaced_by = $2 WHERE id = $3")
        .bind(now + grace)
        .bind(&new.key.id)
        .bind(&old.id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut *tx,
        now,
        Some(&account.id),
        Actor::User(&caller.user_id),
        "key.rotated",
        Some(&old.id),
        serde_json::json!({ "new_key_id": new.key.id, "grace_period_secs": grace }),
    )
    .await?;
    changes::record(&mut *tx, now).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(new)))
}

pub async fn revoke(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, key_id)): Path<(String, String)>,
) -> Result<StatusCode> {
    let account = crate::accounts::authorize(&app, &caller, &id, "keys:manage").await?;
    let now = app.clock.now();
    let mut tx = app.db.writer.begin().await?;
    let key = super::find(&mut *tx, &key_id)
        .await?
        .filter(|k| k.account_id.as_deref() == Some(account.id.as_str()))
        .ok_or(Error::NotFound("key"))?;
    if key.revoked_at.is_none() {
        sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&key.id)
            .execute(&mut *tx)
            .await?;
        audit::record(
            &mut *tx,
            now,
            Some(&account.id),
            Actor::User(&caller.user_id),
            "key.revoked",
            Some(&key.id),
            serde_json::Value::Null,
        )
        .await?;
        changes::record(&mut *tx, now).await?;
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// This module's routes.
pub fn router() -> axum::Router<crate::AppState> {
    use axum::routing::{delete, get, post};
    axum::Router::new()
        .route("/v1/accounts/{id}/keys", get(list).post(create))
        .route("/v1/accounts/{id}/keys/{key_id}/rotate", post(rotate))
        .route("/v1/accounts/{id}/keys/{key_id}", delete(revoke))
}
