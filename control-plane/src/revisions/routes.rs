//! The revisions API, per instance, under `/v1/accounts/{id}/instances/{env}` (`live` or
//! `test`): list, show, diff, create (JSON Patch, merge patch or whole config; dry-run), deploy,
//! rollback, export and import YAML, and promotion of the test configuration to live.

use authstack_instance::config::InstanceConfig;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::change::Change;
use super::change::ChangeView;
use super::deploy::{Deployment, deploy, previous_healthy};
use super::diff::{Diff, diff};
use super::{Outcome, RevisionView, Source, ensure_wanted, numbered as revision, view};
use crate::AppState;
use crate::error::{Error, ErrorBody, Result};
use crate::http::extract::{Json, Path, Query};
use crate::ids::AccountId;
use crate::platform::Caller;

/// Fields that belong to one environment and are not copied by a promotion.
const PER_ENVIRONMENT: &str =
    "security.allowed_origins, security.redirect_uris and mail.link_base_url";

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Revisions numbered below this (`next_before` of the previous page).
    before: Option<i64>,
    /// Page size, 50 by default; values outside 1..=200 are brought into it.
    limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RevisionList {
    data: Vec<RevisionView>,
    /// The instance's wanted, current and last healthy revisions.
    revision: i64,
    #[schema(required = true)]
    current_revision: Option<i64>,
    #[schema(required = true)]
    last_healthy_revision: Option<i64>,
    /// Pass as `before` for the next page; `null` at the end.
    #[schema(required = true)]
    next_before: Option<i64>,
}

/// The instance's revisions, newest first.
#[utoipa::path(get, path = "/v1/accounts/{id}/instances/{env}/revisions", tag = "revisions", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`."), ListQuery),
    responses((status = 200, body = RevisionList), (status = 400, description = "`env` is neither `live` nor `test`, or a malformed parameter (`invalid_request`).", body = ErrorBody), (status = 404, description = "No such account, instance or revision (`not_found`).", body = ErrorBody)))]
pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(AccountId, String)>,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<RevisionList>> {
    let (_, instance) =
        crate::accounts::instance(&app, &caller, &id, &env, "instances:read").await?;
    ensure_wanted(&app, &instance).await?;
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let revisions = super::list(&app.db, &instance.id, query.before, limit).await?;
    let next_before = (revisions.len() as i64 == limit)
        .then(|| revisions.last().map(|r| r.number))
        .flatten();
    Ok(axum::Json(RevisionList {
        revision: instance.revision,
        current_revision: instance.current_revision,
        last_healthy_revision: instance.last_healthy_revision,
        data: revisions
            .into_iter()
            .map(|r| view(&instance, r, false))
            .collect(),
        next_before,
    }))
}

/// One revision, with its whole configuration.
#[utoipa::path(get, path = "/v1/accounts/{id}/instances/{env}/revisions/{number}", tag = "revisions", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`."), ("number" = i64, Path, description = "The revision number.")),
    responses((status = 200, body = RevisionView), (status = 400, description = "`env` is neither `live` nor `test`, or a malformed parameter (`invalid_request`).", body = ErrorBody), (status = 404, description = "No such account, instance or revision (`not_found`).", body = ErrorBody)))]
