//! `/v1/organizations/{id}/members`: listing members, changing roles, removing members.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Access, enter, store};
use crate::AppState;
use crate::audit::{self, AuditEvent};
use crate::clock::rfc3339;
use crate::error::{Error, ErrorBody, Result};
use crate::http::pagination::{page_size, split_page};
use crate::http::{Caller, Client, Json, Query};
use crate::rbac::{OWNER, Role, ensure_may_grant};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_members))
        .routes(routes!(update_member, remove_member))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct MembersQuery {
    /// Matches email or name, case-insensitively.
    search: Option<String>,
    /// Only members with this role key.
    role: Option<String>,
    cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberUser {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Member {
    pub membership_id: String,
    pub user: MemberUser,
    pub role: String,
    #[schema(format = DateTime)]
    pub joined_at: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MemberPage {
    pub data: Vec<Member>,
    pub next_cursor: Option<String>,
}

/// Members in join order, with search, role filter and cursor pagination (needs `members:read`).
#[utoipa::path(get, path = "/v1/organizations/{id}/members", tag = "members", security(("bearer" = [])),
    params(("id" = String, Path), MembersQuery),
    responses((status = 200, body = MemberPage), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_members(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path(id): Path<String>,
    Query(q): Query<MembersQuery>,
) -> Result<axum::Json<MemberPage>> {
    let limit = page_size(q.limit, 50, 200)?;
    let (mut tx, _) = enter(&app, &id, false, &caller, &client, Some("members:read")).await?;
    let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let rows = store::list_members(
        &mut tx,
        &id,
        search,
        q.role.as_deref(),
        q.cursor.as_deref(),
        limit + 1,
    )
    .await?;
    tx.commit().await?;
    let (rows, next_cursor) = split_page(rows, limit, |r| r.membership.id.clone());
    let data = rows
        .into_iter()
        .map(|r| Member {
            membership_id: r.membership.id,
            user: MemberUser {
                id: r.membership.user_id,
                email: r.email,
                name: r.name,
            },
            role: r.membership.role,
            joined_at: rfc3339(r.membership.created_at),
        })
        .collect();
    Ok(axum::Json(MemberPage { data, next_cursor }))
}

/// The role a member holds now, for the guardrail (`404` when not a member).
async fn target_role(
    app: &AppState,
    tx: &mut AnyConnection,
    org_id: &str,
    user_id: &str,
) -> Result<Role> {
    let membership = store::find_membership(tx, org_id, user_id)
        .await?
        .ok_or(Error::NotFound("member"))?;
    crate::rbac::store::resolve(app, tx, org_id, &membership.role)
        .await?
        .ok_or_else(|| anyhow::anyhow!("membership {} has an unknown role", membership.id).into())
}

/// Resolves a role key given in a request (`400` when it does not exist in the organization).
pub async fn requested_role(
    app: &AppState,
    tx: &mut AnyConnection,
    org_id: &str,
    key: &str,
) -> Result<Role> {
    crate::rbac::store::resolve(app, tx, org_id, key)
        .await?
        .ok_or_else(|| Error::invalid(format!("role {key} does not exist in this organization")))
}

/// The guardrail for acting on another member: not on yourself, and not on anyone whose role
/// holds permissions you do not.
fn ensure_may_manage(actor: &Access, target_user: &str, target: &Role, what: &str) -> Result<()> {
    if target_user == actor.actor_id {
        return Err(Error::Forbidden(
            "you cannot change your own role or remove yourself this way; use leave",
        ));
    }
    ensure_may_grant(&actor.role.permissions, &target.permissions, what)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMemberRequest {
    /// A built-in role (`owner`, `admin`, `member`, `viewer`) or a custom role's key.
    role: String,
}

/// Change a member's role (needs `members:update`; nobody can change their own role, or grant a
/// role with permissions they do not hold).
#[utoipa::path(patch, path = "/v1/organizations/{id}/members/{user_id}", tag = "members", security(("bearer" = [])),
    params(("id" = String, Path), ("user_id" = String, Path)), request_body = UpdateMemberRequest,
    responses((status = 200, body = Member), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn update_member(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path((id, user_id)): Path<(String, String)>,
    Json(req): Json<UpdateMemberRequest>,
) -> Result<axum::Json<Member>> {
    let (mut tx, actor) = enter(&app, &id, true, &caller, &client, Some("members:update")).await?;
    let current = target_role(&app, &mut tx, &id, &user_id).await?;
    ensure_may_manage(&actor, &user_id, &current, "change this member's role")?;
    let new_role = requested_role(&app, &mut tx, &id, &req.role).await?;
    ensure_may_grant(
        &actor.role.permissions,
        &new_role.permissions,
        &format!("assign the role {}", new_role.key),
    )?;
    if current.key == OWNER
        && new_role.key != OWNER
        && store::count_with_role(&mut tx, &id, OWNER).await? <= 1
    {
        return Err(Error::Conflict("the last owner cannot be demoted".into()));
    }
    let now = app.clock.now();
    store::set_role(&mut tx, &id, &user_id, &new_role.key, now).await?;
    audit::record_in(
        &mut tx,
        &app,
        now,
        AuditEvent::new("organization.role_changed")
            .actor(caller.id())
            .target(&user_id)
            .organization(&id)
            .client(&client)
            .data(serde_json::json!({ "from": current.key, "to": new_role.key })),
    )
    .await?;
    let row = store::find_member_row(&mut tx, &id, &user_id)
        .await?
        .ok_or(Error::NotFound("member"))?;
    tx.commit().await?;
    Ok(axum::Json(Member {
        membership_id: row.membership.id,
        user: MemberUser {
            id: row.membership.user_id,
            email: row.email,
            name: row.name,
        },
        role: row.membership.role,
        joined_at: rfc3339(row.membership.created_at),
    }))
}

/// Remove a member (needs `members:remove`; not someone whose role holds permissions you do not;
/// never the last owner).
#[utoipa::path(delete, path = "/v1/organizations/{id}/members/{user_id}", tag = "members", security(("bearer" = [])),
    params(("id" = String, Path), ("user_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn remove_member(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path((id, user_id)): Path<(String, String)>,
) -> Result<StatusCode> {
    let (mut tx, actor) = enter(&app, &id, true, &caller, &client, Some("members:remove")).await?;
    let current = target_role(&app, &mut tx, &id, &user_id).await?;
    ensure_may_manage(&actor, &user_id, &current, "remove this member")?;
    if current.key == OWNER && store::count_with_role(&mut tx, &id, OWNER).await? <= 1 {
        return Err(Error::Conflict("the last owner cannot be removed".into()));
    }
    store::delete_membership(&mut tx, &id, &user_id).await?;
    audit::record_in(
        &mut tx,
        &app,
        app.clock.now(),
        AuditEvent::new("organization.member_removed")
            .actor(caller.id())
            .target(&user_id)
            .organization(&id)
            .client(&client),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
