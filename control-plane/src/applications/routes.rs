//! `GET/POST /v1/accounts/{id}/instances/{env}/applications`,
//! `GET/PATCH/DELETE .../applications/{app_id}` and `POST .../applications/{app_id}/rotate-secret`:
//! the instance's own application routes, behind a platform access token. Members who may see
//! keys see applications; creating, changing, rotating and deleting them mints or redirects
//! credentials, so it needs `keys:manage`, as keys do (checked against the platform's live state
//! by [`Caller`]).

use axum::extract::State;
use axum::http::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::{
    Application, ApplicationChange, ApplicationView, Minted, NewApplication, OpenIdProvider,
};
use crate::accounts::{self, Account};
use crate::audit::{self, Actor};
use crate::error::{ErrorBody, Result};
use crate::http::extract::{Json, Path};
use crate::ids::AccountId;
use crate::instances::Instance;
use crate::platform::Caller;
use crate::{App, AppState};

const READ: &str = "keys:read";
const MANAGE: &str = "keys:manage";

#[derive(Serialize, utoipa::ToSchema)]
pub struct ApplicationList {
    #[serde(flatten)]
    provider: OpenIdProvider,
    /// Oldest first.
    data: Vec<ApplicationView>,
}

/// An application with its client secret: in the answer that creates or rotates it, and never
/// again.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ApplicationWithSecret {
    #[serde(flatten)]
    application: ApplicationView,
    /// The client secret of a `web` application (absent for `spa` and `native`). Shown once;
    /// the instance keeps only its hash.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "expose")]
    #[schema(value_type = Option<String>)]
    client_secret: Option<SecretString>,
}

fn expose<S: serde::Serializer>(
    secret: &Option<SecretString>,
    serializer: S,
) -> std::result::Result<S::Ok, S::Error> {
    match secret {
        Some(secret) => serializer.serialize_some(secret.expose_secret()),
        None => serializer.serialize_none(),
    }
}

async fn view(app: &App, instance: &Instance, application: Application) -> Result<ApplicationView> {
    Ok(ApplicationView {
        application,
        provider: OpenIdProvider::of(app, instance).await?,
    })
}

async fn with_secret(
    app: &App,
    instance: &Instance,
    minted: Minted,
) -> Result<ApplicationWithSecret> {
    Ok(ApplicationWithSecret {
        application: view(app, instance, minted.application).await?,
        client_secret: minted.client_secret,
    })
}