pub async fn get(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env, number)): Path<(AccountId, String, i64)>,
) -> Result<axum::Json<RevisionView>> {
    let (_, instance) =
        crate::accounts::instance(&app, &caller, &id, &env, "instances:read").await?;
    let revision = revision(&app, &instance, number).await?;
    Ok(axum::Json(view(&instance, revision, true)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    /// The revision to compare from.
    from: i64,
    /// The revision to compare to.
    to: i64,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DiffView {
    from: i64,
    to: i64,
    #[serde(flatten)]
    diff: Diff,
    security_notes: Vec<String>,
}

/// What changed between two revisions, with security notes.
#[utoipa::path(get, path = "/v1/accounts/{id}/instances/{env}/revisions/diff", tag = "revisions", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`."), DiffQuery),
    responses((status = 200, body = DiffView), (status = 400, description = "`env` is neither `live` nor `test`, or a malformed parameter (`invalid_request`).", body = ErrorBody), (status = 404, description = "No such account, instance or revision (`not_found`).", body = ErrorBody)))]
pub async fn compare(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(AccountId, String)>,
    Query(query): Query<DiffQuery>,
) -> Result<axum::Json<DiffView>> {
    let (_, instance) =
        crate::accounts::instance(&app, &caller, &id, &env, "instances:read").await?;
    let from = revision(&app, &instance, query.from).await?;
    let to = revision(&app, &instance, query.to).await?;
    Ok(axum::Json(DiffView {
        from: from.number,
        to: to.number,
        diff: diff(&from.config, &to.config),
        security_notes: super::security::notes(&from.config, &to.config),
    }))
}

/// One RFC 6902 JSON Patch operation, as the OpenAPI document describes it (the body is read
/// with `json_patch::Patch`, which takes exactly these shapes).
#[derive(utoipa::ToSchema)]
#[serde(tag = "op", rename_all = "lowercase")]
#[allow(dead_code)]
pub enum JsonPatchOperation {
    Add {
        /// A JSON Pointer (RFC 6901): empty, or `/` and the path.
        #[schema(pattern = r"^(/[\s\S]*)?$")]
        path: String,
        value: serde_json::Value,
    },
    Remove {
        #[schema(pattern = r"^(/[\s\S]*)?$")]
        path: String,
    },
    Replace {
        #[schema(pattern = r"^(/[\s\S]*)?$")]
        path: String,
        value: serde_json::Value,
    },
    Move {
        #[schema(pattern = r"^(/[\s\S]*)?$")]
        from: String,
        #[schema(pattern = r"^(/[\s\S]*)?$")]
        path: String,
    },
    Copy {
        #[schema(pattern = r"^(/[\s\S]*)?$")]
        from: String,
        #[schema(pattern = r"^(/[\s\S]*)?$")]
        path: String,
    },
    Test {
        #[schema(pattern = r"^(/[\s\S]*)?$")]
        path: String,
        value: serde_json::Value,
    },
}

/// A change: exactly one of `patch` (RFC 6902 JSON Patch), `merge` (RFC 7396 merge patch) or
/// `config` (the whole document), applied to the instance's wanted revision.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CreateRevisionRequest)]
pub struct CreateRequest {
    /// RFC 6902 JSON Patch operations.
    #[schema(value_type = Option<Vec<JsonPatchOperation>>)]
    patch: Option<json_patch::Patch>,
    /// An RFC 7396 merge patch.
    #[schema(value_type = Option<serde_json::Value>)]
    merge: Option<serde_json::Value>,
    /// The whole configuration.
    #[schema(value_type = Option<serde_json::Value>)]
    config: Option<serde_json::Value>,
    /// At most 500 characters; derived from the diff when absent or blank.
    #[schema(max_length = 500)]
    summary: Option<String>,
    /// Only validate and show the diff.
    #[serde(default)]
    dry_run: bool,
    /// Deploy the new revision at once.
    #[serde(default)]
    deploy: bool,
    /// `dashboard` when the dashboard makes the change; `api` otherwise.
    #[schema(pattern = "^(dashboard|api)$")]
    source: Option<String>,
}

/// Applies a change document to `base`; the JSON form of the result is validated by the caller.
fn patched(base: &InstanceConfig, request: &CreateRequest) -> Result<serde_json::Value> {
    let mut document = serde_json::to_value(base).map_err(anyhow::Error::from)?;
    match (&request.patch, &request.merge, &request.config) {
        (Some(patch), None, None) => {
            json_patch::patch(&mut document, patch)
                .map_err(|e| Error::invalid(format!("the patch does not apply: {e}")))?;
        }
        (None, Some(merge), None) => json_patch::merge(&mut document, merge),
        (None, None, Some(config)) => document = config.clone(),
        _ => {
            return Err(Error::invalid(
                "send exactly one of patch (JSON Patch), merge (merge patch) or config",
            ));
        }
    }
    Ok(document)
}

/// A new revision from exactly one of `patch`, `merge` or `config`; `dry_run` only validates.
#[utoipa::path(post, path = "/v1/accounts/{id}/instances/{env}/revisions", tag = "revisions", request_body = CreateRequest,
    security(("bearer" = [])), params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`.")),
    responses((status = 200, description = "A dry run: whether the configuration is valid, and the diff.", body = ChangeView),
        (status = 201, description = "The new revision (and its deployment when asked).", body = ChangeView),
        (status = 400, description = "A malformed change, `env` is neither `live` nor `test` (`invalid_request`).", body = ErrorBody),
        (status = 404, description = "No such account, instance or revision (`not_found`).", body = ErrorBody),
        (status = 409, description = "Nothing changes, or the instance is not running (`conflict`).", body = ErrorBody),
        (status = 422, description = "The resulting configuration is invalid (`invalid_config`, with `errors`).", body = ErrorBody)))]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(AccountId, String)>,
    Json(request): Json<CreateRequest>,
) -> Result<Response> {
    let (account, instance) =
        crate::accounts::instance(&app, &caller, &id, &env, "instances:manage").await?;
    let source = match request.source.as_deref() {
        None | Some("api") => Source::Api,
        Some("dashboard") => Source::Dashboard,
        Some(other) => {
            return Err(Error::invalid(format!(
                "source '{other}': dashboard or api (imports, customizations and promotions have their own endpoints)"
            )));
        }
    };
    let base = ensure_wanted(&app, &instance).await?;
    let document = patched(&base.config, &request)?;
    let summary = request.summary.clone();
    let change = Change {
        account: &account,
        instance: &instance,
        base: &base,
        document,
        summary: summary.as_deref(),
        source,
        author: &caller.user_id,
        dry_run: request.dry_run,
        deploy: request.deploy,
    };
    change.run(&app).await
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WaitQuery {
    /// Follow the rollout until it settles (at most a minute).
    #[serde(default)]
    wait: bool,
}

/// Makes a revision the wanted one and deploys it.
#[utoipa::path(post, path = "/v1/accounts/{id}/instances/{env}/revisions/{number}/deploy", tag = "revisions",
    security(("bearer" = [])), params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`."), ("number" = i64, Path, description = "The revision number."), WaitQuery),
    responses((status = 200, description = "Deployed, or failed and rolled back.", body = Deployment),
        (status = 202, description = "Not settled yet (without `wait`, or after a minute).", body = Deployment), (status = 400, description = "`env` is neither `live` nor `test`, or a malformed parameter (`invalid_request`).", body = ErrorBody), (status = 404, description = "No such account, instance or revision (`not_found`).", body = ErrorBody),
        (status = 409, description = "The instance is not running, or is deploying (`conflict`).", body = ErrorBody)))]
