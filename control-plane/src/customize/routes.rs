//! `/v1/accounts/{id}/instances/{env}/customizations`: propose (plan a prompt), list, show,
//! modify, approve (revision + deploy + verify) and cancel.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::planner::{self, Planned, Proposal};
use super::{Customization, Status};
use crate::accounts::Account;
use crate::accounts::instance as instance_for;
use crate::audit::{self, Actor};
use crate::error::{Error, ErrorBody, Result};
use crate::http::extract::{Json, Query};
use crate::ids::AccountId;
use crate::instances::Instance;
use crate::platform::Caller;
use crate::revisions::change::create_revision;
use crate::revisions::deploy::deploy;
use crate::revisions::diff::{Diff, diff};
use crate::revisions::{Outcome, Source};
use crate::{App, AppState};

#[derive(Serialize, utoipa::ToSchema)]
pub struct CustomizationView {
    #[serde(flatten)]
    customization: Customization,
    /// What the patch changes against the base revision (proposals only).
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<Diff>,
    /// The settings the patch changes that the instance does not act on yet: recorded only.
    #[schema(value_type = Vec<authstack_instance::capabilities::Setting>)]
    not_active: Vec<&'static authstack_instance::capabilities::Setting>,
    quota: Quota,
}

/// The inactive settings among those `patch` touches.
pub fn not_active(
    patch: &json_patch::Patch,
) -> Vec<&'static authstack_instance::capabilities::Setting> {
    let paths: Vec<String> = patch.0.iter().map(|op| op.path().to_string()).collect();
    authstack_instance::capabilities::inactive_among(paths.iter().map(String::as_str))
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = CustomizationQuota)]
pub struct Quota {
    /// Prompts sent this calendar month (UTC), this one included.
    used: i64,
    limit: u32,
}

async fn quota(app: &App, account: &Account, instance: &Instance) -> Result<Quota> {
    let limit = app
        .config
        .catalog
        .plan(&instance.plan)
        .map_or(0, |p| p.limits.customization_prompts_per_month);
    let since = super::month_start(app.clock.now());
    let used = super::store::prompts_since(&app.db, &account.id, since).await?;
    Ok(Quota { used, limit })
}

