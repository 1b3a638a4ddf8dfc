//! The control plane's audit log: every account, billing, key and instance action, with who
//! did it. Accounts read their own; platform operators read all.

pub mod routes;
pub mod store;

use authstack_instance::clock::UnixTime;
use serde::Serialize;

use crate::db::new_id;
use crate::ids::AccountId;

/// Who acted: a platform user, Stripe, the control plane itself, or an operator.
#[derive(Debug, Clone)]
pub enum Actor<'a> {
    User(&'a str),
    Stripe,
    System,
    Operator,
}

impl Actor<'_> {
    fn render(&self) -> String {
        match self {
            Actor::User(id) => format!("user:{id}"),
            Actor::Stripe => "stripe".into(),
            Actor::System => "system".into(),
            Actor::Operator => "operator".into(),
        }
    }
}

/// Appends an event in the caller's transaction, so it exists exactly when the action does.
pub async fn record<'c, E>(
    executor: E,
    now: UnixTime,
    account_id: Option<&AccountId>,
    actor: Actor<'_>,
    action: &str,
    target: Option<&str>,
    detail: serde_json::Value,
) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let event = AuditEvent {
        id: new_id("evt"),
        at: now,
        account_id: account_id.cloned(),
        actor: actor.render(),
        action: action.to_owned(),
        target: target.map(str::to_owned),
        detail,
    };
    store::insert(executor, &event).await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEvent {
    pub id: String,
    #[serde(serialize_with = "crate::http::time")]
    #[schema(value_type = String, format = DateTime)]
    pub at: UnixTime,
    #[schema(required = true)]
    pub account_id: Option<AccountId>,
    pub actor: String,
    pub action: String,
    #[schema(required = true)]
    pub target: Option<String>,
    /// Any JSON (`null` when the action has no detail).
    #[schema(value_type = serde_json::Value)]
    pub detail: serde_json::Value,
}

/// Which events to list: all filters optional.
#[derive(Debug, Default)]
pub struct Filter<'a> {
    pub account_id: Option<&'a str>,
    /// A prefix of the action (`revision.` or `revision.deployed`).
    pub action: Option<&'a str>,
    /// Exactly: `user:usr_…`, `stripe`, `system`, `operator`.
    pub actor: Option<&'a str>,
    /// At or after.
    pub since: Option<UnixTime>,
    /// Before.
    pub until: Option<UnixTime>,
    /// The `next_cursor` of the previous page: events older than it.
    pub before: Option<&'a str>,
}

/// The most events one export returns.
pub const MAX_EXPORT: i64 = 10_000;
