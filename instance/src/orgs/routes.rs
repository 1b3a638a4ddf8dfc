//! `/v1/organizations` and `/v1/me/organizations`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    Organization, OrganizationView, enter, new_org_id, parse_branding, parse_logo_url, parse_name,
    parse_settings, parse_slug, slugify, store,
};
use crate::AppState;
use crate::audit::{self, AuditEvent};
use crate::db::Scope;
use crate::error::{Error, ErrorBody, Result};
use crate::http::{Authenticated, Caller, Client, Json, Query};
use crate::rbac::OWNER;
use crate::sessions;
use crate::tokens::OrgContext;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_organization, list_organizations))
        .routes(routes!(
            get_organization,
            update_organization,
            delete_organization
        ))
        .routes(routes!(leave_organization))
        .routes(routes!(switch_organization))
        .routes(routes!(check_permission))
        .routes(routes!(my_organizations))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganizationRequest {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    name: String,
    /// Unique across the instance; derived from the name when absent.
    #[schema(
        min_length = 2,
        max_length = 48,
        pattern = "^[a-z0-9][a-z0-9-]*[a-z0-9]$"
    )]
    slug: Option<String>,
    /// An absolute `http(s)` URL.
    #[schema(
        max_length = 2048,
        pattern = r"^https?://(?:[A-Za-z0-9._~:/?#@!$&'()*+,;=-]|%[0-9A-Fa-f]{2})+$"
    )]
    logo_url: Option<String>,
    #[schema(value_type = Option<super::Branding>)]
    branding: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    settings: Option<serde_json::Value>,
}

/// An organization with the caller's role and permissions in it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrganizationWithRole {
    #[serde(flatten)]
    pub organization: OrganizationView,
    pub role: String,
    pub permissions: Vec<String>,
}

