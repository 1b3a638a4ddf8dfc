//! `/v1/organizations/{id}/roles` and the permission catalogue.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::store::{self, CustomRole};
use super::{BUILTIN_PERMISSIONS, BUILTIN_ROLES, ensure_may_grant};
use crate::AppState;
use crate::audit::{self, AuditEvent};
use crate::clock::rfc3339;
use crate::error::{Error, ErrorBody, Result};
use crate::http::{Caller, Client, Json};
use crate::orgs::enter;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_roles, create_role))
        .routes(routes!(update_role, delete_role))
        .routes(routes!(list_permissions))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoleView {
    /// Custom roles only.
    pub id: Option<String>,
    /// What memberships and invitations refer to: `owner`, `admin`, ... or the custom key.
    pub key: String,
    pub name: String,
    pub description: Option<String>,
    pub builtin: bool,
    pub permissions: Vec<String>,
    #[schema(format = DateTime)]
    pub created_at: Option<String>,
    #[schema(format = DateTime)]
    pub updated_at: Option<String>,
}

impl RoleView {
    fn custom(role: &CustomRole) -> RoleView {
        RoleView {
            id: Some(role.id.clone()),
            key: role.key.clone(),
            name: role.name.clone(),
            description: role.description.clone(),
            builtin: false,
            permissions: role.permissions.iter().cloned().collect(),
            created_at: Some(rfc3339(role.created_at)),
            updated_at: Some(rfc3339(role.updated_at)),
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoleList {
    pub data: Vec<RoleView>,
}

/// Built-in and custom roles of the organization with their permissions (needs `roles:read`).
#[utoipa::path(get, path = "/v1/organizations/{id}/roles", tag = "roles", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = RoleList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_roles(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<axum::Json<RoleList>> {
    let (mut tx, _) = enter(&app, &id, false, &caller, &client, Some("roles:read")).await?;
    let custom = store::list(&mut tx, &id).await?;
    tx.commit().await?;
    let mut data: Vec<RoleView> = BUILTIN_ROLES
        .iter()
        .map(|(key, name, description, _)| RoleView {
            id: None,
            key: (*key).to_owned(),
            name: (*name).to_owned(),
            description: Some((*description).to_owned()),
            builtin: true,
            permissions: app
                .rbac
                .builtin_role(key)
                .map(|p| p.iter().cloned().collect())
                .unwrap_or_default(),
            created_at: None,
            updated_at: None,
        })
        .collect();
    data.extend(custom.iter().map(RoleView::custom));
    Ok(axum::Json(RoleList { data }))
}

fn parse_key(raw: &str) -> Result<String> {
    let ok = (2..=48).contains(&raw.len())
        && raw.starts_with(|c: char| c.is_ascii_lowercase())
        && raw
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-');
    if !ok {
        return Err(Error::invalid(
            "key must be 2 to 48 characters of a-z, 0-9, _ and -, starting with a letter",
        ));
    }
    if BUILTIN_ROLES.iter().any(|(k, ..)| *k == raw) {
        return Err(Error::Conflict(format!("{raw} is a built-in role")));
    }
    Ok(raw.to_owned())
}

fn parse_role_name(raw: &str) -> Result<String> {
    crate::orgs::parse_name(raw)
        .map_err(|_| Error::invalid("name must be 1 to 100 printable characters"))
}

/// An optional description of at most 500 characters, trimmed; empty is none.
pub(crate) fn parse_description(raw: Option<String>) -> Result<Option<String>> {
    match raw {
        Some(d) if d.chars().count() > 500 => {
            Err(Error::invalid("description must be at most 500 characters"))
        }
        other => Ok(other.map(|d| d.trim().to_owned()).filter(|d| !d.is_empty())),
    }
}

/// A permission of the instance's catalogue: `resource:action` (see `rbac::parse_permission`).
#[derive(utoipa::ToSchema)]
#[schema(pattern = "^[a-z][a-z0-9_-]{0,63}:[a-z][a-z0-9_-]{0,63}$")]
pub struct PermissionName(pub String);

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoleRequest {
    /// Unique in the organization; not a built-in role's key.
    #[schema(min_length = 2, max_length = 48, pattern = "^[a-z][a-z0-9_-]*$")]
    key: String,
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    name: String,
    #[schema(max_length = 500)]
    description: Option<String>,
    /// Permissions of the instance's catalogue, `resource:action`.
    #[schema(value_type = Vec<PermissionName>)]
    permissions: Vec<String>,
}

/// Create a custom role (needs `roles:manage`; only with permissions the caller holds; limited
/// per organization by the plan).
#[utoipa::path(post, path = "/v1/organizations/{id}/roles", tag = "roles", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = CreateRoleRequest,
    responses((status = 201, body = RoleView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_role(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path(id): Path<String>,
    Json(req): Json<CreateRoleRequest>,
) -> Result<(StatusCode, axum::Json<RoleView>)> {
    if !app.config.load().organizations.custom_roles {
        return Err(Error::Refused(
            "custom_roles_disabled",
            "custom roles are turned off for this application".into(),
        ));
    }
    let (mut tx, actor) = enter(&app, &id, true, &caller, &client, Some("roles:manage")).await?;
    let key = parse_key(&req.key)?;
    let name = parse_role_name(&req.name)?;
    let description = parse_description(req.description)?;
    let permissions = app.rbac.parse_role_permissions(&req.permissions)?;
    ensure_may_grant(&actor.role.permissions, &permissions, "create this role")?;
    app.db.lock(&mut tx, &format!("roles:{id}")).await?;
    if let Some(max) = app
        .config
        .load()
        .organizations
        .max_custom_roles_per_organization
        && store::count(&mut tx, &id).await? >= i64::from(max)
    {
        return Err(Error::LimitExceeded(format!(
            "the plan allows {max} custom roles per organization"
        )));
    }
    let now = app.clock.now();
    let role = CustomRole {
        id: format!("rol_{}", uuid::Uuid::now_v7().simple()),
        organization_id: id.clone(),
        key,
        name,
        description,
        permissions,
        created_at: now,
        updated_at: now,
    };
    if !store::insert(&mut tx, &role).await? {
        return Err(Error::Conflict(format!(
            "a role with key {} exists",
            role.key
        )));
    }
    audit::record_in(
        &mut tx,
        &app,
        now,
        AuditEvent::new("organization.role_created")
            .actor(caller.id())
            .target(&role.id)
            .organization(&id)
            .client(&client)
            .data(serde_json::json!({ "key": role.key, "permissions": role.permissions })),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, axum::Json(RoleView::custom(&role))))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRoleRequest {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    name: Option<String>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "crate::http::nullable")]
    #[schema(value_type = Option<String>, max_length = 500)]
    description: Option<Option<String>>,
    /// Replaces the role's permissions.
    #[schema(value_type = Option<Vec<PermissionName>>)]
    permissions: Option<Vec<String>>,
}

/// Load a custom role for changing it: the caller must hold all its permissions, and may not
/// change the role they hold themselves.
async fn role_to_change(
    app: &AppState,
    tx: &mut sqlx::AnyConnection,
    actor: &crate::orgs::Access,
    org_id: &str,
    role_id: &str,
    what: &str,
) -> Result<CustomRole> {
    let role = store::find(tx, org_id, role_id)
        .await?
        .ok_or(Error::NotFound("role"))?;
    if actor.role.key == role.key {
        return Err(Error::Forbidden("you cannot change the role you hold"));
    }
    ensure_may_grant(&actor.role.permissions, &role.permissions, what)?;
    let _ = app;
    Ok(role)
}

/// Change a custom role (needs `roles:manage`; not the role you hold; only with permissions you
/// hold).
#[utoipa::path(patch, path = "/v1/organizations/{id}/roles/{role_id}", tag = "roles", security(("bearer" = [])),
    params(("id" = String, Path), ("role_id" = String, Path)), request_body = UpdateRoleRequest,
    responses((status = 200, body = RoleView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn update_role(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path((id, role_id)): Path<(String, String)>,
    Json(req): Json<UpdateRoleRequest>,
) -> Result<axum::Json<RoleView>> {
    let (mut tx, actor) = enter(&app, &id, true, &caller, &client, Some("roles:manage")).await?;
    let mut role = role_to_change(&app, &mut tx, &actor, &id, &role_id, "change this role").await?;
    let before = role.permissions.clone();
    if let Some(name) = req.name {
        role.name = parse_role_name(&name)?;
    }
    if let Some(description) = req.description {
        role.description = parse_description(description)?;
    }
    if let Some(permissions) = req.permissions {
        let permissions = app.rbac.parse_role_permissions(&permissions)?;
        ensure_may_grant(
            &actor.role.permissions,
            &permissions,
            "give this role these permissions",
        )?;
        role.permissions = permissions;
    }
    let now = app.clock.now();
    role.updated_at = now;
    store::update(&mut tx, &role).await?;
    audit::record_in(
        &mut tx,
        &app,
        now,
        AuditEvent::new("organization.role_changed_permissions")
            .actor(caller.id())
            .target(&role.id)
            .organization(&id)
            .client(&client)
            .data(serde_json::json!({ "key": role.key, "from": before, "to": role.permissions })),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(RoleView::custom(&role)))
}

/// Delete a custom role that no member or pending invitation holds (needs `roles:manage`).
#[utoipa::path(delete, path = "/v1/organizations/{id}/roles/{role_id}", tag = "roles", security(("bearer" = [])),
    params(("id" = String, Path), ("role_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete_role(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path((id, role_id)): Path<(String, String)>,
) -> Result<StatusCode> {
    let (mut tx, actor) = enter(&app, &id, true, &caller, &client, Some("roles:manage")).await?;
    let role = role_to_change(&app, &mut tx, &actor, &id, &role_id, "delete this role").await?;
    let holders = crate::orgs::store::count_with_role(&mut tx, &id, &role.key).await?
        + crate::invitations::store::count_pending_with_role(
            &mut tx,
            &id,
            &role.key,
            app.clock.now(),
        )
        .await?;
    if holders > 0 {
        return Err(Error::Conflict(format!(
            "{holders} members or pending invitations hold this role; reassign them first"
        )));
    }
    store::delete(&mut tx, &id, &role.id).await?;
    audit::record_in(
        &mut tx,
        &app,
        app.clock.now(),
        AuditEvent::new("organization.role_deleted")
            .actor(caller.id())
            .target(&role.id)
            .organization(&id)
            .client(&client)
            .data(serde_json::json!({ "key": role.key })),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PermissionView {
    pub name: String,
    /// Part of every instance (as opposed to declared in the instance config).
    pub builtin: bool,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PermissionList {
    pub data: Vec<PermissionView>,
}

/// The permission catalogue: built-in permissions and the instance's own (needs `roles:read`).
#[utoipa::path(get, path = "/v1/organizations/{id}/permissions", tag = "roles", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = PermissionList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_permissions(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<axum::Json<PermissionList>> {
    let (tx, _) = enter(&app, &id, false, &caller, &client, Some("roles:read")).await?;
    tx.commit().await?;
    let data = app
        .rbac
        .all()
        .iter()
        .map(|name| PermissionView {
            name: name.clone(),
            builtin: BUILTIN_PERMISSIONS.contains(&name.as_str()),
        })
        .collect();
    Ok(axum::Json(PermissionList { data }))
}
