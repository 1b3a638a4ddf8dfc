//! `GET /v1/accounts/{id}/instances/{env}/usage`: the instance's own count of active users,
//! organizations and members (its admin API), against the plan's limits.

use authstack_instance::admin::usage::{DailyActive, OrganizationMembers, Usage as Measured};
use axum::extract::{Path, State};
use serde::Serialize;

use crate::AppState;
use crate::accounts::instance as instance_for;
use crate::error::{Error, ErrorBody, Result};
use crate::ids::AccountId;
use crate::platform::Caller;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Meter {
    used: i64,
    /// `null`: unlimited.
    #[schema(required = true)]
    limit: Option<u32>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MembersPerOrganization {
    #[schema(required = true)]
    limit: Option<u32>,
    /// Largest first, at most 100.
    data: Vec<OrganizationMembers>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = InstanceUsage)]
pub struct Usage {
    instance_id: crate::ids::InstanceId,
    #[schema(value_type = crate::provisioner::Environment)]
    environment: &'static str,
    plan: String,
    measured_at: String,
    users: i64,
    monthly_active_users: Meter,
    organizations: Meter,
    members_per_organization: MembersPerOrganization,
    daily_active_users: Vec<DailyActive>,
}

/// The instance's own count of users, active users, organizations and members, against the
/// plan's limits.
#[utoipa::path(get, path = "/v1/accounts/{id}/instances/{env}/usage", tag = "instances", operation_id = "usage", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`.")),
    responses((status = 200, body = Usage),
        (status = 400, description = "`env` is neither `live` nor `test` (`invalid_request`).", body = ErrorBody),
        (status = 404, description = "No such account, or it has no instance of that environment (`not_found`).", body = ErrorBody),
        (status = 409, description = "The instance is not running: suspended, still provisioning, failed or being deleted (`instance_not_running`).", body = ErrorBody),
        (status = 503, description = "The instance should be running but did not answer (`instance_unavailable`).", body = ErrorBody)))]
pub async fn get(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(AccountId, String)>,
) -> Result<axum::Json<Usage>> {
    let (_, instance) = instance_for(&app, &caller, &id, &env, "instances:read").await?;
    let response = instance
        .admin(&app, reqwest::Method::GET, "/v1/admin/usage")?
        .send()
        .await
        .map_err(|err| {
            tracing::warn!(instance_id = %instance.id, error = %err, "usage: the instance did not answer");
            Error::InstanceUnavailable
        })?;
    if !response.status().is_success() {
        tracing::warn!(instance_id = %instance.id, status = %response.status(), "usage: the instance refused");
        return Err(Error::InstanceUnavailable);
    }
    let answer: Measured = response.json().await.map_err(|err| {
        Error::Internal(anyhow::anyhow!(
            "the instance's usage is not readable: {err}"
        ))
    })?;
    let limits = app
        .config
        .catalog
        .plan(&instance.plan)
        .map(|plan| plan.limits.clone());
    let limit = |f: fn(&crate::catalog::PlanLimits) -> Option<u32>| limits.as_ref().and_then(f);
    Ok(axum::Json(Usage {
        instance_id: instance.id.clone(),
        environment: instance.environment.as_str(),
        plan: instance.plan.clone(),
        measured_at: answer.measured_at,
        users: answer.users,
        monthly_active_users: Meter {
            used: answer.monthly_active_users,
            limit: limit(|l| l.monthly_active_users),
        },
        organizations: Meter {
            used: answer.organizations,
            limit: limit(|l| l.organizations),
        },
        members_per_organization: MembersPerOrganization {
            limit: limit(|l| l.members_per_organization),
            data: answer.members_per_organization,
        },
        daily_active_users: answer.daily_active_users,
    }))
}
