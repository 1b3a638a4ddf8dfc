//! The revisions API, per instance, under `/v1/accounts/{id}/instances/{env}` (`live` or
//! `test`): list, show, diff, create (JSON Patch, merge patch or whole config; dry-run), deploy,
//! rollback, export and import YAML, and promotion of the test configuration to live.

use std::time::Duration;

use authstack_instance::config::{FieldError, InstanceConfig};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::diff::{Diff, diff};
use super::{NewRevision, Outcome, Revision, Source};
use crate::accounts::Account;
use crate::audit::{self, Actor};
use crate::error::{Error, Json, Query, Result};
use crate::gateway::changes;
use crate::instances::{self, Instance, State as InstanceState};
use crate::platform::Caller;
use crate::provisioner::Environment;
use crate::{App, AppState};

/// How long `?wait=true` waits for a deployment to settle.
const WAIT_LIMIT: Duration = Duration::from_secs(60);
const WAIT_POLL: Duration = Duration::from_millis(50);
/// Fields that belong to one environment and are not copied by a promotion.
const PER_ENVIRONMENT: &str =
    "security.allowed_origins, security.redirect_uris and mail.link_base_url";

/// The account's instance in `env`, for a caller with `permission`.
pub async fn instance_for(
    app: &App,
    caller: &Caller,
    account_id: &str,
    env: &str,
    permission: &str,
) -> Result<(Account, Instance)> {
    let account = crate::accounts::authorize(app, caller, account_id, permission).await?;
    let environment = Environment::parse(env)
        .ok_or_else(|| Error::invalid(format!("unknown environment '{env}': live or test")))?;
    let instance = instances::of_account(&app.db, &account.id)
        .await?
        .into_iter()
        .find(|i| i.environment == environment)
        .ok_or(Error::NotFound("instance"))?;
    Ok((account, instance))
}

#[derive(Serialize)]
pub struct RevisionView {
    #[serde(flatten)]
    revision: Revision,
    /// The revision the instance runs.
    current: bool,
    /// The last revision that became ready.
    last_healthy: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    config: Option<InstanceConfig>,
}