pub async fn deploy_route(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env, number)): Path<(AccountId, String, i64)>,
    Query(query): Query<WaitQuery>,
) -> Result<Response> {
    let (account, instance) =
        crate::accounts::instance(&app, &caller, &id, &env, "instances:manage").await?;
    let deployment = deploy(
        &app,
        &account,
        &instance,
        number,
        &caller.user_id,
        query.wait,
    )
    .await?;
    Ok(deployment_response(deployment))
}

fn deployment_response(deployment: Deployment) -> Response {
    let status = match deployment.outcome {
        Outcome::Deployed | Outcome::Failed => StatusCode::OK,
        Outcome::Pending | Outcome::Deploying => StatusCode::ACCEPTED,
    };
    (status, axum::Json(deployment)).into_response()
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    /// The revision to go back to; by default the newest healthy revision before the current.
    #[serde(
        default,
        deserialize_with = "authstack_instance::http::optional_integer"
    )]
    revision: Option<i64>,
}

/// Deploys an earlier revision (by default the newest healthy one before the current). The
/// body is optional.
#[utoipa::path(post, path = "/v1/accounts/{id}/instances/{env}/rollback", tag = "revisions",
    request_body(content = RollbackRequest, content_type = "application/json", description = "Optional: an empty body is `{}`."),
    security(("bearer" = [])), params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`."), WaitQuery),
    responses((status = 200, description = "Deployed, or failed and rolled back.", body = Deployment),
        (status = 202, description = "Not settled yet (without `wait`, or after a minute).", body = Deployment), (status = 400, description = "`env` is neither `live` nor `test`, or a malformed parameter (`invalid_request`).", body = ErrorBody), (status = 404, description = "No such account, instance or revision (`not_found`).", body = ErrorBody),
        (status = 409, description = "Nothing to roll back to, the instance already runs it, or it is not running (`conflict`).", body = ErrorBody)))]
pub async fn rollback(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(AccountId, String)>,
    Query(query): Query<WaitQuery>,
    body: Bytes,
) -> Result<Response> {
    let request: RollbackRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RollbackRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| Error::invalid(format!("the body is not a rollback request: {e}")))?
    };
    let (account, instance) =
        crate::accounts::instance(&app, &caller, &id, &env, "instances:manage").await?;
    let target = match request.revision {
        Some(number) => revision(&app, &instance, number).await?.number,
        None => previous_healthy(&app, &instance).await?,
    };
    if instance.current_revision == Some(target) && instance.revision == target {
        return Err(Error::Conflict(format!(
            "the instance already runs revision {target}"
        )));
    }
    let deployment = deploy(
        &app,
        &account,
        &instance,
        target,
        &caller.user_id,
        query.wait,
    )
    .await?;
    Ok(deployment_response(deployment))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `yaml` (the default) or `json`.
    #[param(pattern = "^(yaml|json)$")]
    format: Option<String>,
}

/// A revision's configuration as a YAML or JSON file.
#[utoipa::path(get, path = "/v1/accounts/{id}/instances/{env}/revisions/{number}/export", tag = "revisions",
    security(("bearer" = [])), params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`."), ("number" = i64, Path, description = "The revision number."), ExportQuery),
    responses((status = 200, description = "The configuration, as an attachment.",
            content((Object = "application/yaml"), (Object = "application/json"))),
        (status = 400, description = "`env` is neither `live` nor `test`, or a malformed parameter (`invalid_request`).", body = ErrorBody), (status = 404, description = "No such account, instance or revision (`not_found`).", body = ErrorBody)))]