async fn present(
    app: &App,
    account: &Account,
    instance: &Instance,
    c: Customization,
) -> Result<CustomizationView> {
    let diff = match c.status {
        Status::Proposed => {
            let base = crate::revisions::find(&app.db, &instance.id, c.base_revision)
                .await?
                .ok_or(Error::NotFound("revision"))?;
            planner::apply(&base.config, &c.patch)
                .ok()
                .map(|after| diff(&base.config, &after))
        }
        _ => None,
    };
    Ok(CustomizationView {
        not_active: not_active(&c.patch),
        customization: c,
        diff,
        quota: quota(app, account, instance).await?,
    })
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeRequest {
    /// What to change, in plain words: at most 2000 characters, not blank.
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    prompt: String,
}

/// Plans a prompt against the instance's wanted revision: a proposal to approve (201), or the
/// planner's refusal (200). Each prompt counts against the plan's monthly quota.
#[utoipa::path(post, path = "/v1/accounts/{id}/instances/{env}/customizations", tag = "customizations",
    request_body = ProposeRequest, security(("bearer" = [])), params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`.")),
    responses((status = 201, description = "A proposal.", body = CustomizationView),
        (status = 200, description = "The planner refused the prompt.", body = CustomizationView),
        (status = 400, description = "A blank or too long prompt, or `env` is neither `live` nor `test` (`invalid_request`).", body = ErrorBody),
        (status = 404, description = "No such account, instance or customization (`not_found`).", body = ErrorBody),
        (status = 429, description = "The plan's prompts this month are used (`quota_exceeded`).", body = ErrorBody),
        (status = 502, description = "The planner failed (`bad_gateway`).", body = ErrorBody)))]
pub async fn propose(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(AccountId, String)>,
    Json(request): Json<ProposeRequest>,
) -> Result<Response> {
    let (account, instance) = instance_for(&app, &caller, &id, &env, "instances:manage").await?;
    let prompt = super::check_prompt(&request.prompt)?;
    let used = quota(&app, &account, &instance).await?;
    if used.used >= i64::from(used.limit) {
        return Err(Error::QuotaExceeded(format!(
            "the {} plan includes {} customization prompts a month, all used; they renew on the 1st",
            instance.plan, used.limit
        )));
    }
    let (base_revision, planned) = super::plan(&app, &instance, prompt).await?;
    let now = app.clock.now();
    let (status, proposal, result) = match planned {
        Planned::Proposal(proposal) => (Status::Proposed, proposal, None),
        Planned::Unsupported { message } => (
            Status::Refused,
            Proposal {
                patch: json_patch::Patch(Vec::new()),
                summary: String::new(),
                security_notes: Vec::new(),
            },
            Some(message),
        ),
    };
    let customization = Customization {
        id: crate::db::new_id("cus"),
        instance_id: instance.id.clone(),
        account_id: account.id.clone(),
        prompt: prompt.to_owned(),
        planner: app.planner.name().to_owned(),
        status,
        patch: proposal.patch,
        summary: proposal.summary,
        security_notes: proposal.security_notes,
        base_revision,
        revision: None,
        result,
        author: caller.user_id.clone(),
        created_at: now,
        updated_at: now,
    };
    let mut tx = app.db.begin_write().await?;
    super::store::insert(&mut *tx, &customization).await?;
    record(&mut tx, &account, &caller, &customization, now).await?;
    tx.commit().await?;
    let status = if customization.status == Status::Proposed {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        axum::Json(present(&app, &account, &instance, customization).await?),
    )
        .into_response())
}

/// Audits a customization's step (`customization.proposed`, `.refused`, `.deployed`, ...).
async fn record(
    tx: &mut sqlx::AnyConnection,
    account: &Account,
    caller: &Caller,
    c: &Customization,
    now: i64,
) -> Result<()> {
    audit::record(
        &mut *tx,
        now,
        Some(&account.id),
        Actor::User(&caller.user_id),
        &format!("customization.{}", c.status.as_str()),
        Some(&c.instance_id),
        serde_json::json!({
            "customization": c.id,
            "prompt": c.prompt,
            "planner": c.planner,
            "summary": c.summary,
            "revision": c.revision,
            "result": c.result,
        }),
    )
    .await?;
    Ok(())
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct CustomizationList {
    data: Vec<Customization>,
    quota: Quota,
}

/// The instance's customizations, newest first (at most 100), and the month's quota.
#[utoipa::path(get, path = "/v1/accounts/{id}/instances/{env}/customizations", tag = "customizations",
    security(("bearer" = [])), params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`.")),
    responses((status = 200, body = CustomizationList), (status = 400, description = "`env` is neither `live` nor `test` (`invalid_request`).", body = ErrorBody), (status = 404, description = "No such account, instance or customization (`not_found`).", body = ErrorBody)))]
pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(AccountId, String)>,
) -> Result<axum::Json<CustomizationList>> {
    let (account, instance) = instance_for(&app, &caller, &id, &env, "instances:read").await?;
    Ok(axum::Json(CustomizationList {
        data: super::store::list(&app.db, &instance.id, 100).await?,
        quota: quota(&app, &account, &instance).await?,
    }))
}

async fn proposed(
    app: &App,
    caller: &Caller,
    id: &AccountId,
    env: &str,
    cid: &str,
    permission: &str,
) -> Result<(Account, Instance, Customization)> {
    let (account, instance) = instance_for(app, caller, id, env, permission).await?;
    let c = super::store::find(&app.db, &instance.id, cid)
        .await?
        .ok_or(Error::NotFound("customization"))?;
    Ok((account, instance, c))
}