fn view(instance: &Instance, revision: Revision, with_config: bool) -> RevisionView {
    RevisionView {
        current: instance.current_revision == Some(revision.number),
        last_healthy: instance.last_healthy_revision == Some(revision.number),
        config: with_config.then(|| revision.config.clone()),
        revision,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    before: Option<i64>,
    limit: Option<i64>,
}

#[derive(Serialize)]
pub struct RevisionList {
    data: Vec<RevisionView>,
    /// The instance's wanted, current and last healthy revisions.
    revision: i64,
    current_revision: Option<i64>,
    last_healthy_revision: Option<i64>,
    /// Pass as `before` for the next page; `null` at the end.
    next_before: Option<i64>,
}

pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(String, String)>,
    Query(query): Query<ListQuery>,
) -> Result<axum::Json<RevisionList>> {
    let (_, instance) = instance_for(&app, &caller, &id, &env, "instances:read").await?;
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

/// The instance's wanted revision as a stored row (instances created before revisions were
/// stored get theirs on first access).
async fn ensure_wanted(app: &App, instance: &Instance) -> Result<Revision> {
    let plan = app.config.catalog.plan(&instance.plan);
    Ok(super::wanted(&app.db, instance, plan).await?)
}

async fn revision(app: &App, instance: &Instance, number: i64) -> Result<Revision> {
    ensure_wanted(app, instance).await?;
    super::find(&app.db, &instance.id, number)
        .await?
        .ok_or(Error::NotFound("revision"))
}

pub async fn get(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env, number)): Path<(String, String, i64)>,
) -> Result<axum::Json<RevisionView>> {
    let (_, instance) = instance_for(&app, &caller, &id, &env, "instances:read").await?;
    let revision = revision(&app, &instance, number).await?;
    Ok(axum::Json(view(&instance, revision, true)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    from: i64,
    to: i64,
}

#[derive(Serialize)]
pub struct DiffView {
    from: i64,
    to: i64,
    #[serde(flatten)]
    diff: Diff,
    security_notes: Vec<String>,
}

pub async fn compare(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(String, String)>,
    Query(query): Query<DiffQuery>,
) -> Result<axum::Json<DiffView>> {
    let (_, instance) = instance_for(&app, &caller, &id, &env, "instances:read").await?;
    let from = revision(&app, &instance, query.from).await?;
    let to = revision(&app, &instance, query.to).await?;
    Ok(axum::Json(DiffView {
        from: from.number,
        to: to.number,
        diff: diff(&from.config, &to.config),
        security_notes: super::security::notes(&from.config, &to.config),
    }))
}

/// A change: exactly one of `patch` (RFC 6902 JSON Patch), `merge` (RFC 7396 merge patch) or
/// `config` (the whole document), applied to the instance's wanted revision.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRequest {
    patch: Option<json_patch::Patch>,
    merge: Option<serde_json::Value>,
    config: Option<serde_json::Value>,
    summary: Option<String>,
    /// Only validate and show the diff.
    #[serde(default)]
    dry_run: bool,
    /// Deploy the new revision at once.
    #[serde(default)]
    deploy: bool,
    /// `dashboard` when the dashboard makes the change; `api` otherwise.
    source: Option<String>,
}

/// What a change would do (dry run) or did.
#[derive(Serialize)]
pub struct ChangeView {
    /// Whether the resulting configuration is valid.
    valid: bool,
    /// Validation problems, each with its field path.
    errors: Vec<FieldError>,
    /// Against the wanted revision.
    base_revision: i64,
    diff: Diff,
    security_notes: Vec<String>,
    /// The new revision (not on a dry run).
    #[serde(skip_serializing_if = "Option::is_none")]
    revision: Option<RevisionView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    deployment: Option<Deployment>,
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

pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(String, String)>,
    Json(request): Json<CreateRequest>,
) -> Result<Response> {
    let (account, instance) = instance_for(&app, &caller, &id, &env, "instances:manage").await?;
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

/// A proposed new configuration for an instance, from any source.
pub struct Change<'a> {
    pub account: &'a Account,
    pub instance: &'a Instance,
    pub base: &'a Revision,
    pub document: serde_json::Value,
    pub summary: Option<&'a str>,
    pub source: Source,
    pub author: &'a str,
    pub dry_run: bool,
    pub deploy: bool,
}

impl Change<'_> {
    /// Validates; on a dry run answers the diff; otherwise creates the revision (and deploys it
    /// when asked). An invalid configuration is `422 invalid_config` unless it is a dry run.
    pub async fn run(self, app: &App) -> Result<Response> {
        let plan = app.config.catalog.plan(&self.instance.plan);
        let parsed = InstanceConfig::from_json(self.document.clone())
            .and_then(|config| super::check(&config, plan).map(|()| config));
        let config = match parsed {
            Ok(config) => config,
            Err(errors) if self.dry_run => {
                return Ok(axum::Json(ChangeView {
                    valid: false,
                    errors,
                    base_revision: self.base.number,
                    diff: Diff {
                        changes: Vec::new(),
                        text: String::new(),
                    },
                    security_notes: Vec::new(),
                    revision: None,
                    deployment: None,
                })
                .into_response());
            }
            Err(errors) => return Err(Error::InvalidConfig(errors)),
        };
        let changes = diff(&self.base.config, &config);
        let security_notes = super::security::notes(&self.base.config, &config);
        if self.dry_run {
            return Ok(axum::Json(ChangeView {
                valid: true,
                errors: Vec::new(),
                base_revision: self.base.number,
                diff: changes,
                security_notes,
                revision: None,
                deployment: None,
            })
            .into_response());
        }
        if changes.is_empty() {
            return Err(Error::Conflict(format!(
                "nothing changes: the configuration equals revision {}",
                self.base.number
            )));
        }
        let summary = match self.summary.map(str::trim).filter(|s| !s.is_empty()) {
            Some(summary) if summary.len() <= 500 => summary.to_owned(),
            Some(_) => return Err(Error::invalid("summary: at most 500 characters")),
            None => default_summary(&changes),
        };
        let number = create_revision(
            app,
            self.account,
            self.instance,
            &config,
            &summary,
            self.source,
            self.author,
        )
        .await?;
        let deployment = if self.deploy {
            Some(deploy(app, self.account, self.instance, number, self.author, false).await?)
        } else {
            None
        };
        let instance = instances::find(&app.db, &self.instance.id)
            .await?
            .ok_or(Error::NotFound("instance"))?;
        let revision = revision(app, &instance, number).await?;
        Ok((
            StatusCode::CREATED,
            axum::Json(ChangeView {
                valid: true,
                errors: Vec::new(),
                base_revision: self.base.number,
                diff: changes,
                security_notes,
                revision: Some(view(&instance, revision, false)),
                deployment,
            }),
        )
            .into_response())
    }
}

