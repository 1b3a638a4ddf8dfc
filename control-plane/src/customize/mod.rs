//! Natural-language customization: a prompt becomes a proposed configuration patch (planned by
//! a [`planner::Planner`]), which the customer approves, modifies or cancels; an approved
//! proposal becomes a new revision that is deployed and verified (the instance is healthy and
//! its public configuration shows the change). Every step is audited; prompts per month are
//! limited by the plan.

pub mod planner;
pub mod routes;
pub mod store;

use authstack_instance::clock::UnixTime;
use secrecy::ExposeSecret;
use serde::Serialize;

use self::planner::{PlanContext, Planned};
use crate::App;
use crate::error::{Error, Result};
use crate::ids::{AccountId, InstanceId};
use crate::instances::{self, Instance};

/// The longest prompt, in characters.
const MAX_PROMPT: usize = 2000;

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
    pub instance_id: InstanceId,
    #[serde(skip)]
    pub account_id: AccountId,
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

pub(crate) fn check_prompt(prompt: &str) -> Result<&str> {
    let prompt = prompt.trim();
    if prompt.is_empty() {
        return Err(Error::invalid("prompt: say what to change"));
    }
    if prompt.chars().count() > MAX_PROMPT {
        return Err(Error::invalid(format!(
            "prompt: at most {MAX_PROMPT} characters"
        )));
    }
    Ok(prompt)
}

/// Plans `prompt` against the instance's wanted revision.
pub(crate) async fn plan(app: &App, instance: &Instance, prompt: &str) -> Result<(i64, Planned)> {
    let plan = app.config.catalog.plan(&instance.plan);
    let base = crate::revisions::wanted(&app.db, instance, plan).await?;
    let context = PlanContext {
        current: &base.config,
        plan: &instance.plan,
        sso: app
            .config
            .catalog
            .plan(&instance.plan)
            .is_some_and(|p| p.limits.sso),
    };
    let planned = app.planner.plan(prompt, &context).await.map_err(|err| {
        Error::BadGateway(format!(
            "the {} planner failed: {err:#}",
            app.planner.name()
        ))
    })?;
    Ok((base.number, planned))
}

/// A follow-up ("make it required for all users") refines the request it follows: it is
/// planned together with the original (the follow-up first, in one clause, so that its words sit
/// next to what they refer to; then the original first), and alone last. The first reading whose patch
/// differs from the current proposal wins; when none does, the answer is the reason the
/// follow-up alone could not be planned, or that it changes nothing.
pub(crate) async fn plan_follow_up(
    app: &App,
    instance: &Instance,
    c: &Customization,
    follow_up: &str,
) -> Result<(i64, Planned, String)> {
    let original = c.prompt.trim_end_matches(['.', ' ']);
    let follow = follow_up.trim_end_matches(['.', ' ']);
    let readings = [
        format!("{follow} {original}"),
        format!("{original} {follow}"),
        follow_up.to_owned(),
    ];
    let mut last = None;
    for reading in readings {
        let (base, planned) = plan(app, instance, &reading).await?;
        match &planned {
            Planned::Proposal(p) if p.patch != c.patch => return Ok((base, planned, reading)),
            _ => last = Some((base, planned, reading)),
        }
    }
    match last {
        Some((_, Planned::Proposal(_), _)) => Err(Error::invalid(
            "the proposal is unchanged: the follow-up asks for nothing the proposal does not do already",
        )),
        Some(found) => Ok(found),
        None => Err(Error::invalid("the proposal is unchanged")),
    }
}

/// The instance answers `/readyz` and its `/v1/config/public` equals what `config` shows.
pub(crate) async fn verify(
    app: &App,
    instance: &Instance,
    config: &authstack_instance::config::InstanceConfig,
) -> Result<(), String> {
    let instance = instances::find(&app.db, &instance.id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("the instance is gone")?;
    let secrets = instance.secrets(app).map_err(|e| format!("{e:#}"))?;
    let base = instance.endpoint.trim_end_matches('/');
    let ready = app
        .http
        .get(format!("{base}/readyz"))
        .send()
        .await
        .map_err(|e| format!("the instance did not answer: {e}"))?;
    if !ready.status().is_success() {
        return Err(format!("the instance is not ready ({})", ready.status()));
    }
    let shown: serde_json::Value = app
        .http
        .get(format!("{base}/v1/config/public"))
        .header(
            "x-authstack-gateway",
            secrets.gateway_secret.expose_secret(),
        )
        .send()
        .await
        .map_err(|e| format!("reading the public configuration failed: {e}"))?
        .json()
        .await
        .map_err(|e| format!("the public configuration is not JSON: {e}"))?;
    let expected = serde_json::to_value(authstack_instance::public_config::of(config))
        .map_err(|e| e.to_string())?;
    if shown == expected {
        Ok(())
    } else {
        Err(format!("the instance shows {shown}, expected {expected}"))
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