/// One customization (a proposal with its diff).
#[utoipa::path(get, path = "/v1/accounts/{id}/instances/{env}/customizations/{customization_id}", tag = "customizations",
    security(("bearer" = [])), params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`."), ("customization_id" = String, Path, description = "The customization id (`cus_…`).")),
    responses((status = 200, body = CustomizationView), (status = 400, description = "`env` is neither `live` nor `test` (`invalid_request`).", body = ErrorBody), (status = 404, description = "No such account, instance or customization (`not_found`).", body = ErrorBody)))]
pub async fn get(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env, cid)): Path<(AccountId, String, String)>,
) -> Result<axum::Json<CustomizationView>> {
    let (account, instance, c) = proposed(&app, &caller, &id, &env, &cid, "instances:read").await?;
    Ok(axum::Json(present(&app, &account, &instance, c).await?))
}

fn ensure_proposed(c: &Customization) -> Result<()> {
    if c.status == Status::Proposed {
        Ok(())
    } else {
        Err(Error::Conflict(format!(
            "the customization is {}, not proposed",
            c.status.as_str()
        )))
    }
}

/// Modify: a new prompt is planned again (it counts against the quota), or a patch edited by
/// hand replaces the proposal's.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ModifyCustomizationRequest)]
pub struct ModifyRequest {
    /// A new prompt, planned again: at most 2000 characters, not blank.
    #[schema(min_length = 1, max_length = 2000, pattern = r"\S")]
    prompt: Option<String>,
    /// A JSON Patch edited by hand.
    #[schema(value_type = Option<Vec<crate::revisions::routes::JsonPatchOperation>>)]
    patch: Option<json_patch::Patch>,
}

/// Plans a new prompt for a proposal, or replaces its patch by one edited by hand: exactly one
/// of `prompt` and `patch`.
#[utoipa::path(post, path = "/v1/accounts/{id}/instances/{env}/customizations/{customization_id}/modify", tag = "customizations",
    request_body = ModifyRequest, security(("bearer" = [])), params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`."), ("customization_id" = String, Path, description = "The customization id (`cus_…`).")),
    responses((status = 200, body = CustomizationView),
        (status = 400, description = "Neither or both of `prompt` and `patch`, an unchanged proposal, or a bad prompt (`invalid_request`).", body = ErrorBody),
        (status = 404, description = "No such account, instance or customization (`not_found`).", body = ErrorBody), (status = 409, description = "The customization is no longer proposed (`conflict`).", body = ErrorBody),
        (status = 422, description = "The patch makes an invalid configuration (`invalid_config`).", body = ErrorBody),
        (status = 429, description = "The plan's prompts this month are used (`quota_exceeded`).", body = ErrorBody),
        (status = 502, description = "The planner failed (`bad_gateway`).", body = ErrorBody)))]
pub async fn modify(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env, cid)): Path<(AccountId, String, String)>,
    Json(request): Json<ModifyRequest>,
) -> Result<Response> {
    let (account, instance, mut c) =
        proposed(&app, &caller, &id, &env, &cid, "instances:manage").await?;
    ensure_proposed(&c)?;
    let now = app.clock.now();
    match (request.prompt, request.patch) {
        (Some(prompt), None) => {
            let prompt = super::check_prompt(&prompt)?.to_owned();
            let used = quota(&app, &account, &instance).await?;
            if used.used >= i64::from(used.limit) {
                return Err(Error::QuotaExceeded(format!(
                    "the {} plan's {} customization prompts this month are used",
                    instance.plan, used.limit
                )));
            }
            let (base_revision, planned, planned_prompt) =
                super::plan_follow_up(&app, &instance, &c, &prompt).await?;
            match planned {
                Planned::Proposal(proposal) => {
                    c.patch = proposal.patch;
                    c.summary = proposal.summary;
                    c.security_notes = proposal.security_notes;
                    c.base_revision = base_revision;
                    c.prompt = planned_prompt;
                }
                Planned::Unsupported { message } => {
                    return Err(Error::invalid(format!(
                        "the proposal is unchanged: {message}"
                    )));
                }
            }
        }
        (None, Some(patch)) => {
            let base = crate::revisions::find(&app.db, &instance.id, c.base_revision)
                .await?
                .ok_or(Error::NotFound("revision"))?;
            let summary = format!("{} (modified by hand)", c.summary);
            let proposal = Proposal::checked(&base.config, patch, summary, Vec::new())
                .map_err(Error::InvalidConfig)?;
            c.patch = proposal.patch;
            c.summary = proposal.summary;
            c.security_notes = proposal.security_notes;
        }
        _ => return Err(Error::invalid("send either prompt or patch")),
    }
    c.updated_at = now;
    let mut tx = app.db.begin_write().await?;
    super::store::update(&mut *tx, &c).await?;
    audit::record(
        &mut *tx,
        now,
        Some(&account.id),
        Actor::User(&caller.user_id),
        "customization.modified",
        Some(&instance.id),
        serde_json::json!({ "customization": c.id, "prompt": c.prompt, "summary": c.summary }),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(present(&app, &account, &instance, c).await?).into_response())
}

