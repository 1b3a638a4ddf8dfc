//! `/v1/admin/applications`: registering the OAuth clients of the instance's OpenID Provider.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::origins::parse_cors_origins;
use super::{
    Application, ApplicationView, Kind, OrganizationSelection, check_instance_allows,
    check_no_redirects, check_organization_selection, new_application_id, new_secret,
    parse_access_token_ttl, parse_backchannel_logout_uri, parse_name, parse_permissions,
    parse_redirect_uris, store,
};
use crate::AppState;
use crate::audit::{self, AuditEvent};
use crate::error::{Error, ErrorBody, Result};
use crate::http::{Admin, Client, Json};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_applications, create_application))
        .routes(routes!(
            get_application,
            update_application,
            delete_application
        ))
        .routes(routes!(rotate_secret))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApplicationRequest {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    name: String,
    kind: Kind,
    /// Absolute URLs, `https` (or `http` on `localhost`, `127.0.0.1`, `[::1]`), without
    /// fragment or wildcard, in normalized form; matched exactly.
    #[serde(default)]
    #[schema(max_items = 20)]
    redirect_uris: Vec<String>,
    /// Where the application may send users after sign-out; the same rules.
    #[serde(default)]
    #[schema(max_items = 20)]
    post_logout_redirect_uris: Vec<String>,
    /// First-party applications are not asked for consent (default `true`).
    #[serde(default = "yes")]
    first_party: bool,
    /// For a `machine` application: what `client_credentials` may grant it, each from the
    /// permission catalogue (`organizations.permissions` and the built-in ones).
    #[serde(default)]
    #[schema(max_items = 100)]
    permissions: Vec<String>,
    /// Whether a sign-in whose request names no `organization` asks the user for one of
    /// theirs (default `none`; a `machine` application has only `none`).
    #[serde(default)]
    organization_selection: OrganizationSelection,
    /// A `web` application's OpenID Connect Back-Channel Logout URI (the rules of a redirect
    /// URI): told server to server when a sign-in it holds a grant under ends.
    #[schema(max_length = 2048)]
    backchannel_logout_uri: Option<String>,
    /// For an `spa` or `native` application: the browser origins (`https://host[:port]`, or
    /// `http` on a loopback host; no path, no wildcard) whose calls to the token, revocation
    /// and userinfo endpoints get CORS answers. Stored lowercase, without a trailing `/` or a
    /// default port. Refused with `invalid_cors_origin`, and for `web` and `machine`.
    #[serde(default)]
    #[schema(max_items = 20)]
    allowed_cors_origins: Vec<String>,
    /// Seconds its access and ID tokens live (30 up to the instance's
    /// `tokens.access_token_ttl_secs`); absent: the instance's.
    #[serde(default, deserialize_with = "crate::http::optional_integer")]
    #[schema(value_type = Option<u32>, minimum = 30, maximum = 86400)]
    access_token_ttl_secs: Option<i64>,
}

fn yes() -> bool {
    true
}

/// An application with its client secret, shown only when created or rotated.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ApplicationWithSecret {
    #[serde(flatten)]
    pub application: ApplicationView,
    /// The client secret of a `web` or `machine` application (absent for public ones). Shown
    /// once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for ApplicationWithSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApplicationWithSecret")
            .field("application", &self.application.id)
            .finish_non_exhaustive()
    }
}

fn with_secret(app: &Application, secret: Option<SecretString>) -> ApplicationWithSecret {
    ApplicationWithSecret {
        application: app.view(),
        client_secret: secret.map(|s| s.expose_secret().to_owned()),
    }
}

