//! What the rules' tests share: a prompt planned on a plan of the built-in catalogue, expected
//! to become a proposal or a refusal, and a table of prompts checked against their patches.

use authstack_instance::config::InstanceConfig;
use serde_json::{Value, json};

use crate::customize::planner::{PlanContext, Planned, Proposal, apply};

/// The context on `plan` of the built-in catalogue.
pub(super) fn context<'a>(current: &'a InstanceConfig, plan: &'a str) -> PlanContext<'a> {
    let sso = crate::catalog::Catalog::built_in()
        .plan(plan)
        .is_some_and(|p| p.limits.sso);
    PlanContext { current, plan, sso }
}

pub(super) fn proposal(prompt: &str, current: &InstanceConfig, plan: &str) -> Proposal {
    let context = context(current, plan);
    match super::plan(prompt, &context) {
        Ok(Planned::Proposal(p)) => p,
        other => panic!("{prompt:?} was not planned: {other:?}"),
    }
}

pub(super) fn refusal(prompt: &str, current: &InstanceConfig, plan: &str) -> String {
    let context = context(current, plan);
    match super::plan(prompt, &context) {
        Ok(Planned::Unsupported { message }) => message,
        other => panic!("{prompt:?} was not refused: {other:?}"),
    }
}

pub(super) fn proposal_default(prompt: &str) -> Proposal {
    proposal(prompt, &InstanceConfig::default(), "pro")
}

/// `op path value` lines as a JSON Patch document.
fn expected(lines: &[&str]) -> Value {
    let ops = lines.iter().map(|line| {
        let mut parts = line.splitn(3, ' ');
        let (op, path, value) = (parts.next(), parts.next(), parts.next());
        let value: Value =
            serde_json::from_str(value.unwrap_or_default()).expect("a JSON value in the table");
        json!({"op": op, "path": path, "value": value})
    });
    Value::Array(ops.collect())
}

/// Checks each prompt (several phrasings per request) against its exact patch, planned on the
/// default configuration, but with email verification off, on the Pro plan; one operation a
/// line: `op path value`. The result must validate and carry the change's security notes.
pub(super) fn assert_patches(cases: &[(&str, &[&str])]) {
    let mut current = InstanceConfig::default();
    current.auth.require_email_verification = false;
    for (prompt, ops) in cases {
        let expected = expected(ops);
        let proposal = proposal(prompt, &current, "pro");
        let patch = serde_json::to_value(&proposal.patch).expect("serializable");
        assert_eq!(patch, expected, "prompt {prompt:?}");
        let after = apply(&current, &proposal.patch).expect("validates");
        let notes = crate::revisions::security::notes(&current, &after);
        for note in &notes {
            assert!(proposal.security_notes.contains(note), "{prompt:?}: {note}");
        }
        assert!(!proposal.summary.is_empty());
        assert!(
            !proposal.summary.starts_with("Nothing changes"),
            "{prompt:?}"
        );
    }
}