/// Cancels a proposal; nothing changes.
#[utoipa::path(post, path = "/v1/accounts/{id}/instances/{env}/customizations/{customization_id}/cancel", tag = "customizations",
    security(("bearer" = [])), params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`."), ("customization_id" = String, Path, description = "The customization id (`cus_…`).")),
    responses((status = 200, body = CustomizationView), (status = 400, description = "`env` is neither `live` nor `test` (`invalid_request`).", body = ErrorBody), (status = 404, description = "No such account, instance or customization (`not_found`).", body = ErrorBody), (status = 409, description = "The customization is no longer proposed (`conflict`).", body = ErrorBody)))]
pub async fn cancel(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env, cid)): Path<(AccountId, String, String)>,
) -> Result<axum::Json<CustomizationView>> {
    let (account, instance, mut c) =
        proposed(&app, &caller, &id, &env, &cid, "instances:manage").await?;
    ensure_proposed(&c)?;
    let now = app.clock.now();
    c.status = Status::Cancelled;
    c.result = Some("cancelled; nothing was changed".into());
    c.updated_at = now;
    let mut tx = app.db.begin_write().await?;
    super::store::update(&mut *tx, &c).await?;
    record(&mut tx, &account, &caller, &c, now).await?;
    tx.commit().await?;
    Ok(axum::Json(present(&app, &account, &instance, c).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ApproveQuery {
    /// Wait for the deployment and the verification (default); `false` answers at once.
    wait: Option<bool>,
}

/// Approve: the patch becomes a new revision (re-applied to the wanted revision if that moved
/// on since the proposal), which is deployed, then verified: the instance is ready at that
/// revision and its public configuration matches the new configuration.
/// Approves a proposal: a new revision, deployed, then verified.
#[utoipa::path(post, path = "/v1/accounts/{id}/instances/{env}/customizations/{customization_id}/approve", tag = "customizations",
    security(("bearer" = [])), params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`."), ("customization_id" = String, Path, description = "The customization id (`cus_…`)."), ApproveQuery),
    responses((status = 200, description = "Deployed and verified, or failed.", body = CustomizationView),
        (status = 202, description = "Deploying (`wait=false`).", body = CustomizationView),
        (status = 400, description = "`env` is neither `live` nor `test` (`invalid_request`).", body = ErrorBody), (status = 404, description = "No such account, instance or customization (`not_found`).", body = ErrorBody),
        (status = 409, description = "Not proposed, nothing to deploy, or the instance is not running (`conflict`).", body = ErrorBody),
        (status = 422, description = "The patch makes an invalid configuration (`invalid_config`).", body = ErrorBody)))]