/// Records `action` on `target` (an application, a webhook endpoint... of `instance`) in the
/// account's audit log.
pub(crate) async fn record(
    app: &App,
    account: &Account,
    caller: &Caller,
    instance: &Instance,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Result<()> {
    let mut fields = serde_json::Map::new();
    fields.insert("instance_id".into(), instance.id.as_str().into());
    fields.insert(
        "environment".into(),
        instance.environment.as_str().to_owned().into(),
    );
    if let serde_json::Value::Object(more) = detail {
        fields.extend(more);
    }
    let mut tx = app.db.begin_write().await?;
    audit::record(
        &mut *tx,
        app.clock.now(),
        Some(&account.id),
        Actor::User(&caller.user_id),
        action,
        Some(target),
        serde_json::Value::Object(fields),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The instance's applications, with its issuer and discovery URL.
#[utoipa::path(get, path = "/v1/accounts/{id}/instances/{env}/applications", tag = "applications", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`.")),
    responses((status = 200, body = ApplicationList),
        (status = 400, description = "`env` is neither `live` nor `test` (`invalid_request`).", body = ErrorBody),
        (status = 403, description = "The caller lacks `keys:read` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account, or it has no instance of that environment (`not_found`).", body = ErrorBody),
        (status = 409, description = "The instance is not running: suspended, still provisioning, failed or being deleted (`instance_not_running`).", body = ErrorBody),
        (status = 503, description = "The instance should be running but did not answer (`instance_unavailable`).", body = ErrorBody)))]
pub async fn list_applications(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(AccountId, String)>,
) -> Result<axum::Json<ApplicationList>> {
    let (_, instance) = accounts::instance(&app, &caller, &id, &env, READ).await?;
    let data = super::list(&app, &instance).await?;
    let provider = OpenIdProvider::of(&app, &instance).await?;
    Ok(axum::Json(ApplicationList {
        data: data
            .into_iter()
            .map(|application| ApplicationView {
                application,
                provider: provider.clone(),
            })
            .collect(),
        provider,
    }))
}

/// Registers an application with the instance. A `web` application's client secret is in this
/// answer only.
#[utoipa::path(post, path = "/v1/accounts/{id}/instances/{env}/applications", tag = "applications",
    request_body = NewApplication, security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`.")),
    responses((status = 201, body = ApplicationWithSecret),
        (status = 400, description = "The instance refused the application; the message names the field (`redirect_uris[2]: must use https …`) (`invalid_request`).", body = ErrorBody),
        (status = 403, description = "No sign-in within the last 10 minutes (`reauthentication_required`), or the caller lacks `keys:manage` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account, or it has no instance of that environment (`not_found`).", body = ErrorBody),
        (status = 409, description = "The instance is not running (`instance_not_running`).", body = ErrorBody),
        (status = 503, description = "The instance should be running but did not answer (`instance_unavailable`).", body = ErrorBody)))]
pub async fn create_application(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(AccountId, String)>,
    Json(request): Json<NewApplication>,
) -> Result<(StatusCode, axum::Json<ApplicationWithSecret>)> {
    let (account, instance) = accounts::instance(&app, &caller, &id, &env, MANAGE).await?;
    caller.ensure_recent_sign_in(app.clock.now())?;
    let minted = super::create(&app, &instance, &request).await?;
    let detail = serde_json::json!({ "name": minted.application.name, "kind": minted.application.kind.as_str() });
    let target = minted.application.id.clone();
    record(
        &app,
        &account,
        &caller,
        &instance,
        "application.created",
        &target,
        detail,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(with_secret(&app, &instance, minted).await?),
    ))
}

/// One application of the instance (never its secret).
#[utoipa::path(get, path = "/v1/accounts/{id}/instances/{env}/applications/{app_id}", tag = "applications", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`."),
        ("app_id" = String, Path, description = "The application's id, its client id (`app_…`).")),
    responses((status = 200, body = ApplicationView),
        (status = 400, description = "`env` is neither `live` nor `test` (`invalid_request`).", body = ErrorBody),
        (status = 403, description = "The caller lacks `keys:read` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account, instance or application (`not_found`).", body = ErrorBody),
        (status = 409, description = "The instance is not running (`instance_not_running`).", body = ErrorBody),
        (status = 503, description = "The instance should be running but did not answer (`instance_unavailable`).", body = ErrorBody)))]
pub async fn get_application(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env, app_id)): Path<(AccountId, String, String)>,
) -> Result<axum::Json<ApplicationView>> {
    let (_, instance) = accounts::instance(&app, &caller, &id, &env, READ).await?;
    let application = super::get(&app, &instance, &app_id).await?;
    Ok(axum::Json(view(&app, &instance, application).await?))
}

/// Changes an application's name, URIs or first-party flag (its kind cannot change).
#[utoipa::path(patch, path = "/v1/accounts/{id}/instances/{env}/applications/{app_id}", tag = "applications",
    request_body = ApplicationChange, security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`."),
        ("app_id" = String, Path, description = "The application's id, its client id (`app_…`).")),
    responses((status = 200, body = ApplicationView),
        (status = 400, description = "The instance refused the change; the message names the field (`invalid_request`).", body = ErrorBody),
        (status = 403, description = "No sign-in within the last 10 minutes (`reauthentication_required`), or the caller lacks `keys:manage` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account, instance or application (`not_found`).", body = ErrorBody),
        (status = 409, description = "The instance is not running (`instance_not_running`).", body = ErrorBody),
        (status = 503, description = "The instance should be running but did not answer (`instance_unavailable`).", body = ErrorBody)))]
pub async fn update_application(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env, app_id)): Path<(AccountId, String, String)>,
    Json(change): Json<ApplicationChange>,
) -> Result<axum::Json<ApplicationView>> {
    let (account, instance) = accounts::instance(&app, &caller, &id, &env, MANAGE).await?;
    caller.ensure_recent_sign_in(app.clock.now())?;
    let application = super::update(&app, &instance, &app_id, &change).await?;
    let detail = serde_json::json!({ "name": application.name, "changed": change.fields() });
    record(
        &app,
        &account,
        &caller,
        &instance,
        "application.updated",
        &application.id,
        detail,
    )
    .await?;
    Ok(axum::Json(view(&app, &instance, application).await?))
}

/// Deletes an application: its secret and unredeemed authorization codes stop working at once.
#[utoipa::path(delete, path = "/v1/accounts/{id}/instances/{env}/applications/{app_id}", tag = "applications", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`."),
        ("app_id" = String, Path, description = "The application's id, its client id (`app_…`).")),
    responses((status = 204, description = "Deleted."),
        (status = 400, description = "`env` is neither `live` nor `test` (`invalid_request`).", body = ErrorBody),
        (status = 403, description = "The caller lacks `keys:manage` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account, instance or application (`not_found`).", body = ErrorBody),
        (status = 409, description = "The instance is not running (`instance_not_running`).", body = ErrorBody),
        (status = 503, description = "The instance should be running but did not answer (`instance_unavailable`).", body = ErrorBody)))]