/// "passwords.min_length, branding.primary_color changed".
fn default_summary(diff: &Diff) -> String {
    let paths: Vec<&str> = diff.changes.iter().map(|c| c.path.as_str()).collect();
    match paths.len() {
        0 => "no change".into(),
        1..=3 => format!("{} changed", paths.join(", ")),
        n => format!("{}, … ({n} fields) changed", paths[..3].join(", ")),
    }
}

/// Stores a new revision and audits it.
pub async fn create_revision(
    app: &App,
    account: &Account,
    instance: &Instance,
    config: &InstanceConfig,
    summary: &str,
    source: Source,
    author: &str,
) -> Result<i64> {
    let now = app.clock.now();
    let mut tx = app.db.writer.begin().await?;
    let number = super::insert(
        &mut tx,
        &instance.id,
        NewRevision {
            config,
            summary,
            source,
            author: Some(author),
        },
        now,
    )
    .await?;
    audit::record(
        &mut *tx,
        now,
        Some(&account.id),
        Actor::User(author),
        "revision.created",
        Some(&instance.id),
        serde_json::json!({ "revision": number, "source": source.as_str(), "summary": summary }),
    )
    .await?;
    tx.commit().await?;
    Ok(number)
}

/// How a deployment went, as far as it got.
#[derive(Debug, Clone, Serialize)]
pub struct Deployment {
    pub revision: i64,
    /// `deploying`, `deployed`, `failed` (rolled back), or `pending` when not settled in time.
    pub outcome: Outcome,
    pub detail: Option<String>,
    /// The revision the instance runs now.
    pub current_revision: Option<i64>,
    pub state: InstanceState,
}

/// Makes `number` the instance's wanted revision and wakes the reconciler; with `wait`, follows
/// the rollout until it settles (deployed, or failed and rolled back) or a minute passes.
pub async fn deploy(
    app: &App,
    account: &Account,
    instance: &Instance,
    number: i64,
    author: &str,
    wait: bool,
) -> Result<Deployment> {
    if instance.desired != instances::Desired::Running {
        return Err(Error::Conflict(format!(
            "the instance is {}; resume it before deploying",
            instance.desired.as_str()
        )));
    }
    let target = revision(app, instance, number).await?;
    let now = app.clock.now();
    let mut tx = app.db.writer.begin().await?;
    sqlx::query(
        "UPDATE instances SET revision = $1, last_error = NULL, updated_at = $2 WHERE id = $3",
    )
    .bind(number)
    .bind(now)
    .bind(&instance.id)
    .execute(&mut *tx)
    .await?;
    super::set_outcome(
        &mut *tx,
        &instance.id,
        number,
        Outcome::Deploying,
        None,
        now,
    )
    .await?;
    instances::record_step(
        &mut *tx,
        &instance.id,
        now,
        "deploy requested",
        Some(&format!("revision {number}: {}", target.summary)),
    )
    .await?;
    audit::record(
        &mut *tx,
        now,
        Some(&account.id),
        Actor::User(author),
        "revision.deploy_requested",
        Some(&instance.id),
        serde_json::json!({ "revision": number, "from": instance.current_revision }),
    )
    .await?;
    tx.commit().await?;
    app.reconciler.wake();
    if wait {
        settle(app, &instance.id, number).await
    } else {
        deployment(app, &instance.id, number).await
    }
}

async fn deployment(app: &App, instance_id: &str, number: i64) -> Result<Deployment> {
    let instance = instances::find(&app.db, instance_id)
        .await?
        .ok_or(Error::NotFound("instance"))?;
    let revision = super::find(&app.db, instance_id, number)
        .await?
        .ok_or(Error::NotFound("revision"))?;
    Ok(Deployment {
        revision: number,
        outcome: revision.outcome,
        detail: revision.outcome_detail,
        current_revision: instance.current_revision,
        state: instance.state,
    })
}

/// Waits until revision `number` is deployed or failed.
pub async fn settle(app: &App, instance_id: &str, number: i64) -> Result<Deployment> {
    let deadline = tokio::time::Instant::now() + WAIT_LIMIT;
    loop {
        let deployment = deployment(app, instance_id, number).await?;
        let settled = match deployment.outcome {
            Outcome::Deployed => {
                deployment.current_revision == Some(number)
                    && deployment.state == InstanceState::Ready
            }
            Outcome::Failed => deployment.state != InstanceState::Updating,
            Outcome::Pending | Outcome::Deploying => false,
        };
        if settled {
            routed_everywhere(app, deadline).await?;
            return Ok(deployment);
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(deployment);
        }
        tokio::time::sleep(WAIT_POLL).await;
    }
}

