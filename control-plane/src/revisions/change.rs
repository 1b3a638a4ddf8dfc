//! A proposed configuration, from any source (the API, an import, a promotion, a
//! customization): validated, diffed, stored as a new revision, and deployed when asked.

use authstack_instance::config::{FieldError, InstanceConfig};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::deploy::{Deployment, deploy};
use super::diff::{Diff, diff};
use super::{NewRevision, Revision, RevisionView, Source, numbered as revision, view};
use crate::App;
use crate::accounts::Account;
use crate::audit::{self, Actor};
use crate::error::{Error, Result};
use crate::instances::{self, Instance};

/// What a change would do (dry run) or did.
#[derive(Serialize, utoipa::ToSchema)]
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
        // A malformed request is refused before anything, on a dry run too.
        if self.summary.is_some_and(|s| s.trim().chars().count() > 500) {
            return Err(Error::invalid("summary: at most 500 characters"));
        }
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
            Some(summary) if summary.chars().count() <= 500 => summary.to_owned(),
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
    let mut tx = app.db.begin_write().await?;
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
    if source == Source::Promotion {
        let data = serde_json::json!({ "revision": number, "summary": summary });
        crate::account_webhooks::record_for_instance(
            &mut tx,
            now,
            instance,
            "revision.promoted",
            data,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(number)
}

/// Replaces the browser origins allowed to call the instance with its publishable key. They are
/// part of the configuration: a new revision records them (and becomes the wanted one); the
/// gateway takes them at once.
pub async fn set_allowed_origins(
    app: &App,
    account: &Account,
    instance: &Instance,
    origins: &[String],
    author: &str,
) -> Result<()> {
    let plan = app.config.catalog.plan(&instance.plan);
    let base = super::wanted(&app.db, instance, plan).await?;
    let mut config = base.config.clone();
    config.security.allowed_origins = origins.to_vec();
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    if config != base.config {
        let number = super::insert(
            &mut tx,
            &instance.id,
            NewRevision {
                config: &config,
                summary: "allowed origins changed",
                source: Source::Api,
                author: Some(author),
            },
            now,
        )
        .await?;
        instances::store::set_revision(&mut tx, &instance.id, number).await?;
    }
    instances::store::set_allowed_origins(&mut tx, &instance.id, origins, Some(now)).await?;
    audit::record(
        &mut *tx,
        now,
        Some(&account.id),
        Actor::User(author),
        "instance.allowed_origins_changed",
        Some(&instance.id),
        serde_json::json!({ "allowed_origins": origins }),
    )
    .await?;
    crate::gateway::changes::record(&mut *tx, now).await?;
    tx.commit().await?;
    app.reconciler.wake();
    Ok(())
}
