//! Audit log views: per organization (`audit:read`) and instance-wide (admin key), with
//! filters, cursor pagination and JSON-lines or CSV export.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AuditEntry, AuditQuery, list};
use crate::AppState;
use crate::error::{Error, ErrorBody, Result};
use crate::http::pagination::{page_size, split_page};
use crate::http::{Admin, Caller, Client, Query};
use crate::orgs::enter;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(organization_audit_logs))
        .routes(routes!(instance_audit_logs))
}

#[derive(Debug, Clone, Copy, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Json,
    Jsonl,
    Csv,
}

/// The filters of an organization's audit log.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditFilters {
    action: Option<String>,
    actor_id: Option<String>,
    target_id: Option<String>,
    /// RFC 3339; events at or after.
    #[param(format = DateTime)]
    since: Option<String>,
    /// RFC 3339; events before.
    #[param(format = DateTime)]
    until: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^(evt_[0-9a-f]{32})?$")]
    cursor: Option<String>,
    /// Page size: up to 200 for JSON, up to 10000 for exports.
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<i64>,
    #[serde(default)]
    format: Format,
}

/// The filters of the instance-wide audit log: those of an organization's, and the organization.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct InstanceAuditFilters {
    /// Events of this organization only.
    organization_id: Option<String>,
    action: Option<String>,
    actor_id: Option<String>,
    target_id: Option<String>,
    /// RFC 3339; events at or after.
    #[param(format = DateTime)]
    since: Option<String>,
    /// RFC 3339; events before.
    #[param(format = DateTime)]
    until: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(pattern = "^(evt_[0-9a-f]{32})?$")]
    cursor: Option<String>,
    /// Page size: up to 200 for JSON, up to 10000 for exports.
    #[param(minimum = 1, maximum = 10000)]
    limit: Option<i64>,
    #[serde(default)]
    format: Format,
}

impl From<InstanceAuditFilters> for AuditFilters {
    fn from(f: InstanceAuditFilters) -> Self {
        AuditFilters {
            action: f.action,
            actor_id: f.actor_id,
            target_id: f.target_id,
            since: f.since,
            until: f.until,
            cursor: f.cursor,
            limit: f.limit,
            format: f.format,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditPage {
    pub data: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

fn parse_time(field: &str, raw: Option<&str>) -> Result<Option<i64>> {
    raw.map(|text| {
        crate::clock::parse_rfc3339(text)
            .ok_or_else(|| Error::invalid(format!("{field} must be an RFC 3339 timestamp")))
    })
    .transpose()
}

/// One CSV field: always quoted, spreadsheet formulas neutralised.
pub fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    format!("\"{}\"", value.replace('"', "\"\""))
}

async fn respond(
    app: &AppState,
    organization_id: Option<String>,
    f: AuditFilters,
) -> Result<Response> {
    let max = match f.format {
        Format::Json => 200,
        Format::Jsonl | Format::Csv => 10_000,
    };
    let limit = page_size(f.limit, 50, max)?;
    crate::http::pagination::cursor(f.cursor.as_deref(), "evt")?;
    let query = AuditQuery {
        organization_id,
        action: f.action,
        actor_id: f.actor_id,
        target_id: f.target_id,
        since: parse_time("since", f.since.as_deref())?,
        until: parse_time("until", f.until.as_deref())?,
        before: f.cursor,
        limit: limit + 1,
    };
    let data = list(&app.db, &query).await?;
    let (data, next_cursor) = split_page(data, limit, |e| e.id.clone());
    let mut response = match f.format {
        Format::Json => return Ok(axum::Json(AuditPage { data, next_cursor }).into_response()),
        Format::Jsonl => {
            let body: String = data
                .iter()
                .filter_map(|e| serde_json::to_string(e).ok())
                .map(|l| l + "\n")
                .collect();
            ([(header::CONTENT_TYPE, "application/x-ndjson")], body).into_response()
        }
        Format::Csv => {
            let mut body = String::from(
                "id,occurred_at,action,actor_id,target_id,organization_id,ip,user_agent,data\n",
            );
            for e in &data {
                let fields = [
                    e.id.as_str(),
                    e.occurred_at.as_str(),
                    e.action.as_str(),
                    e.actor_id.as_deref().unwrap_or_default(),
                    e.target_id.as_deref().unwrap_or_default(),
                    e.organization_id.as_deref().unwrap_or_default(),
                    e.ip.as_deref().unwrap_or_default(),
                    e.user_agent.as_deref().unwrap_or_default(),
                    &e.data.to_string(),
                ];
                body.push_str(&fields.map(csv_field).join(","));
                body.push('\n');
            }
            ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response()
        }
    };
    if let Some(cursor) = next_cursor.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert("x-next-cursor", cursor);
    }
    Ok(response)
}

/// The organization's audit log, newest first (needs `audit:read`). `format=jsonl|csv` exports
/// (the next page's cursor is in the `x-next-cursor` header).
#[utoipa::path(get, path = "/v1/organizations/{id}/audit-logs", tag = "audit", security(("bearer" = [])), params(("id" = String, Path), AuditFilters),
    responses((status = 200, description = "A page (`format=json`) or an export (`jsonl`, `csv`; the next page's cursor in `x-next-cursor`).",
                  content((AuditPage = "application/json"), (String = "application/x-ndjson"), (String = "text/csv"))),
              (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn organization_audit_logs(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path(id): Path<String>,
    Query(filters): Query<AuditFilters>,
) -> Result<Response> {
    let (tx, _) = enter(&app, &id, false, &caller, &client, Some("audit:read")).await?;
    tx.commit().await?;
    respond(&app, Some(id), filters).await
}

/// The instance-wide audit log, newest first (admin key).
#[utoipa::path(get, path = "/v1/admin/audit-logs", tag = "admin", security(("admin_key" = [])), params(InstanceAuditFilters),
    responses((status = 200, description = "A page (`format=json`) or an export (`jsonl`, `csv`; the next page's cursor in `x-next-cursor`).",
                  content((AuditPage = "application/json"), (String = "application/x-ndjson"), (String = "text/csv"))),
              (status = 400, body = ErrorBody)))]
async fn instance_audit_logs(
    State(app): State<AppState>,
    _admin: Admin,
    Query(filters): Query<InstanceAuditFilters>,
) -> Result<Response> {
    let org = filters.organization_id.clone();
    respond(&app, org, filters.into()).await
}
