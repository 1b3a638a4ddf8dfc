//! Natural-language customization: a prompt becomes a proposed configuration patch (planned by
//! a [`planner::Planner`]), which the customer approves, modifies or cancels; an approved
//! proposal becomes a new revision that is deployed and verified (the instance is healthy and
//! its public configuration shows the change). Every step is audited; prompts per month are
//! limited by the plan.

pub mod planner;
pub mod routes;
pub mod store;

use authstack_instance::clock::UnixTime;
use serde::Serialize;

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