/// Create an organization; the caller becomes its Owner.
#[utoipa::path(post, path = "/v1/organizations", tag = "organizations", request_body = CreateOrganizationRequest, security(("bearer" = [])),
    responses((status = 201, body = OrganizationWithRole), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_organization(
    State(app): State<AppState>,
    auth: Authenticated,
    client: Client,
    Json(req): Json<CreateOrganizationRequest>,
) -> Result<(StatusCode, axum::Json<OrganizationWithRole>)> {
    let name = parse_name(&req.name)?;
    let slug = match req.slug.as_deref() {
        Some(slug) => parse_slug(slug)?,
        None => slugify(&name),
    };
    let now = app.clock.now();
    let org = Organization {
        id: new_org_id(),
        name,
        slug,
        logo_url: req.logo_url.as_deref().map(parse_logo_url).transpose()?,
        branding: req
            .branding
            .map(parse_branding)
            .transpose()?
            .unwrap_or_else(|| serde_json::json!({})),
        settings: req
            .settings
            .map(parse_settings)
            .transpose()?
            .unwrap_or_else(|| serde_json::json!({})),
        created_by: Some(auth.user.id.clone()),
        created_at: now,
        updated_at: now,
    };
    // Scoped to all organizations: the cap counts them all. The lock makes count-then-insert
    // atomic against concurrent creations.
    let mut tx = app.db.scoped(Scope::AllOrganizations, true).await?;
    if let Some(max) = app.config.load().organizations.max_organizations {
        app.db.lock(&mut tx, "organizations").await?;
        if store::count_all(&mut tx).await? >= i64::from(max) {
            return Err(Error::LimitExceeded(format!(
                "this instance's plan allows {max} organizations"
            )));
        }
    }
    if !store::insert(&mut tx, &org).await? {
        return Err(Error::Conflict(format!("the slug {} is taken", org.slug)));
    }
    store::insert_membership(&mut tx, &org.id, &auth.user.id, OWNER, now).await?;
    audit::record_in(
        &mut tx,
        &app,
        now,
        AuditEvent::new("organization.created")
            .actor(&auth.user.id)
            .target(&org.id)
            .organization(&org.id)
            .client(&client),
    )
    .await?;
    tx.commit().await?;
    let permissions = app
        .rbac
        .builtin_role(OWNER)
        .map(|p| p.iter().cloned().collect())
        .unwrap_or_default();
    Ok((
        StatusCode::CREATED,
        axum::Json(OrganizationWithRole {
            organization: org.view(),
            role: OWNER.into(),
            permissions,
        }),
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrganizationList {
    pub data: Vec<OrganizationWithRole>,
}

async fn memberships_of(app: &AppState, user_id: &str) -> Result<OrganizationList> {
    let mut data = Vec::new();
    for (org, role_key) in store::list_for_user(&app.db, user_id).await? {
        let mut tx = app.db.scoped(Scope::Organization(&org.id), false).await?;
        let role = crate::rbac::store::resolve(app, &mut tx, &org.id, &role_key).await?;
        tx.commit().await?;
        let permissions = role
            .map(|r| r.permissions.iter().cloned().collect())
            .unwrap_or_default();
        data.push(OrganizationWithRole {
            organization: org.view(),
            role: role_key,
            permissions,
        });
    }
    Ok(OrganizationList { data })
}

/// The organizations the caller belongs to, with the role in each.
#[utoipa::path(get, path = "/v1/organizations", tag = "organizations", security(("bearer" = [])),
    responses((status = 200, body = OrganizationList), (status = 401, body = ErrorBody)))]
async fn list_organizations(
    State(app): State<AppState>,
    auth: Authenticated,
) -> Result<axum::Json<OrganizationList>> {
    Ok(axum::Json(memberships_of(&app, &auth.user.id).await?))
}

/// The caller's memberships (same as `GET /v1/organizations`).
#[utoipa::path(get, path = "/v1/me/organizations", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = OrganizationList), (status = 401, body = ErrorBody)))]
async fn my_organizations(
    State(app): State<AppState>,
    auth: Authenticated,
) -> Result<axum::Json<OrganizationList>> {
    Ok(axum::Json(memberships_of(&app, &auth.user.id).await?))
}

/// An organization the caller belongs to (needs `organization:read`).
#[utoipa::path(get, path = "/v1/organizations/{id}", tag = "organizations", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = OrganizationWithRole), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_organization(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<axum::Json<OrganizationWithRole>> {
    let (tx, access) = enter(
        &app,
        &id,
        false,
        &caller,
        &client,
        Some("organization:read"),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(OrganizationWithRole {
        organization: access.organization.view(),
        permissions: access.role.permissions.iter().cloned().collect(),
        role: access.role.key,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganizationRequest {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    name: Option<String>,
    #[schema(
        min_length = 2,
        max_length = 48,
        pattern = "^[a-z0-9][a-z0-9-]*[a-z0-9]$"
    )]
    slug: Option<String>,
    /// An absolute `http(s)` URL; `null` removes the logo.
    #[serde(default, deserialize_with = "crate::http::nullable")]
    #[schema(value_type = Option<String>, max_length = 2048, pattern = r"^https?://(?:[A-Za-z0-9._~:/?#@!$&'()*+,;=-]|%[0-9A-Fa-f]{2})+$")]
    logo_url: Option<Option<String>>,
    #[schema(value_type = Option<super::Branding>)]
    branding: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    settings: Option<serde_json::Value>,
}

/// Update an organization (needs `organization:update`).
#[utoipa::path(patch, path = "/v1/organizations/{id}", tag = "organizations", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = UpdateOrganizationRequest,
    responses((status = 200, body = OrganizationView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn update_organization(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path(id): Path<String>,
    Json(req): Json<UpdateOrganizationRequest>,
) -> Result<axum::Json<OrganizationView>> {
    let (mut tx, access) = enter(
        &app,
        &id,
        true,
        &caller,
        &client,
        Some("organization:update"),
    )
    .await?;
    let mut org = access.organization;
    let mut changed = Vec::new();
    if let Some(name) = req.name {
        org.name = parse_name(&name)?;
        changed.push("name");
    }
    if let Some(slug) = req.slug {
        org.slug = parse_slug(&slug)?;
        changed.push("slug");
    }
    if let Some(logo) = req.logo_url {
        org.logo_url = logo.as_deref().map(parse_logo_url).transpose()?;
        changed.push("logo_url");
    }
    if let Some(branding) = req.branding {
        org.branding = parse_branding(branding)?;
        changed.push("branding");
    }
    if let Some(settings) = req.settings {
        org.settings = parse_settings(settings)?;
        changed.push("settings");
    }
    // Slugs are unique across organizations: checked outside this organization's scope.
    if changed.contains(&"slug") && store::slug_taken(&app.db, &org.slug, &org.id).await? {
        return Err(Error::Conflict(format!("the slug {} is taken", org.slug)));
    }
    let now = app.clock.now();
    org.updated_at = now;
    store::update(&mut tx, &org).await.map_err(|e| {
        if crate::db::Db::is_unique_violation(&e) {
            Error::Conflict(format!("the slug {} is taken", org.slug))
        } else {
            e.into()
        }
    })?;
    audit::record_in(
        &mut tx,
        &app,
        now,
        AuditEvent::new("organization.updated")
            .actor(caller.id())
            .target(&org.id)
            .organization(&org.id)
            .client(&client)
            .data(serde_json::json!({ "fields": changed })),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::Json(org.view()))
}

/// Delete an organization with its memberships, roles and invitations (needs
/// `organization:delete`).
#[utoipa::path(delete, path = "/v1/organizations/{id}", tag = "organizations", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_organization(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let (mut tx, _) = enter(
        &app,
        &id,
        true,
        &caller,
        &client,
        Some("organization:delete"),
    )
    .await?;
    store::delete(&mut tx, &id).await?;
    let now = app.clock.now();
    audit::record_in(
        &mut tx,
        &app,
        now,
        AuditEvent::new("organization.deleted")
            .actor(caller.id())
            .target(&id)
            .organization(&id)
            .client(&client),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Leave an organization. The last Owner cannot leave.
#[utoipa::path(post, path = "/v1/organizations/{id}/leave", tag = "organizations", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn leave_organization(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    let (mut tx, access) = enter(&app, &id, true, &caller, &client, None).await?;
    let auth = caller.user()?;
    if access.role.key == OWNER && store::count_with_role(&mut tx, &id, OWNER).await? <= 1 {
        return Err(Error::Conflict(
            "the last owner cannot leave; make someone else owner or delete the organization"
                .into(),
        ));
    }
    store::delete_membership(&mut tx, &id, &auth.user.id).await?;
    audit::record_in(
        &mut tx,
        &app,
        app.clock.now(),
        AuditEvent::new("organization.member_removed")
            .actor(caller.id())
            .target(caller.id())
            .organization(&id)
            .client(&client)
            .data(serde_json::json!({ "reason": "left" })),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new access token working in one organization.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SwitchResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub organization: OrganizationView,
    pub role: String,
    pub permissions: Vec<String>,
}

impl std::fmt::Debug for SwitchResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SwitchResponse")
            .field("organization", &self.organization.id)
            .finish_non_exhaustive()
    }
}

/// Make this organization the session's current one: returns an access token carrying
/// `org_id`, `org_slug`, `org_role` and `permissions`; refreshes keep it.
#[utoipa::path(post, path = "/v1/organizations/{id}/switch", tag = "organizations", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = SwitchResponse), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn switch_organization(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<axum::Json<SwitchResponse>> {
    let (tx, access) = enter(&app, &id, false, &caller, &client, None).await?;
    tx.commit().await?;
    let auth = caller.user()?;
    let mut session = auth.session.clone();
    sessions::set_org(&app, &mut session, Some(&id)).await?;
    let context = OrgContext::from(&access);
    let (access_token, expires_in) =
        crate::tokens::issue(&app, &auth.user, &session, Some(&context))?;
    Ok(axum::Json(SwitchResponse {
        access_token,
        token_type: "Bearer",
        expires_in,
        organization: access.organization.view(),
        role: context.org_role,
        permissions: context.permissions,
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CheckQuery {
    /// The permission to check, e.g. `projects:create`.
    #[param(pattern = "^[a-z][a-z0-9_-]{0,63}:[a-z][a-z0-9_-]{0,63}$")]
    permission: String,
    /// Whom to check; the caller when absent (checking others needs `members:read`).
    user_id: Option<String>,
}

/// Whether a permission is granted, and why.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PermissionCheck {
    pub allowed: bool,
    pub permission: String,
    pub user_id: String,
    /// The role the user holds in the organization, if a member.
    pub role: Option<String>,
    /// The role that grants the permission, when allowed.
    pub granted_by: Option<String>,
    /// A plain-language explanation.
    pub reason: String,
}

/// Is `permission` granted to the caller (or `user_id`) in this organization, and why or why not.
#[utoipa::path(get, path = "/v1/organizations/{id}/permissions/check", tag = "organizations", security(("bearer" = [])),
    params(("id" = String, Path), CheckQuery),
    responses((status = 200, body = PermissionCheck), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn check_permission(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path(id): Path<String>,
    Query(q): Query<CheckQuery>,
) -> Result<axum::Json<PermissionCheck>> {
    crate::rbac::parse_permission(&q.permission).map_err(Error::InvalidRequest)?;
    let (mut tx, access) = enter(&app, &id, false, &caller, &client, None).await?;
    let subject = match q.user_id.as_deref() {
        None => Some(access),
        Some(user_id) if user_id == caller.id() => Some(access),
        Some(user_id) => {
            access.require("members:read")?;
            super::resolve(&app, &mut tx, &id, user_id).await?
        }
    };
    tx.commit().await?;
    let user_id = q.user_id.clone().unwrap_or_else(|| caller.id().to_owned());
    let check = match subject {
        None => PermissionCheck {
            allowed: false,
            permission: q.permission.clone(),
            user_id,
            role: None,
            granted_by: None,
            reason: "the user is not a member of this organization".into(),
        },
        Some(access) => explain(&app, &access, &q.permission, user_id),
    };
    Ok(axum::Json(check))
}

/// The "why" of a permission check.
pub fn explain(
    app: &crate::App,
    access: &super::Access,
    permission: &str,
    user_id: String,
) -> PermissionCheck {
    let role = access.role.key.clone();
    let (allowed, granted_by, reason) = if !app.rbac.contains(permission) {
        (
            false,
            None,
            format!("{permission} is not in this instance's permission catalogue"),
        )
    } else if access.allows(permission) {
        let how = if access.is_key() {
            "API key"
        } else if access.role.builtin {
            "built-in role"
        } else {
            "custom role"
        };
        (
            true,
            Some(role.clone()),
            format!("granted by the {how} {role}"),
        )
    } else {
        let holders: Vec<&str> = crate::rbac::BUILTIN_ROLES
            .iter()
            .map(|(key, ..)| *key)
            .filter(|key| {
                app.rbac
                    .builtin_role(key)
                    .is_some_and(|p| p.contains(permission))
            })
            .collect();
        (
            false,
            None,
            format!(
                "the role {role} does not include {permission}; built-in roles that do: {}",
                holders.join(", ")
            ),
        )
    };
    PermissionCheck {
        allowed,
        permission: permission.to_owned(),
        user_id,
        role: Some(role),
        granted_by,
        reason,
    }
}