pub async fn delete_application(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env, app_id)): Path<(AccountId, String, String)>,
) -> Result<StatusCode> {
    let (account, instance) = accounts::instance(&app, &caller, &id, &env, MANAGE).await?;
    super::delete(&app, &instance, &app_id).await?;
    let detail = serde_json::Value::Null;
    record(
        &app,
        &account,
        &caller,
        &instance,
        "application.deleted",
        &app_id,
        detail,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a secret rotation may say; the body is optional.
#[derive(serde::Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecretRequest {
    /// How long the old secret keeps working, so that running deployments can switch without
    /// downtime; 0 (the default) ends it at once — after a leak, that is what you want.
    #[schema(value_type = Option<u32>, minimum = 0, maximum = 604800)]
    #[serde(
        default,
        deserialize_with = "authstack_instance::http::optional_integer"
    )]
    grace_period_secs: Option<i64>,
}

/// Replaces a `web` application's client secret; the old one stops working at once, or after
/// `grace_period_secs`. The new one is in this answer only.
#[utoipa::path(post, path = "/v1/accounts/{id}/instances/{env}/applications/{app_id}/rotate-secret", tag = "applications", security(("bearer" = [])),
    request_body(content = Option<RotateSecretRequest>, content_type = "application/json", description = "Optional: no body is `{}`."),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`."),
        ("app_id" = String, Path, description = "The application's id, its client id (`app_…`).")),
    responses((status = 200, body = ApplicationWithSecret),
        (status = 400, description = "`env` is neither `live` nor `test`, the body is not a rotation request, or the grace period is out of range (`invalid_request`).", body = ErrorBody),
        (status = 403, description = "No sign-in within the last 10 minutes (`reauthentication_required`), or the caller lacks `keys:manage` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account, instance or application (`not_found`).", body = ErrorBody),
        (status = 409, description = "A public (`spa`, `native`) application has no secret (`conflict`), or the instance is not running (`instance_not_running`).", body = ErrorBody),
        (status = 503, description = "The instance should be running but did not answer (`instance_unavailable`).", body = ErrorBody)))]
pub async fn rotate_secret(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env, app_id)): Path<(AccountId, String, String)>,
    body: axum::body::Bytes,
) -> Result<axum::Json<ApplicationWithSecret>> {
    let (account, instance) = accounts::instance(&app, &caller, &id, &env, MANAGE).await?;
    caller.ensure_recent_sign_in(app.clock.now())?;
    // The body is optional: none (or `{}`) ends the old secret at once.
    let request: RotateSecretRequest = crate::http::extract::optional_json(&body)?;
    let grace = request.grace_period_secs.unwrap_or_default();
    let minted = super::rotate_secret(&app, &instance, &app_id, grace).await?;
    let detail = serde_json::json!({ "name": minted.application.name });
    let target = minted.application.id.clone();
    record(
        &app,
        &account,
        &caller,
        &instance,
        "application.secret_rotated",
        &target,
        detail,
    )
    .await?;
    Ok(axum::Json(with_secret(&app, &instance, minted).await?))
}

/// This module's routes.
pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list_applications, create_application))
        .routes(routes!(
            get_application,
            update_application,
            delete_application
        ))
        .routes(routes!(rotate_secret))
}
