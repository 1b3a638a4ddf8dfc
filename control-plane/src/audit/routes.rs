//! `GET /v1/accounts/{id}/audit-logs` and `GET /v1/ops/audit-logs`: filters, cursor pages, and
//! `format=csv|json` exports (a file of up to 10 000 events).

use authstack_instance::audit::routes::csv_field;
use authstack_instance::clock::{parse_rfc3339, rfc3339};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::{AuditEvent, Filter, MAX_EXPORT};
use crate::AppState;
use crate::error::{Error, ErrorBody, Result};
use crate::http::extract::Query;
use crate::ids::AccountId;
use crate::ops::Operator;
use crate::platform::Caller;

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = AuditFormat)]
pub enum Format {
    /// A page of the API (`{data, next_cursor}`).
    #[default]
    Page,
    /// Downloads.
    Json,
    Csv,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// A prefix of the action (`revision.`).
    action: Option<String>,
    /// Exactly: `user:usr_…`, `stripe`, `system`, `operator`.
    actor: Option<String>,
    /// RFC 3339: events at or after.
    #[param(format = DateTime)]
    since: Option<String>,
    /// RFC 3339: events before.
    #[param(format = DateTime)]
    until: Option<String>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = r"^\s*(evt_[0-9a-f]{32})?\s*$")]
    cursor: Option<String>,
    /// Page size: 50 by default, brought into 1..=200 for a page, 1..=10000 for an export.
    limit: Option<i64>,
    /// `page` (the default), or a `json` or `csv` file.
    #[serde(default)]
    #[param(inline)]
    format: Format,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    data: Vec<AuditEvent>,
    #[schema(required = true)]
    next_cursor: Option<String>,
}

/// The account's audit log: a page, or an export.
#[utoipa::path(get, path = "/v1/accounts/{id}/audit-logs", tag = "audit", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), AuditQuery),
    responses((status = 200, description = "A page (`format=page`), or a file.",
            content((AuditPage = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A malformed time or cursor (`invalid_request`).", body = ErrorBody),
        (status = 404, description = "No such account (`not_found`).", body = ErrorBody)))]
pub async fn account_events(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
    Query(query): Query<AuditQuery>,
) -> Result<Response> {
    let account = crate::accounts::authorize(&app, &caller, &id, "audit:read").await?;
    respond(&app, Some(&account.id), &query).await
}

/// Every account's audit log, for platform operators.
#[utoipa::path(get, path = "/v1/ops/audit-logs", tag = "ops", security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, description = "A page (`format=page`), or a file.",
            content((AuditPage = "application/json"), (String = "text/csv"))),
        (status = 400, description = "A malformed time or cursor (`invalid_request`).", body = ErrorBody),
        (status = 403, description = "The caller is not a platform operator (`forbidden`).", body = ErrorBody)))]
pub async fn all_events(
    State(app): State<AppState>,
    _operator: Operator,
    Query(query): Query<AuditQuery>,
) -> Result<Response> {
    respond(&app, None, &query).await
}

/// An RFC 3339 bound; present but empty is as malformed as any other non-timestamp.
fn time(field: &str, raw: Option<&str>) -> Result<Option<i64>> {
    raw.map(|text| {
        parse_rfc3339(text).ok_or_else(|| {
            Error::invalid(format!(
                "{field} must be an RFC 3339 timestamp (2026-11-24T00:00:00Z)"
            ))
        })
    })
    .transpose()
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

async fn respond(app: &AppState, account_id: Option<&str>, query: &AuditQuery) -> Result<Response> {
    let filter = Filter {
        account_id,
        action: non_empty(&query.action),
        actor: non_empty(&query.actor),
        since: time("since", query.since.as_deref())?,
        until: time("until", query.until.as_deref())?,
        before: non_empty(&query.cursor),
    };
    if let Some(cursor) = filter.before
        && !authstack_instance::http::pagination::is_cursor(cursor, "evt")
    {
        return Err(Error::invalid(
            "cursor is not a next_cursor of this list: pass the value a previous page returned",
        ));
    }
    if query.format == Format::Page {
        let limit = query.limit.unwrap_or(50).clamp(1, 200);
        let data = super::store::list(&app.db, &filter, limit).await?;
        let next_cursor = (data.len() as i64 == limit)
            .then(|| data.last().map(|e| e.id.clone()))
            .flatten();
        return Ok(axum::Json(AuditPage { data, next_cursor }).into_response());
    }
    let limit = query.limit.unwrap_or(MAX_EXPORT).clamp(1, MAX_EXPORT);
    let data = super::store::list(&app.db, &filter, limit).await?;
    let stamp = rfc3339(app.clock.now()).replace(':', "");
    let (body, content_type, extension) = match query.format {
        Format::Csv => {
            let mut body = String::from("id,at,account_id,actor,action,target,detail\n");
            for e in &data {
                let at = rfc3339(e.at);
                let detail = e.detail.to_string();
                let fields = [
                    e.id.as_str(),
                    at.as_str(),
                    e.account_id.as_deref().unwrap_or_default(),
                    e.actor.as_str(),
                    e.action.as_str(),
                    e.target.as_deref().unwrap_or_default(),
                    detail.as_str(),
                ];
                body.push_str(&fields.map(csv_field).join(","));
                body.push('\n');
            }
            (body, "text/csv; charset=utf-8", "csv")
        }
        _ => (
            serde_json::to_string_pretty(&data).map_err(anyhow::Error::from)?,
            "application/json",
            "json",
        ),
    };
    let disposition = format!("attachment; filename=\"authstack-audit-{stamp}.{extension}\"");
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// This module's routes.
pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(account_events))
        .routes(routes!(all_events))
}
