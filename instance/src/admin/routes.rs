//! `/v1/admin/*`: user administration and the instance-wide audit log.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::import::{ImportReport, ImportRow, MAX_BATCH, import_batch};
use crate::AppState;
use crate::audit::{self, AuditEvent};
use crate::error::{Error, ErrorBody, Result};
use crate::http::pagination::{page_size, split_page};
use crate::http::{Admin, Client, Json, Query};
use crate::users::{
    EmailAddress, User, UserView, new_user_id, parse_metadata, parse_name, store as users,
};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user, delete_user))
        .routes(routes!(ban_user))
        .routes(routes!(unban_user))
        .routes(routes!(revoke_user_sessions))
        .routes(routes!(import_users))
        .routes(routes!(super::usage::usage))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListUsersQuery {
    /// Matches email or name, case-insensitively.
    search: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^(usr_[0-9a-f]{32})?$")]
    cursor: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserPage {
    pub data: Vec<UserView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// List and search users, oldest first, with cursor pagination.
#[utoipa::path(get, path = "/v1/admin/users", tag = "admin", security(("admin_key" = [])), params(ListUsersQuery),
    responses((status = 200, body = UserPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn list_users(
    State(app): State<AppState>,
    _admin: Admin,
    Query(q): Query<ListUsersQuery>,
) -> Result<axum::Json<UserPage>> {
    let limit = page_size(q.limit, 50, 200)?;
    let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let cursor = crate::http::pagination::cursor(q.cursor.as_deref(), "usr")?;
    let rows = users::list(&app.db, search, cursor, limit + 1).await?;
    let (rows, next_cursor) = split_page(rows, limit, |u| u.id.clone());
    let now = app.clock.now();
    Ok(axum::Json(UserPage {
        data: rows.iter().map(|u| u.view(now)).collect(),
        next_cursor,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    #[schema(format = Email, max_length = 254)]
    email: String,
    /// A password to hash, checked against the password policy; mutually exclusive with
    /// `password_hash`.
    #[schema(value_type = Option<String>, format = Password, min_length = 8, max_length = 256)]
    password: Option<SecretString>,
    /// An existing Argon2 or PBKDF2 PHC string or bcrypt hash; mutually exclusive with `password`.
    password_hash: Option<String>,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    name: Option<String>,
    #[serde(default)]
    email_verified: bool,
    #[schema(value_type = Option<Object>)]
    metadata: Option<serde_json::Value>,
}

/// Create a user.
#[utoipa::path(post, path = "/v1/admin/users", tag = "admin", security(("admin_key" = [])), request_body = CreateUserRequest,
    responses((status = 201, body = UserView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_user(
    State(app): State<AppState>,
    admin: Admin,
    client: Client,
    Json(req): Json<CreateUserRequest>,
) -> Result<(StatusCode, axum::Json<UserView>)> {
    let email = EmailAddress::parse(&req.email)?;
    let password_hash = match (req.password, req.password_hash) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "give either password or password_hash, not both",
            ));
        }
        (Some(password), None) => {
            app.passwords.check_policy(
                &app.config.load().passwords,
                &password,
                Some(email.as_str()),
            )?;
            Some(app.passwords.hash(&password).await?)
        }
        (None, Some(hash)) if crate::passwords::is_supported_hash(&hash) => Some(hash),
        (None, Some(_)) => {
            return Err(Error::invalid(
                "password_hash is not an Argon2, PBKDF2 or bcrypt hash",
            ));
        }
        (None, None) => None,
    };
    let now = app.clock.now();
    let user = User {
        id: new_user_id(),
        email,
        email_verified_at: req.email_verified.then_some(now),
        name: req.name.as_deref().map(parse_name).transpose()?,
        password_hash,
        metadata: req
            .metadata
            .map(parse_metadata)
            .transpose()?
            .unwrap_or_else(|| serde_json::json!({})),
        banned_until: None,
        ban_reason: None,
        external_id: None,
        created_at: now,
        updated_at: now,
        last_login_at: None,
    };
    if !users::insert(&app.db.writer, &user).await? {
        return Err(Error::Conflict(
            "a user with this email already exists".into(),
        ));
    }
    audit::record(
        &app,
        now,
        AuditEvent::new("admin.user_created")
            .actor(&admin.key_id)
            .target(&user.id)
            .client(&client),
    )
    .await?;
    Ok((StatusCode::CREATED, axum::Json(user.view(now))))
}

async fn load(app: &AppState, id: &str) -> Result<User> {
    users::find(&app.db, id)
        .await?
        .ok_or(Error::NotFound("user"))
}

/// Get a user.
#[utoipa::path(get, path = "/v1/admin/users/{id}", tag = "admin", security(("admin_key" = [])), params(("id" = String, Path)),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_user(
    State(app): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<axum::Json<UserView>> {
    Ok(axum::Json(load(&app, &id).await?.view(app.clock.now())))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUserRequest {
    /// A new address; it becomes unverified unless `email_verified` is also given.
    #[schema(format = Email, max_length = 254)]
    email: Option<String>,
    /// A new display name; `null` clears it.
    #[serde(default, deserialize_with = "crate::http::nullable")]
    #[schema(value_type = Option<String>, min_length = 1, max_length = 200, pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$")]
    name: Option<Option<String>>,
    email_verified: Option<bool>,
    #[schema(value_type = Option<Object>)]
    metadata: Option<serde_json::Value>,
}

/// Update a user.
#[utoipa::path(patch, path = "/v1/admin/users/{id}", tag = "admin", security(("admin_key" = [])), params(("id" = String, Path)),
    request_body = UpdateUserRequest,
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn update_user(
    State(app): State<AppState>,
    admin: Admin,
    client: Client,
    Path(id): Path<String>,
    Json(req): Json<UpdateUserRequest>,
) -> Result<axum::Json<UserView>> {
    let mut user = load(&app, &id).await?;
    let now = app.clock.now();
    if let Some(email) = req.email {
        let email = EmailAddress::parse(&email)?;
        if email != user.email {
            user.email_verified_at = None;
        }
        user.email = email;
    }
    if let Some(verified) = req.email_verified {
        user.email_verified_at = if verified {
            user.email_verified_at.or(Some(now))
        } else {
            None
        };
    }
    if let Some(name) = req.name {
        user.name = name.as_deref().map(parse_name).transpose()?;
    }
    if let Some(metadata) = req.metadata {
        user.metadata = parse_metadata(metadata)?;
    }
    user.updated_at = now;
    if !users::update(&app.db, &user).await? {
        return Err(Error::Conflict(
            "a user with this email already exists".into(),
        ));
    }
    audit::record(
        &app,
        now,
        AuditEvent::new("admin.user_updated")
            .actor(&admin.key_id)
            .target(&user.id)
            .client(&client),
    )
    .await?;
    Ok(axum::Json(user.view(now)))
}

/// Delete a user and all of their sessions.
#[utoipa::path(delete, path = "/v1/admin/users/{id}", tag = "admin", security(("admin_key" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn delete_user(
    State(app): State<AppState>,
    admin: Admin,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    crate::orgs::ensure_not_sole_owner(&app, &id).await?;
    if !users::delete(&app.db, &id).await? {
        return Err(Error::NotFound("user"));
    }
    audit::record(
        &app,
        app.clock.now(),
        AuditEvent::new("admin.user_deleted")
            .actor(&admin.key_id)
            .target(&id)
            .client(&client),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BanRequest {
    /// RFC 3339 end of the ban, in the future; absent bans indefinitely.
    #[schema(format = DateTime)]
    until: Option<String>,
    #[schema(max_length = 500)]
    reason: Option<String>,
}

/// Ban a user until a time (or indefinitely); ends all of their sessions.
#[utoipa::path(post, path = "/v1/admin/users/{id}/ban", tag = "admin", security(("admin_key" = [])), params(("id" = String, Path)),
    request_body = BanRequest,
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn ban_user(
    State(app): State<AppState>,
    admin: Admin,
    client: Client,
    Path(id): Path<String>,
    Json(req): Json<BanRequest>,
) -> Result<axum::Json<UserView>> {
    let now = app.clock.now();
    let until = match req.until.as_deref() {
        None => i64::MAX / 2,
        Some(text) => {
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .map_err(|_| Error::invalid("until must be an RFC 3339 timestamp"))?
                .unix_timestamp()
        }
    };
    if until <= now {
        return Err(Error::invalid("until must be in the future"));
    }
    if req.reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
        return Err(Error::invalid("reason must be at most 500 characters"));
    }
    let mut user = load(&app, &id).await?;
    user.banned_until = Some(until);
    user.ban_reason = req.reason;
    user.updated_at = now;
    users::update(&app.db, &user).await?;
    crate::logout::end_all_for_user(&app, &user.id, None, "user_banned", now).await?;
    audit::record(
        &app,
        now,
        AuditEvent::new("admin.user_banned")
            .actor(&admin.key_id)
            .target(&user.id)
            .client(&client),
    )
    .await?;
    Ok(axum::Json(user.view(now)))
}

/// Lift a user's ban.
#[utoipa::path(post, path = "/v1/admin/users/{id}/unban", tag = "admin", security(("admin_key" = [])), params(("id" = String, Path)),
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody)))]
async fn unban_user(
    State(app): State<AppState>,
    admin: Admin,
    client: Client,
    Path(id): Path<String>,
) -> Result<axum::Json<UserView>> {
    let now = app.clock.now();
    let mut user = load(&app, &id).await?;
    user.banned_until = None;
    user.ban_reason = None;
    user.updated_at = now;
    users::update(&app.db, &user).await?;
    audit::record(
        &app,
        now,
        AuditEvent::new("admin.user_unbanned")
            .actor(&admin.key_id)
            .target(&user.id)
            .client(&client),
    )
    .await?;
    Ok(axum::Json(user.view(now)))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RevokedSessions {
    pub revoked: u64,
}

/// End every session of a user.
#[utoipa::path(delete, path = "/v1/admin/users/{id}/sessions", tag = "admin", security(("admin_key" = [])), params(("id" = String, Path)),
    responses((status = 200, body = RevokedSessions), (status = 404, body = ErrorBody)))]
async fn revoke_user_sessions(
    State(app): State<AppState>,
    admin: Admin,
    client: Client,
    Path(id): Path<String>,
) -> Result<axum::Json<RevokedSessions>> {
    let user = load(&app, &id).await?;
    let now = app.clock.now();
    let revoked =
        crate::logout::end_all_for_user(&app, &user.id, None, "revoked_by_admin", now).await?;
    audit::record(
        &app,
        now,
        AuditEvent::new("admin.sessions_revoked")
            .actor(&admin.key_id)
            .target(&user.id)
            .client(&client),
    )
    .await?;
    Ok(axum::Json(RevokedSessions { revoked }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRequest {
    #[schema(min_items = 1, max_items = 1000)]
    users: Vec<ImportRow>,
}

/// Import up to 1000 users with their password hashes. Rows that fail are reported with a
/// reason; the others are imported.
#[utoipa::path(post, path = "/v1/admin/users/import", tag = "admin", security(("admin_key" = [])), request_body = ImportRequest,
    responses((status = 200, body = ImportReport), (status = 400, body = ErrorBody), (status = 413, body = ErrorBody)))]
async fn import_users(
    State(app): State<AppState>,
    admin: Admin,
    client: Client,
    Json(req): Json<ImportRequest>,
) -> Result<axum::Json<ImportReport>> {
    if req.users.is_empty() || req.users.len() > MAX_BATCH {
        return Err(Error::invalid(format!(
            "users must hold 1 to {MAX_BATCH} rows"
        )));
    }
    let now = app.clock.now();
    let report = import_batch(&app.db, req.users.into_iter().enumerate().collect(), now).await?;
    audit::record(
        &app,
        now,
        AuditEvent::new("admin.users_imported").actor(&admin.key_id).client(&client)
            .data(serde_json::json!({ "imported": report.imported, "rejected": report.rejected.len() })),
    )
    .await?;
    Ok(axum::Json(report))
}
