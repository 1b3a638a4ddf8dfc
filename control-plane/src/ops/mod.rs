//! For platform operators: every instance across regions with its state, revision and last
//! error, and a way to make the control plane reconcile one now. Operators authenticate with
//! an operator key (`ask_ops_…`), created at first start and written to `DATA_DIR/ops.key`
//! (mode 0600) for the `authstack instances` CLI; only its SHA-256 is kept in the database.

use std::path::Path;

use authstack_instance::crypto::{constant_time_eq, random_secret, sha256_hex, write_private_file};
use axum::extract::{FromRequestParts, Path as UrlPath, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::audit::{self, Actor};
use crate::db::Db;
use crate::error::{Error, ErrorBody, Result};
use crate::ids::InstanceId;
use crate::instances::{self, Instance};
use crate::platform::Caller;
use crate::{App, AppState};

pub const OPS_KEY_FILE: &str = "ops.key";

/// Creates the operator key on first start.
pub async fn ensure_operator_key(db: &Db, data_dir: &Path) -> anyhow::Result<()> {
    if crate::meta::get(db, crate::meta::Key::OpsKeyHash)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let key = random_secret("ask_ops_", 32);
    write_private_file(&data_dir.join(OPS_KEY_FILE), key.expose_secret().as_bytes())?;
    crate::meta::set(
        db,
        crate::meta::Key::OpsKeyHash,
        &sha256_hex(key.expose_secret()),
    )
    .await?;
    Ok(())
}

/// A request of a platform operator: the operator key, or the access token of a platform user
/// whose verified address is one of `operator_emails`.
pub struct Operator {
    /// The platform user, when not the operator key.
    pub user_id: Option<String>,
}

impl FromRequestParts<AppState> for Operator {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self> {
        let presented = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(Error::Unauthorized("an operator key is required"))?;
        if !presented.starts_with("ask_ops_") {
            let caller = app.platform.verify(&app.http, presented).await?;
            return if is_operator(app, &caller) {
                Ok(Operator {
                    user_id: Some(caller.user_id),
                })
            } else {
                Err(Error::Forbidden(
                    "only platform operators may do this".into(),
                ))
            };
        }
        let expected = crate::meta::get(&app.db, crate::meta::Key::OpsKeyHash)
            .await?
            .ok_or(Error::Unauthorized("an operator key is required"))?;
        if constant_time_eq(sha256_hex(presented).as_bytes(), expected.as_bytes()) {
            Ok(Operator { user_id: None })
        } else {
            Err(Error::Unauthorized("the operator key is not valid"))
        }
    }
}

/// Whether a platform user is an operator: a verified address listed in `operator_emails`.
pub fn is_operator(app: &App, caller: &Caller) -> bool {
    caller.email_verified
        && app
            .config
            .operator_emails
            .iter()
            .any(|e| e.eq_ignore_ascii_case(&caller.email))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    user_id: String,
    email: String,
    operator: bool,
}

/// `GET /v1/me`: who the token is and whether the dashboard should offer the Ops page.
#[utoipa::path(get, path = "/v1/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = Me)))]
pub async fn me(State(app): State<AppState>, caller: Caller) -> axum::Json<Me> {
    axum::Json(Me {
        operator: is_operator(&app, &caller),
        user_id: caller.user_id,
        email: caller.email,
    })
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OpsInstance {
    #[serde(flatten)]
    instance: Instance,
    endpoint: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct OpsInstances {
    data: Vec<OpsInstance>,
}

/// Every instance across regions, for platform operators (the operator key `ask_ops_…`, or the
/// token of a platform user whose verified address is an operator's).
#[utoipa::path(get, path = "/v1/ops/instances", tag = "ops", security(("bearer" = [])),
    responses((status = 200, body = OpsInstances),
        (status = 403, description = "The caller is not a platform operator (`forbidden`).", body = ErrorBody)))]
pub async fn list(
    State(app): State<AppState>,
    _operator: Operator,
) -> Result<axum::Json<OpsInstances>> {
    let data = instances::all(&app.db)
        .await?
        .into_iter()
        .map(|instance| OpsInstance {
            endpoint: instance.endpoint.clone(),
            instance,
        })
        .collect();
    Ok(axum::Json(OpsInstances { data }))
}

/// Makes the control plane reconcile an instance now (a failed one at once).
#[utoipa::path(post, path = "/v1/ops/instances/{id}/reconcile", tag = "ops", security(("bearer" = [])),
    params(("id" = String, Path, description = "The instance id (`ins_…`).")),
    responses((status = 202, body = Instance),
        (status = 403, description = "The caller is not a platform operator (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such instance (`not_found`).", body = ErrorBody)))]
pub async fn reconcile(
    State(app): State<AppState>,
    operator: Operator,
    UrlPath(id): UrlPath<InstanceId>,
) -> Result<(StatusCode, axum::Json<Instance>)> {
    let instance = instances::find(&app.db, &id)
        .await?
        .ok_or(Error::NotFound("instance"))?;
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    if instance.state == instances::State::Failed {
        // Retry at once rather than after the usual back-off.
        instances::store::set_updated_at(&mut tx, &instance.id, now - 3600).await?;
    }
    instances::record_step(
        &mut *tx,
        &instance.id,
        now,
        "reconcile requested",
        Some("by an operator"),
    )
    .await?;
    audit::record(
        &mut *tx,
        now,
        instance.account_id.as_ref(),
        Actor::Operator,
        "instance.reconcile_requested",
        Some(&instance.id),
        serde_json::json!({ "by": operator.user_id }),
    )
    .await?;
    tx.commit().await?;
    app.reconciler.forget(&instance.id);
    Ok((StatusCode::ACCEPTED, axum::Json(instance)))
}

/// This module's routes.
pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(list))
        .routes(routes!(reconcile))
}