/// Waits (until `deadline`) for every live gateway to apply the newest route change: until
/// then, some requests still reach the process of the previous revision.
async fn routed_everywhere(app: &App, deadline: tokio::time::Instant) -> Result<()> {
    let change = changes::latest(&app.db).await?;
    while changes::behind(&app.db, change, app.clock.now()).await? > 0
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(WAIT_POLL).await;
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitQuery {
    #[serde(default)]
    wait: bool,
}

pub async fn deploy_route(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env, number)): Path<(String, String, i64)>,
    Query(query): Query<WaitQuery>,
) -> Result<Response> {
    let (account, instance) = instance_for(&app, &caller, &id, &env, "instances:manage").await?;
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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    /// The revision to go back to; by default the newest healthy revision before the current.
    revision: Option<i64>,
}

pub async fn rollback(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(String, String)>,
    Query(query): Query<WaitQuery>,
    body: Bytes,
) -> Result<Response> {
    let request: RollbackRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RollbackRequest::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| Error::invalid(format!("the body is not a rollback request: {e}")))?
    };
    let (account, instance) = instance_for(&app, &caller, &id, &env, "instances:manage").await?;
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

/// The newest revision before the current one that was deployed successfully.
async fn previous_healthy(app: &App, instance: &Instance) -> Result<i64> {
    let current = instance.current_revision.unwrap_or(instance.revision);
    let mut before = Some(current);
    loop {
        let page = super::list(&app.db, &instance.id, before, 50).await?;
        if page.is_empty() {
            return Err(Error::Conflict(format!(
                "no healthy revision before revision {current} to roll back to"
            )));
        }
        if let Some(found) = page.iter().find(|r| r.deployed_at.is_some()) {
            return Ok(found.number);
        }
        before = page.last().map(|r| r.number);
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    format: Option<String>,
}

pub async fn export(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env, number)): Path<(String, String, i64)>,
    Query(query): Query<ExportQuery>,
) -> Result<Response> {
    let (_, instance) = instance_for(&app, &caller, &id, &env, "instances:read").await?;
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    deploy: bool,
    summary: Option<String>,
}

/// `POST .../revisions/import` with a YAML (or JSON) body: the whole configuration.
pub async fn import(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(String, String)>,
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
    let (account, instance) = instance_for(&app, &caller, &id, &env, "instances:manage").await?;
    let text = std::str::from_utf8(&body).map_err(|_| Error::invalid("the body is not UTF-8"))?;
    // Parsed into a generic document first so that a syntax error is told apart from an invalid
    // field (which the change reports with its path, or on a dry run as a result).
    let document: serde_json::Value = serde_yaml::from_str(text)
        .map_err(|e| Error::invalid(format!("the body is not valid YAML: {e}")))?;
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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PromoteRequest {
    #[serde(default)]
    dry_run: bool,
    /// Deploy on live at once (the default); `false` only creates the revision.
    deploy: Option<bool>,
}

/// `POST /v1/accounts/{id}/instances/live/promote`: the test instance's current configuration
/// becomes a new live revision, except what belongs to each environment (origins, redirect
/// URIs, the mail link base).
pub async fn promote(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, env)): Path<(String, String)>,
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
    let (account, live) = instance_for(&app, &caller, &id, "live", "instances:manage").await?;
    let (_, test) = instance_for(&app, &caller, &id, "test", "instances:read").await?;
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
pub fn router() -> axum::Router<crate::AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route(
            "/v1/accounts/{id}/instances/{env}/revisions",
            get(list).post(create),
        )
        .route(
            "/v1/accounts/{id}/instances/{env}/revisions/diff",
            get(compare),
        )
        .route(
            "/v1/accounts/{id}/instances/{env}/revisions/import",
            post(import),
        )
        .route(
            "/v1/accounts/{id}/instances/{env}/revisions/{number}",
            get(self::get),
        )
        .route(
            "/v1/accounts/{id}/instances/{env}/revisions/{number}/deploy",
            post(deploy_route),
        )
        .route(
            "/v1/accounts/{id}/instances/{env}/revisions/{number}/export",
            get(export),
        )
        .route("/v1/accounts/{id}/instances/{env}/rollback", post(rollback))
        .route("/v1/accounts/{id}/instances/{env}/promote", post(promote))
}
