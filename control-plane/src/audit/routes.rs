//! `GET /v1/accounts/{id}/audit-logs` and `GET /v1/ops/audit-logs`.

use axum::extract::{Path, Query, State};
use serde::{Deserialize, Serialize};

use super::AuditEvent;
use crate::AppState;
use crate::error::Result;
use crate::ops::Operator;
use crate::platform::Caller;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Page {
    /// The `next_cursor` of the previous page.
    cursor: Option<String>,
    limit: Option<i64>,
}

#[derive(Serialize)]
pub struct AuditPage {
    data: Vec<AuditEvent>,
    next_cursor: Option<String>,
}

fn page(data: Vec<AuditEvent>, limit: i64) -> AuditPage {
    let next_cursor = (data.len() as i64 == limit)
        .then(|| data.last().map(|e| e.id.clone()))
        .flatten();
    AuditPage { data, next_cursor }
}

pub async fn account_events(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(query): Query<Page>,
) -> Result<axum::Json<AuditPage>> {
    let account = crate::accounts::authorize(&app, &caller, &id, "audit:read").await?;
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let data = super::list(&app.db, Some(&account.id), query.cursor.as_deref(), limit).await?;
    Ok(axum::Json(page(data, limit)))
}

pub async fn all_events(
    State(app): State<AppState>,
    _operator: Operator,
    Query(query): Query<Page>,
) -> Result<axum::Json<AuditPage>> {
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let data = super::list(&app.db, None, query.cursor.as_deref(), limit).await?;
    Ok(axum::Json(page(data, limit)))
}