/// Register an application (an OAuth 2.0 / OpenID Connect client).
#[utoipa::path(post, path = "/v1/admin/applications", tag = "admin", security(("admin_key" = [])),
    request_body = CreateApplicationRequest,
    responses((status = 201, body = ApplicationWithSecret), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn create_application(
    State(app): State<AppState>,
    admin: Admin,
    client: Client,
    Json(req): Json<CreateApplicationRequest>,
) -> Result<(StatusCode, axum::Json<ApplicationWithSecret>)> {
    let now = app.clock.now();
    let (secret, secret_hash) = match req.kind.is_confidential() {
        true => {
            let (secret, hash) = new_secret();
            (Some(secret), Some(hash))
        }
        false => (None, None),
    };
    let config = app.config.load();
    check_organization_selection(req.kind, req.organization_selection)?;
    check_no_redirects(req.kind, "redirect_uris", &req.redirect_uris)?;
    check_no_redirects(
        req.kind,
        "post_logout_redirect_uris",
        &req.post_logout_redirect_uris,
    )?;
    let application = Application {
        id: new_application_id(),
        name: parse_name("name", &req.name)?,
        kind: req.kind,
        secret_hash,
        redirect_uris: parse_redirect_uris("redirect_uris", &req.redirect_uris)?,
        post_logout_redirect_uris: parse_redirect_uris(
            "post_logout_redirect_uris",
            &req.post_logout_redirect_uris,
        )?,
        first_party: req.first_party,
        permissions: parse_permissions(&app.rbac, req.kind, &req.permissions)?,
        organization_selection: req.organization_selection,
        backchannel_logout_uri: parse_backchannel_logout_uri(
            req.kind,
            req.backchannel_logout_uri.as_deref(),
        )?,
        allowed_cors_origins: parse_cors_origins(req.kind, &req.allowed_cors_origins)?,
        access_token_ttl_secs: parse_access_token_ttl(&config, req.access_token_ttl_secs)?,
        created_at: now,
        updated_at: now,
        previous_secret: None,
    };
    check_instance_allows(&config, "redirect_uris", &application.redirect_uris)?;
    check_instance_allows(
        &config,
        "post_logout_redirect_uris",
        &application.post_logout_redirect_uris,
    )?;
    store::insert(&app.db, &application).await?;
    audit::record(
        &app,
        now,
        AuditEvent::new("admin.application_created")
            .actor(&admin.key_id)
            .target(&application.id)
            .client(&client),
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(with_secret(&application, secret)),
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ApplicationList {
    pub data: Vec<ApplicationView>,
}

/// List the applications, oldest first (at most 500).
#[utoipa::path(get, path = "/v1/admin/applications", tag = "admin", security(("admin_key" = [])),
    responses((status = 200, body = ApplicationList), (status = 401, body = ErrorBody)))]
async fn list_applications(
    State(app): State<AppState>,
    _admin: Admin,
) -> Result<axum::Json<ApplicationList>> {
    let rows = store::list(&app.db, 500).await?;
    Ok(axum::Json(ApplicationList {
        data: rows.iter().map(Application::view).collect(),
    }))
}

async fn load(app: &AppState, id: &str) -> Result<Application> {
    store::find(&app.db, id)
        .await?
        .ok_or(Error::NotFound("application"))
}

/// Get an application.
#[utoipa::path(get, path = "/v1/admin/applications/{id}", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ApplicationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_application(
    State(app): State<AppState>,
    _admin: Admin,
    Path(id): Path<String>,
) -> Result<axum::Json<ApplicationView>> {
    Ok(axum::Json(load(&app, &id).await?.view()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateApplicationRequest {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    name: Option<String>,
    /// Replaces the list.
    #[schema(max_items = 20)]
    redirect_uris: Option<Vec<String>>,
    /// Replaces the list.
    #[schema(max_items = 20)]
    post_logout_redirect_uris: Option<Vec<String>>,
    first_party: Option<bool>,
    /// Replaces a `machine` application's permissions.
    #[schema(max_items = 100)]
    permissions: Option<Vec<String>>,
    /// Whether a sign-in whose request names no `organization` asks for one.
    organization_selection: Option<OrganizationSelection>,
    /// Replaces the back-channel logout URI; `null` removes it.
    #[serde(default, deserialize_with = "crate::http::nullable")]
    #[schema(value_type = Option<String>, max_length = 2048)]
    backchannel_logout_uri: Option<Option<String>>,
    /// Replaces the list of browser origins (`spa` and `native` only; the same rules as at
    /// creation).
    #[schema(max_items = 20)]
    allowed_cors_origins: Option<Vec<String>>,
    /// Replaces its token lifetime; `null`: the instance's again.
    #[serde(default, deserialize_with = "crate::http::nullable")]
    #[schema(value_type = Option<u32>, minimum = 30, maximum = 86400)]
    access_token_ttl_secs: Option<Option<i64>>,
}

/// Update an application's name, URIs, first-party flag, organization selection, allowed CORS
/// origins or (`machine`) permissions (its kind cannot change).
#[utoipa::path(patch, path = "/v1/admin/applications/{id}", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path)), request_body = UpdateApplicationRequest,
    responses((status = 200, body = ApplicationView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
async fn update_application(
    State(app): State<AppState>,
    admin: Admin,
    client: Client,
    Path(id): Path<String>,
    Json(req): Json<UpdateApplicationRequest>,
) -> Result<axum::Json<ApplicationView>> {
    let mut application = load(&app, &id).await?;
    if let Some(name) = &req.name {
        application.name = parse_name("name", name)?;
    }
    let config = app.config.load();
    if let Some(uris) = &req.redirect_uris {
        check_no_redirects(application.kind, "redirect_uris", uris)?;
        application.redirect_uris = parse_redirect_uris("redirect_uris", uris)?;
        check_instance_allows(&config, "redirect_uris", &application.redirect_uris)?;
    }
    if let Some(uris) = &req.post_logout_redirect_uris {
        check_no_redirects(application.kind, "post_logout_redirect_uris", uris)?;
        application.post_logout_redirect_uris =
            parse_redirect_uris("post_logout_redirect_uris", uris)?;
        check_instance_allows(
            &config,
            "post_logout_redirect_uris",
            &application.post_logout_redirect_uris,
        )?;
    }
    if let Some(first_party) = req.first_party {
        application.first_party = first_party;
    }
    if let Some(permissions) = &req.permissions {
        application.permissions = parse_permissions(&app.rbac, application.kind, permissions)?;
    }
    if let Some(selection) = req.organization_selection {
        check_organization_selection(application.kind, selection)?;
        application.organization_selection = selection;
    }
    if let Some(uri) = &req.backchannel_logout_uri {
        application.backchannel_logout_uri =
            parse_backchannel_logout_uri(application.kind, uri.as_deref())?;
    }
    if let Some(origins) = &req.allowed_cors_origins {
        application.allowed_cors_origins = parse_cors_origins(application.kind, origins)?;
    }
    if let Some(ttl) = req.access_token_ttl_secs {
        application.access_token_ttl_secs = parse_access_token_ttl(&config, ttl)?;
    }
    let now = app.clock.now();
    application.updated_at = now;
    if !store::update(&app.db, &application).await? {
        return Err(Error::NotFound("application"));
    }
    audit::record(
        &app,
        now,
        AuditEvent::new("admin.application_updated")
            .actor(&admin.key_id)
            .target(&application.id)
            .client(&client),
    )
    .await?;
    Ok(axum::Json(application.view()))
}

/// Delete an application; its unredeemed authorization codes go with it.
#[utoipa::path(delete, path = "/v1/admin/applications/{id}", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_application(
    State(app): State<AppState>,
    admin: Admin,
    client: Client,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    if !store::delete(&app.db, &id).await? {
        return Err(Error::NotFound("application"));
    }
    audit::record(
        &app,
        app.clock.now(),
        AuditEvent::new("admin.application_deleted")
            .actor(&admin.key_id)
            .target(&id)
            .client(&client),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How long the secret being replaced keeps working.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecretRequest {
    /// Seconds the old secret is still accepted (at most 7 days); 0 (the default) ends it at
    /// once — after a leak, that is what you want.
    #[serde(default, deserialize_with = "crate::http::optional_integer")]
    #[schema(value_type = Option<u32>, minimum = 0, maximum = 604800)]
    grace_period_secs: Option<i64>,
}

const MAX_GRACE_SECS: i64 = 7 * 24 * 3600;

/// Replace a `web` or `machine` application's client secret. The old one stops working at once, or after
/// `grace_period_secs` so that running deployments can switch without downtime (the body is
/// optional). A public application has none: `409`.
#[utoipa::path(post, path = "/v1/admin/applications/{id}/rotate-secret", tag = "admin", security(("admin_key" = [])),
    params(("id" = String, Path)),
    request_body(content = RotateSecretRequest, description = "`{}` (or no body at all): the old secret ends at once."),
    responses((status = 200, body = ApplicationWithSecret), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn rotate_secret(
    State(app): State<AppState>,
    admin: Admin,
    client: Client,
    Path(id): Path<String>,
    body: Option<Json<RotateSecretRequest>>,
) -> Result<axum::Json<ApplicationWithSecret>> {
    let grace = body
        .and_then(|Json(b)| b.grace_period_secs)
        .unwrap_or_default();
    if !(0..=MAX_GRACE_SECS).contains(&grace) {
        return Err(Error::invalid(
            "grace_period_secs: must be 0 to 604800 (7 days)",
        ));
    }
    let mut application = load(&app, &id).await?;
    if !application.kind.is_confidential() {
        return Err(Error::Conflict(
            "this application is public (spa or native): it has no client secret".into(),
        ));
    }
    let (secret, hash) = new_secret();
    let now = app.clock.now();
    let previous_until = (grace > 0).then(|| now + grace);
    if !store::set_secret_hash(&app.db, &id, &hash, previous_until, now).await? {
        return Err(Error::NotFound("application"));
    }
    application.previous_secret = previous_until
        .zip(application.secret_hash.clone())
        .map(|(until, old)| (old, until));
    application.secret_hash = Some(hash);
    application.updated_at = now;
    audit::record(
        &app,
        now,
        AuditEvent::new("admin.application_secret_rotated")
            .actor(&admin.key_id)
            .target(&id)
            .client(&client),
    )
    .await?;
    Ok(axum::Json(with_secret(&application, Some(secret))))
}
