//! `/v1/organizations/{id}/api-keys` (create, list, revoke) and the exchange of a key for a
//! short-lived access token, `POST /v1/organization-api-keys/token`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{KeyClaims, MANAGE, OrgKey, OrgKeyView, PRINCIPAL_TYPE, new_key, new_key_id, store};
use crate::AppState;
use crate::audit::{self, AuditEvent};
use crate::error::{Error, ErrorBody, Result};
use crate::http::{Caller, Client, Json};
use crate::orgs::enter;
use crate::rbac::ensure_may_grant;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_api_key, list_api_keys))
        .routes(routes!(revoke_api_key))
        .routes(routes!(exchange_api_key))
}

/// The longest lifetime a key may be given: ten years.
const MAX_EXPIRES_IN_SECS: i64 = 10 * 365 * 24 * 3600;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    name: String,
    /// What the key may do: permissions the creator holds in the organization.
    #[schema(value_type = Vec<crate::rbac::routes::PermissionName>)]
    permissions: Vec<String>,
    /// Seconds until the key stops working; absent: it does not expire.
    #[serde(default, deserialize_with = "crate::http::optional_integer")]
    #[schema(value_type = Option<u32>, minimum = 60, maximum = 315360000)]
    expires_in_secs: Option<i64>,
}

/// A created key: the key itself is shown here once and never again.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedApiKey {
    /// `ask_org_…`; store it now.
    pub key: String,
    pub api_key: OrgKeyView,
}

impl std::fmt::Debug for CreatedApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreatedApiKey")
            .field("api_key", &self.api_key.id)
            .finish_non_exhaustive()
    }
}

