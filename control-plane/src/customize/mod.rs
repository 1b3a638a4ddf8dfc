//! Natural-language customization: a prompt becomes a proposed configuration patch (planned by
//! a [`planner::Planner`]), which the customer approves, modifies or cancels; an approved
//! proposal becomes a new revision that is deployed and verified (the instance is healthy and
//! its public configuration shows the change). Every step is audited; prompts per month are
//! limited by the plan.

pub mod planner;
pub mod routes;

use authstack_instance::clock::UnixTime;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::Db;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = CustomizationStatus)]
pub enum Status {
    /// A patch awaits approval.
    Proposed,
    /// The planner could not plan the prompt.
    Refused,
    Deploying,
    /// Deployed and verified.
    Deployed,
    /// Deployed but failed health checks (rolled back) or verification.
    Failed,
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Proposed => "proposed",
            Status::Refused => "refused",
            Status::Deploying => "deploying",
            Status::Deployed => "deployed",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    fn parse(raw: &str) -> Status {
        match raw {
            "proposed" => Status::Proposed,
            "refused" => Status::Refused,
            "deploying" => Status::Deploying,
            "deployed" => Status::Deployed,
            "failed" => Status::Failed,
            _ => Status::Cancelled,
        }
    }
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Customization {
    pub id: String,
    #[serde(skip)]
    pub instance_id: String,
    #[serde(skip)]
    pub account_id: String,
    pub prompt: String,
    pub planner: String,
    pub status: Status,
    /// RFC 6902 JSON Patch against `base_revision`'s configuration.
    #[schema(value_type = Vec<Object>)]
    pub patch: json_patch::Patch,
    pub summary: String,
    pub security_notes: Vec<String>,
    pub base_revision: i64,
    /// The revision an approval created.
    #[schema(required = true)]
    pub revision: Option<i64>,
    /// What happened, in plain words (the refusal, or the deployment's and verification's
    /// outcome).
    #[schema(required = true)]
    pub result: Option<String>,
    pub author: String,
    #[serde(serialize_with = "crate::http::time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UnixTime,
    #[serde(serialize_with = "crate::http::time")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: UnixTime,
}

const COLUMNS: &str = "id, instance_id, account_id, prompt, planner, status, patch, summary, \
    security_notes, base_revision, revision, result, author, created_at, updated_at";

impl Customization {
    fn from_row(row: &AnyRow) -> anyhow::Result<Customization> {
        Ok(Customization {
            id: row.try_get("id")?,
            instance_id: row.try_get("instance_id")?,
            account_id: row.try_get("account_id")?,
            prompt: row.try_get("prompt")?,
            planner: row.try_get("planner")?,
            status: Status::parse(&row.try_get::<String, _>("status")?),
            patch: serde_json::from_str(&row.try_get::<String, _>("patch")?)?,
            summary: row.try_get("summary")?,
            security_notes: serde_json::from_str(&row.try_get::<String, _>("security_notes")?)?,
            base_revision: row.try_get("base_revision")?,
            revision: row.try_get("revision")?,
            result: row.try_get("result")?,
            author: row.try_get("author")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        })
    }
}

pub async fn insert<'c, E>(executor: E, c: &Customization) -> anyhow::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(&format!(
        "INSERT INTO customizations ({COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    ))
    .bind(&c.id)
    .bind(&c.instance_id)
    .bind(&c.account_id)
    .bind(&c.prompt)
    .bind(&c.planner)
    .bind(c.status.as_str())
    .bind(serde_json::to_string(&c.patch)?)
    .bind(&c.summary)
    .bind(serde_json::to_string(&c.security_notes)?)
    .bind(c.base_revision)
    .bind(c.revision)
    .bind(c.result.as_deref())
    .bind(&c.author)
    .bind(c.created_at)
    .bind(c.updated_at)
    .execute(executor)
    .await?;
    Ok(())
}

/// Writes every mutable field of `c`.
pub async fn update<'c, E>(executor: E, c: &Customization) -> anyhow::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "UPDATE customizations SET prompt = $1, status = $2, patch = $3, summary = $4, \
         security_notes = $5, base_revision = $6, revision = $7, result = $8, updated_at = $9 \
         WHERE id = $10",
    )
    .bind(&c.prompt)
    .bind(c.status.as_str())
    .bind(serde_json::to_string(&c.patch)?)
    .bind(&c.summary)
    .bind(serde_json::to_string(&c.security_notes)?)
    .bind(c.base_revision)
    .bind(c.revision)
    .bind(c.result.as_deref())
    .bind(c.updated_at)
    .bind(&c.id)
    .execute(executor)
    .await?;
    Ok(())
}

pub async fn find(db: &Db, instance_id: &str, id: &str) -> anyhow::Result<Option<Customization>> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM customizations WHERE id = $1 AND instance_id = $2"
    ))
    .bind(id)
    .bind(instance_id)
    .fetch_optional(&db.pool)
    .await?;
    row.as_ref().map(Customization::from_row).transpose()
}

pub async fn list(db: &Db, instance_id: &str, limit: i64) -> anyhow::Result<Vec<Customization>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM customizations WHERE instance_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2"
    ))
    .bind(instance_id)
    .bind(limit)
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(Customization::from_row).collect()
}

/// Prompts the account sent since `since` (each planning counts, refused ones too).
pub async fn prompts_since(db: &Db, account_id: &str, since: UnixTime) -> anyhow::Result<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM customizations WHERE account_id = $1 AND created_at >= $2",
    )
    .bind(account_id)
    .bind(since)
    .fetch_one(&db.pool)
    .await?;
    Ok(row.try_get("n")?)
}

/// The first second of `now`'s calendar month (UTC).
pub fn month_start(now: UnixTime) -> UnixTime {
    let Ok(at) = time::OffsetDateTime::from_unix_timestamp(now) else {
        return now;
    };
    at.replace_day(1)
        .map(|day| day.replace_time(time::Time::MIDNIGHT).unix_timestamp())
        .unwrap_or(now)
}

/// `items` as a list in a sentence, the last two joined by `conjunction`: `"a"`, `"a and b"`,
/// `"a, b and c"`, or with `"or"` `"a, b or c"`.
fn join_list(items: &[&str], conjunction: &str) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} {conjunction} {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lists_join_their_last_two_items_with_the_conjunction() {
        use super::join_list;
        assert_eq!(join_list(&[], "and"), "");
        assert_eq!(join_list(&["a"], "and"), "a");
        assert_eq!(join_list(&["a", "b"], "and"), "a and b");
        assert_eq!(join_list(&["a", "b", "c"], "and"), "a, b and c");
        assert_eq!(join_list(&["a", "b", "c"], "or"), "a, b or c");
    }

    #[test]
    fn months_start_at_midnight_on_the_first() {
        // 2026-11-24T15:30:00Z → 2026-11-01T00:00:00Z
        assert_eq!(super::month_start(1_795_534_200), 1_793_491_200);
    }
}