pub async fn approve(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env, cid)): Path<(AccountId, String, String)>,
    Query(query): Query<ApproveQuery>,
) -> Result<Response> {
    let (account, instance, mut c) =
        proposed(&app, &caller, &id, &env, &cid, "instances:manage").await?;
    ensure_proposed(&c)?;
    let plan = app.config.catalog.plan(&instance.plan);
    let base = crate::revisions::wanted(&app.db, &instance, plan).await?;
    let config = planner::apply(&base.config, &c.patch).map_err(Error::InvalidConfig)?;
    crate::revisions::check(&config, plan).map_err(Error::InvalidConfig)?;
    if config == base.config {
        return Err(Error::Conflict(format!(
            "nothing to deploy: revision {} already has this configuration",
            base.number
        )));
    }
    let summary = format!("{} (customization: \"{}\")", c.summary, c.prompt);
    let number = create_revision(
        &app,
        &account,
        &instance,
        &config,
        &summary,
        Source::Customization,
        &caller.user_id,
    )
    .await?;
    let now = app.clock.now();
    c.status = Status::Deploying;
    c.revision = Some(number);
    c.updated_at = now;
    super::store::update(&app.db.writer, &c).await?;
    let wait = query.wait.unwrap_or(true);
    let deployment = deploy(&app, &account, &instance, number, &caller.user_id, wait).await?;
    if !wait {
        return Ok((
            StatusCode::ACCEPTED,
            axum::Json(present(&app, &account, &instance, c).await?),
        )
            .into_response());
    }
    let inactive = not_active(&c.patch);
    let active_changes = c
        .patch
        .0
        .iter()
        .any(|op| authstack_instance::capabilities::is_active(op.path().as_ref()));
    let (status, result) = match deployment.outcome {
        Outcome::Deployed => match super::verify(&app, &instance, &config).await {
            // Nothing is claimed for a setting the instance does not act on.
            Ok(()) if !inactive.is_empty() => {
                let labels: Vec<&str> = inactive.iter().map(|s| s.label).collect();
                let recorded = format!(
                    "{} recorded; this instance does not act on {} yet, so users see no \
                     change from {}.",
                    if labels.len() == 1 { "is" } else { "are" },
                    if labels.len() == 1 { "it" } else { "them" },
                    if labels.len() == 1 { "it" } else { "them" },
                );
                let names = super::join_list(&labels, "and");
                (
                    Status::Deployed,
                    if active_changes {
                        format!(
                            "Revision {number} is live on the {} instance; the rest of the change is \
                             in effect. {names} {recorded}",
                            instance.environment
                        )
                    } else {
                        format!(
                            "Revision {number} is deployed to the {} instance. {names} {recorded}",
                            instance.environment
                        )
                    },
                )
            }
            Ok(()) => (
                Status::Deployed,
                format!(
                    "Done: revision {number} is live on the {} instance and the change is in effect ({}).",
                    instance.environment, c.summary
                ),
            ),
            Err(problem) => (
                Status::Failed,
                format!("Revision {number} is deployed but the check failed: {problem}"),
            ),
        },
        Outcome::Failed => (
            Status::Failed,
            format!(
                "Revision {number} failed its health checks and the instance went back to revision {}: {}",
                deployment
                    .current_revision
                    .map_or("-".into(), |r| r.to_string()),
                deployment.detail.unwrap_or_default()
            ),
        ),
        Outcome::Pending | Outcome::Deploying => (
            Status::Deploying,
            format!("Revision {number} is still rolling out; check the instance's progress."),
        ),
    };
    let now = app.clock.now();
    c.status = status;
    c.result = Some(result);
    c.updated_at = now;
    let mut tx = app.db.begin_write().await?;
    super::store::update(&mut *tx, &c).await?;
    record(&mut tx, &account, &caller, &c, now).await?;
    tx.commit().await?;
    Ok(axum::Json(present(&app, &account, &instance, c).await?).into_response())
}

/// This module's routes.
pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list, propose))
        .routes(routes!(self::get))
        .routes(routes!(modify))
        .routes(routes!(approve))
        .routes(routes!(cancel))
}