pub async fn export(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env, number)): Path<(AccountId, String, i64)>,
    Query(query): Query<ExportQuery>,
) -> Result<Response> {
    let (_, instance) =
        crate::accounts::instance(&app, &caller, &id, &env, "instances:read").await?;
    let revision = revision(&app, &instance, number).await?;
    let (body, content_type, extension) = match query.format.as_deref().unwrap_or("yaml") {
        "yaml" => {
            let yaml = serde_yaml::to_string(&revision.config).map_err(anyhow::Error::from)?;
            let header = format!(
                "# AuthStack instance configuration: {} instance {}, revision {}\n# {}\n",
                instance.environment,
                instance.id,
                revision.number,
                revision.summary.replace('\n', " ")
            );
            (header + &yaml, "application/yaml", "yaml")
        }
        "json" => (
            serde_json::to_string_pretty(&revision.config).map_err(anyhow::Error::from)?,
            "application/json",
            "json",
        ),
        other => {
            return Err(Error::invalid(format!("format '{other}': yaml or json")));
        }
    };
    let filename = format!(
        "attachment; filename=\"authstack-{}-r{}.{extension}\"",
        instance.environment, revision.number
    );
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(value) = HeaderValue::from_str(&filename) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Only validate and show the diff.
    #[serde(default)]
    dry_run: bool,
    /// Deploy the new revision at once.
    #[serde(default)]
    deploy: bool,
    /// At most 500 characters.
    #[param(max_length = 500)]
    summary: Option<String>,
}

/// `POST .../revisions/import` with a YAML (or JSON) body: the whole configuration.
/// A new revision from a whole configuration in YAML (or JSON).
#[utoipa::path(post, path = "/v1/accounts/{id}/instances/{env}/revisions/import", tag = "revisions",
    request_body(description = "The whole configuration, as YAML or JSON.",
        content((Object = "application/yaml"), (Object = "application/json"))),
    security(("bearer" = [])), params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = crate::provisioner::Environment, Path, description = "`live` or `test`."), ImportQuery),
    responses((status = 200, description = "A dry run: whether the configuration is valid, and the diff.", body = ChangeView),
        (status = 201, description = "The new revision (and its deployment when asked).", body = ChangeView),
        (status = 400, description = "A malformed change, `env` is neither `live` nor `test` (`invalid_request`).", body = ErrorBody),
        (status = 404, description = "No such account, instance or revision (`not_found`).", body = ErrorBody),
        (status = 415, description = "The body is not YAML or JSON (`unsupported_media_type`).", body = ErrorBody),
        (status = 409, description = "Nothing changes, or the instance is not running (`conflict`).", body = ErrorBody),
        (status = 422, description = "The resulting configuration is invalid (`invalid_config`, with `errors`).", body = ErrorBody)))]
