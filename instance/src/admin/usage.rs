//! `GET /v1/admin/usage`: what the instance holds against its plan — monthly and daily active
//! users, organizations, and members per organization. The control plane's dashboard shows it.

use axum::extract::State;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::AppState;
use crate::clock::{UnixTime, rfc3339};
use crate::db::Scope;
use crate::error::{ErrorBody, Result};
use crate::http::Admin;

const DAY: i64 = 24 * 3600;
/// Days counted as "monthly" and shown in the daily series.
const WINDOW_DAYS: i64 = 30;
/// Organizations listed, largest first.
const LARGEST: i64 = 100;

/// The UTC day number of `at` (days since the epoch).
pub fn day(at: UnixTime) -> i64 {
    at.div_euclid(DAY)
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Usage {
    #[schema(format = DateTime)]
    pub measured_at: String,
    pub users: i64,
    /// Users who signed in or refreshed a session in the last 30 days (today included).
    pub monthly_active_users: i64,
    pub organizations: i64,
    /// The largest organizations (members, then pending invitations), at most 100.
    pub members_per_organization: Vec<OrganizationMembers>,
    /// The last 30 days, oldest first, every day present.
    pub daily_active_users: Vec<DailyActive>,
    /// The plan limits this instance enforces (absent = unlimited).
    pub limits: UsageLimits,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OrganizationMembers {
    pub organization_id: String,
    pub name: String,
    pub members: i64,
    pub pending_invitations: i64,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DailyActive {
    /// `YYYY-MM-DD` (UTC).
    pub date: String,
    pub users: i64,
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct UsageLimits {
    pub organizations: Option<u32>,
    pub members_per_organization: Option<u32>,
}

/// Usage of this instance against its limits.
#[utoipa::path(get, path = "/v1/admin/usage", tag = "admin", security(("admin_key" = [])),
    responses((status = 200, body = Usage), (status = 401, body = ErrorBody)))]
pub async fn usage(State(app): State<AppState>, _admin: Admin) -> Result<axum::Json<Usage>> {
    let now = app.clock.now();
    let today = day(now);
    let first = today - (WINDOW_DAYS - 1);
    // One read transaction: the figures agree with each other, and on PostgreSQL the
    // organization tables' row-level security lets an admin count across organizations.
    let mut tx = app.db.scoped(Scope::AllOrganizations, false).await?;

    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut *tx)
        .await?;
    let monthly_active_users: i64 =
        sqlx::query_scalar("SELECT COUNT(DISTINCT user_id) FROM user_activity WHERE day >= $1")
            .bind(first)
            .fetch_one(&mut *tx)
            .await?;
    let organizations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
        .fetch_one(&mut *tx)
        .await?;

    let rows = sqlx::query(
        "SELECT o.id, o.name, \
            (SELECT COUNT(*) FROM memberships m WHERE m.organization_id = o.id) AS members, \
            (SELECT COUNT(*) FROM invitations i WHERE i.organization_id = o.id \
                AND i.accepted_at IS NULL AND i.cancelled_at IS NULL AND i.expires_at > $1) AS pending \
         FROM organizations o ORDER BY members DESC, pending DESC, o.id LIMIT $2",
    )
    .bind(now)
    .bind(LARGEST)
    .fetch_all(&mut *tx)
    .await?;
    let members_per_organization = rows
        .iter()
        .map(|row| {
            Ok(OrganizationMembers {
                organization_id: row.try_get("id")?,
                name: row.try_get("name")?,
                members: row.try_get("members")?,
                pending_invitations: row.try_get("pending")?,
            })
        })
        .collect::<sqlx::Result<Vec<_>>>()?;

    let counts = sqlx::query(
        "SELECT day, COUNT(*) AS users FROM user_activity WHERE day >= $1 GROUP BY day",
    )
    .bind(first)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|row| {
        Ok((
            row.try_get::<i64, _>("day")?,
            row.try_get::<i64, _>("users")?,
        ))
    })
    .collect::<sqlx::Result<std::collections::HashMap<i64, i64>>>()?;
    let daily_active_users = (first..=today)
        .map(|d| DailyActive {
            date: rfc3339(d * DAY).chars().take(10).collect(),
            users: counts.get(&d).copied().unwrap_or(0),
        })
        .collect();

    tx.commit().await?;
    let config = app.config.load();
    Ok(axum::Json(Usage {
        measured_at: rfc3339(now),
        users,
        monthly_active_users,
        organizations,
        members_per_organization,
        daily_active_users,
        limits: UsageLimits {
            organizations: config.organizations.max_organizations,
            members_per_organization: config.organizations.max_members_per_organization,
        },
    }))
}