/// Create an API key for the organization (needs `api_keys:manage`, a signed-in user, and
/// only permissions the creator holds).
#[utoipa::path(post, path = "/v1/organizations/{id}/api-keys", tag = "api-keys", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = CreateApiKeyRequest,
    responses((status = 201, body = CreatedApiKey), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, description = "Lacking `api_keys:manage`, called with a key, or asking for a permission the creator does not hold (named).", body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn create_api_key(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path(id): Path<String>,
    Json(req): Json<CreateApiKeyRequest>,
) -> Result<(StatusCode, axum::Json<CreatedApiKey>)> {
    let (mut tx, actor) = enter(&app, &id, true, &caller, &client, Some(MANAGE)).await?;
    // A key cannot mint keys: revoking a leaked key must be the end of it.
    caller.user()?;
    // The same rule as an organization's name.
    let name = crate::orgs::parse_name(&req.name)?;
    // The guardrail first: nobody holds a permission outside the catalogue, so asking for one
    // is asking for more than the creator holds (403 naming it).
    let mut requested = std::collections::BTreeSet::new();
    for permission in &req.permissions {
        requested.insert(crate::rbac::parse_permission(permission).map_err(Error::InvalidRequest)?);
    }
    if let Some(unknown) = requested.iter().find(|p| !app.rbac.contains(p)) {
        return Err(Error::ForbiddenBecause(format!(
            "you cannot create this API key: `{unknown}` is not in the permission catalogue, \
             so nobody holds it"
        )));
    }
    ensure_may_grant(&actor.role.permissions, &requested, "create this API key")?;
    let permissions = app.rbac.parse_role_permissions(&req.permissions)?;
    let now = app.clock.now();
    let expires_at = match req.expires_in_secs {
        None => None,
        Some(secs) if (60..=MAX_EXPIRES_IN_SECS).contains(&secs) => Some(now + secs),
        Some(_) => {
            return Err(Error::invalid(
                "expires_in_secs must be between 60 and 315360000 (ten years)",
            ));
        }
    };
    let fresh = new_key();
    let key = OrgKey {
        id: new_key_id(),
        organization_id: id.clone(),
        name,
        key_hash: fresh.hash.clone(),
        last_four: fresh.last_four.clone(),
        permissions,
        created_by: Some(caller.id().to_owned()),
        created_at: now,
        expires_at,
        last_used_at: None,
        revoked_at: None,
    };
    store::insert(&mut tx, &key).await?;
    audit::record_in(
        &mut tx,
        &app,
        now,
        AuditEvent::new("organization.api_key.created")
            .actor(caller.id())
            .target(&key.id)
            .organization(&id)
            .client(&client)
            .data(serde_json::json!({
                "name": key.name,
                "permissions": key.permissions,
                "expires_at": key.expires_at,
            })),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(CreatedApiKey {
            key: fresh.secret.expose_secret().to_owned(),
            api_key: key.view(),
        }),
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApiKeyList {
    pub data: Vec<OrgKeyView>,
}

/// The organization's API keys, newest first, revoked ones included; never the keys themselves
/// (needs `api_keys:manage`).
#[utoipa::path(get, path = "/v1/organizations/{id}/api-keys", tag = "api-keys", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = ApiKeyList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_api_keys(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<axum::Json<ApiKeyList>> {
    let (mut tx, _) = enter(&app, &id, false, &caller, &client, Some(MANAGE)).await?;
    let keys = store::list(&mut tx, &id).await?;
    tx.commit().await?;
    Ok(axum::Json(ApiKeyList {
        data: keys.iter().map(OrgKey::view).collect(),
    }))
}

/// Revoke an API key (needs `api_keys:manage`): it, and the tokens minted for it, stop working
/// on this instance at once.
#[utoipa::path(delete, path = "/v1/organizations/{id}/api-keys/{key_id}", tag = "api-keys", security(("bearer" = [])),
    params(("id" = String, Path), ("key_id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "Already revoked.", body = ErrorBody)))]
async fn revoke_api_key(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path((id, key_id)): Path<(String, String)>,
) -> Result<StatusCode> {
    let (mut tx, _) = enter(&app, &id, true, &caller, &client, Some(MANAGE)).await?;
    store::find(&mut tx, &id, &key_id)
        .await?
        .ok_or(Error::NotFound("API key"))?;
    let now = app.clock.now();
    if !store::revoke(&mut tx, &id, &key_id, now).await? {
        return Err(Error::Conflict("the API key is already revoked".into()));
    }
    audit::record_in(
        &mut tx,
        &app,
        now,
        AuditEvent::new("organization.api_key.revoked")
            .actor(caller.id())
            .target(&key_id)
            .organization(&id)
            .client(&client),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A short-lived access token for an API key.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ApiKeyTokenResponse {
    /// An RS256 JWT verified with the instance's JWKS, like a user's access token; its
    /// `principal_type` claim is `org_api_key`.
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub org_id: String,
    pub permissions: Vec<String>,
}

impl std::fmt::Debug for ApiKeyTokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyTokenResponse")
            .field("org_id", &self.org_id)
            .finish_non_exhaustive()
    }
}

/// Exchange an organization API key (`Authorization: Bearer ask_org_…`) for an access token
/// (`sub` = the key's id, `org_id`, `permissions`, `principal_type: "org_api_key"`) that lives
/// as long as the instance's access tokens.
#[utoipa::path(post, path = "/v1/organization-api-keys/token", tag = "api-keys", security(("bearer" = [])),
    responses((status = 200, body = ApiKeyTokenResponse),
              (status = 401, description = "The key is unknown, revoked or expired, or its organization was deleted (`invalid_key`).", body = ErrorBody)))]
async fn exchange_api_key(
    State(app): State<AppState>,
    caller: Caller,
) -> Result<axum::Json<ApiKeyTokenResponse>> {
    let Caller::Key(caller) = caller else {
        return Err(Error::InvalidKey);
    };
    if caller.via_token {
        return Err(Error::InvalidKey);
    }
    let org_id = caller.key.organization_id.clone();
    let mut tx = app
        .db
        .scoped(crate::db::Scope::Organization(&org_id), false)
        .await?;
    let org = crate::orgs::store::find(&mut tx, &org_id)
        .await?
        .ok_or(Error::InvalidKey)?;
    tx.commit().await?;
    let now = app.clock.now();
    let ttl = app.config.load().tokens.access_token_ttl_secs as i64;
    let permissions: Vec<String> = caller.permissions.iter().cloned().collect();
    let claims = KeyClaims {
        iss: app.issuer.clone(),
        aud: app.audience.clone(),
        sub: caller.key.id.clone(),
        principal_type: PRINCIPAL_TYPE.to_owned(),
        org_id: org.id.clone(),
        org_slug: org.slug.clone(),
        permissions: permissions.clone(),
        iat: now,
        exp: now + ttl,
        jti: uuid::Uuid::now_v7().simple().to_string(),
    };
    let access_token = app.keys.sign(&claims)?;
    Ok(axum::Json(ApiKeyTokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: ttl,
        org_id: org.id,
        permissions,
    }))
}