pub async fn import(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(AccountId, String)>,
    Query(query): Query<ImportQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let yamlish = [
        "application/yaml",
        "application/x-yaml",
        "text/yaml",
        "text/plain",
        "application/json",
    ];
    if !yamlish.iter().any(|t| content_type.starts_with(t)) {
        return Err(Error::UnsupportedMediaType("application/yaml"));
    }
    let (account, instance) =
        crate::accounts::instance(&app, &caller, &id, &env, "instances:manage").await?;
    let text = std::str::from_utf8(&body).map_err(|_| Error::invalid("the body is not UTF-8"))?;
    // Parsed into a generic document first so that a syntax error is told apart from an invalid
    // field (which the change reports with its path, or on a dry run as a result).
    let document: serde_json::Value = serde_yaml::from_str(text)
        .map_err(|e| Error::invalid(format!("the body is not valid YAML: {e}")))?;
    // A configuration is a mapping: anything else is a malformed request, not an invalid one.
    if !document.is_object() {
        return Err(Error::invalid(
            "the body must be a YAML mapping (or JSON object): the whole configuration",
        ));
    }
    let base = ensure_wanted(&app, &instance).await?;
    let summary = query
        .summary
        .unwrap_or_else(|| "imported configuration".into());
    Change {
        account: &account,
        instance: &instance,
        base: &base,
        document,
        summary: Some(&summary),
        source: Source::Import,
        author: &caller.user_id,
        dry_run: query.dry_run,
        deploy: query.deploy,
    }
    .run(&app)
    .await
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromoteRequest {
    /// Only validate and show the diff.
    #[serde(default)]
    dry_run: bool,
    /// Deploy on live at once (the default); `false` only creates the revision.
    deploy: Option<bool>,
}

/// `POST /v1/accounts/{id}/instances/live/promote`: the test instance's current configuration
/// becomes a new live revision, except what belongs to each environment (origins, redirect
/// URIs, the mail link base).
/// The test instance's deployed configuration becomes a new live revision (origins, redirect
/// URIs and the mail link base stay live's). The body is optional.
#[utoipa::path(post, path = "/v1/accounts/{id}/instances/{env}/promote", tag = "revisions",
    request_body(content = PromoteRequest, content_type = "application/json", description = "Optional: an empty body is `{}`."),
    security(("bearer" = [])), params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = String, Path, pattern = "^live$", description = "`live`: promotion copies test to live.")),
    responses((status = 200, description = "A dry run: whether the configuration is valid, and the diff.", body = ChangeView),
        (status = 201, description = "The new revision (and its deployment when asked).", body = ChangeView),
        (status = 400, description = "A malformed change, `env` is neither `live` nor `test` (`invalid_request`).", body = ErrorBody),
        (status = 404, description = "No such account, instance or revision (`not_found`).", body = ErrorBody),
        (status = 409, description = "The test instance has no deployed revision, nothing changes, or the instance is not running (`conflict`).", body = ErrorBody),
        (status = 422, description = "The resulting configuration is invalid (`invalid_config`, with `errors`).", body = ErrorBody)))]
pub async fn promote(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(AccountId, String)>,
    body: Bytes,
) -> Result<Response> {
    if env != "live" {
        return Err(Error::invalid(
            "promotion copies the test configuration to live: POST .../instances/live/promote",
        ));
    }
    let request: PromoteRequest = if body.iter().all(u8::is_ascii_whitespace) {
        PromoteRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| Error::invalid(format!("the body is not a promote request: {e}")))?
    };
    let (account, live) =
        crate::accounts::instance(&app, &caller, &id, "live", "instances:manage").await?;
    let (_, test) = crate::accounts::instance(&app, &caller, &id, "test", "instances:read").await?;
    let test_number = test.current_revision.ok_or_else(|| {
        Error::Conflict("the test instance has no deployed revision to promote yet".into())
    })?;
    let source = revision(&app, &test, test_number).await?;
    let base = ensure_wanted(&app, &live).await?;
    let mut config = source.config.clone();
    config.security.allowed_origins = base.config.security.allowed_origins.clone();
    config.security.redirect_uris = base.config.security.redirect_uris.clone();
    config.mail.link_base_url = base.config.mail.link_base_url.clone();
    let summary =
        format!("promoted from test revision {test_number} ({PER_ENVIRONMENT} kept from live)");
    Change {
        account: &account,
        instance: &live,
        base: &base,
        document: serde_json::to_value(&config).map_err(anyhow::Error::from)?,
        summary: Some(&summary),
        source: Source::Promotion,
        author: &caller.user_id,
        dry_run: request.dry_run,
        deploy: request.deploy.unwrap_or(true),
    }
    .run(&app)
    .await
}

/// This module's routes.
pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(compare))
        .routes(routes!(import))
        .routes(routes!(self::get))
        .routes(routes!(deploy_route))
        .routes(routes!(export))
        .routes(routes!(rollback))
        .routes(routes!(promote))
}
