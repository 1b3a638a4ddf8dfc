//! Planners turn a customer's plain-language request ("add Google login", "require 2FA for
//! admins") into a [`Proposal`]: an RFC 6902 JSON Patch against the instance's current
//! [`InstanceConfig`], a summary and the change's security implications. A planner never writes
//! code and never deploys anything: the customer approves the proposal, which then becomes a
//! new revision.
//!
//! Two backends: [`rules::RulesPlanner`] (the default, offline and deterministic) and
//! [`llm::LlmPlanner`] (any OpenAI-compatible endpoint). Whatever the backend, a proposal has
//! passed [`apply`]: its patch applies to the current configuration and the result validates.

pub mod contrast;
pub mod llm;
pub mod rules;

use std::fmt;
use std::sync::Arc;

use authstack_instance::config::{FieldError, InstanceConfig};
use serde::Serialize;

use crate::revisions::security;

/// What a planner knows besides the prompt.
pub struct PlanContext<'a> {
    pub current: &'a InstanceConfig,
    /// The account's plan: `starter`, `pro` or `enterprise`.
    pub plan: &'a str,
    /// Whether the plan includes single sign-on (`limits.sso` in `plans.yaml`).
    pub sso: bool,
}

/// A proposed change: an RFC 6902 JSON Patch against the current config (as JSON), a
/// plain-language summary, and the change's security implications.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposal {
    pub patch: json_patch::Patch,
    pub summary: String,
    pub security_notes: Vec<String>,
}

impl Proposal {
    /// Checks `patch` against `current` with [`apply`] and builds the proposal, its security
    /// notes being `extra_notes` followed by [`security::notes`] of the change.
    pub fn checked(
        current: &InstanceConfig,
        patch: json_patch::Patch,
        summary: String,
        extra_notes: Vec<String>,
    ) -> Result<Proposal, Vec<FieldError>> {
        let after = apply(current, &patch)?;
        let mut security_notes = extra_notes;
        security_notes.extend(security::notes(current, &after));
        Ok(Proposal {
            patch,
            summary,
            security_notes,
        })
    }
}

/// A planner's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Planned {
    Proposal(Proposal),
    /// "I can't do that yet", with what the planner can do.
    Unsupported {
        message: String,
    },
}

/// Turns a prompt into a proposal.
#[async_trait::async_trait]
pub trait Planner: Send + Sync {
    /// `rules` or `llm` (recorded with each customization).
    fn name(&self) -> &'static str;

    /// Plans `prompt` against `context.current`. An `Err` is a failure of the planner itself
    /// (an unreachable or misbehaving model); a request it cannot plan is
    /// [`Planned::Unsupported`].
    async fn plan(&self, prompt: &str, context: &PlanContext<'_>) -> anyhow::Result<Planned>;
}

/// Applies a patch to a config and validates the result; errors name the field path
/// (`auth.mfa.mode`, `webhooks[0].url`). Nothing is applied partially: the result is a new
/// configuration or errors.
pub fn apply(
    current: &InstanceConfig,
    patch: &json_patch::Patch,
) -> Result<InstanceConfig, Vec<FieldError>> {
    let mut document = serde_json::to_value(current).map_err(|e| {
        vec![FieldError {
            path: String::new(),
            message: format!("the current configuration cannot be read as JSON: {e}"),
        }]
    })?;
    json_patch::patch(&mut document, &patch.0).map_err(|err| {
        vec![FieldError {
            path: field_path(err.path.as_str()),
            message: format!(
                "operation {} ({}) cannot be applied: {}",
                err.operation + 1,
                patch.0.get(err.operation).map_or("?", operation_name),
                err.kind
            ),
        }]
    })?;
    InstanceConfig::from_json(document)
}

fn operation_name(operation: &json_patch::PatchOperation) -> &'static str {
    use json_patch::PatchOperation::*;
    match operation {
        Add(_) => "add",
        Remove(_) => "remove",
        Replace(_) => "replace",
        Move(_) => "move",
        Copy(_) => "copy",
        Test(_) => "test",
    }
}

/// Field errors as one line: `passwords.min_length: must be at least 6; ...`.
pub fn describe(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// `/webhooks/0/url` → `webhooks[0].url`, the notation of [`FieldError::path`].
pub fn field_path(pointer: &str) -> String {
    let mut path = String::new();
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if !token.is_empty() && (token.bytes().all(|b| b.is_ascii_digit()) || token == "-") {
            path.push_str(&format!("[{token}]"));
        } else {
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(&token);
        }
    }
    path
}

/// How to reach an OpenAI-compatible chat completions endpoint.
#[derive(Clone)]
pub struct LlmSettings {
    /// E.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`;
    /// `{base_url}/chat/completions` is called.
    pub base_url: String,
    pub model: String,
    /// Sent as `Authorization: Bearer ...` when present.
    pub api_key: Option<secrecy::SecretString>,
}

impl fmt::Debug for LlmSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmSettings")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// The planner named by the server's configuration: `rules` (the default) or `llm` (which needs
/// `llm` settings).
/// Which planner turns prompts into configuration patches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum PlannerKind {
    /// Offline and deterministic: word tables and rules.
    #[default]
    Rules,
    /// An OpenAI-compatible model, given the configuration's JSON Schema.
    Llm,
}

pub fn from_settings(
    kind: PlannerKind,
    llm: Option<LlmSettings>,
) -> anyhow::Result<Arc<dyn Planner>> {
    match kind {
        PlannerKind::Rules => Ok(Arc::new(rules::RulesPlanner)),
        PlannerKind::Llm => {
            let settings =
                llm.ok_or_else(|| anyhow::anyhow!("the llm planner needs a base URL and a model"))?;
            // The model gets the configuration's JSON Schema: what it may patch, and how.
            let schema = serde_json::to_string(&schemars::schema_for!(InstanceConfig))?;
            Ok(Arc::new(
                llm::LlmPlanner::new(settings)?.with_schema(schema),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use authstack_instance::config::MfaMode;
    use secrecy::SecretString;
    use serde_json::json;

    fn patch(ops: serde_json::Value) -> json_patch::Patch {
        serde_json::from_value(ops).expect("a well-formed patch in the test")
    }

    #[test]
    fn apply_changes_a_copy_and_validates() {
        let current = InstanceConfig::default();
        let after = apply(
            &current,
            &patch(json!([
                {"op": "replace", "path": "/auth/mfa/mode", "value": "required"},
                {"op": "add", "path": "/webhooks/-",
                 "value": {"url": "https://hooks.example.com/a", "events": ["auth.*"]}}
            ])),
        )
        .expect("valid");
        assert_eq!(after.auth.mfa.mode, MfaMode::Required);
        assert_eq!(after.webhooks.len(), 1);
        assert_eq!(current, InstanceConfig::default());
    }

    #[test]
    fn apply_names_the_field_of_a_failing_operation() {
        let errors = apply(
            &InstanceConfig::default(),
            &patch(json!([{"op": "remove", "path": "/webhooks/3"}])),
        )
        .expect_err("no such webhook");
        assert_eq!(errors[0].path, "webhooks[3]");
        assert!(
            errors[0].message.contains("operation 1 (remove)"),
            "{errors:?}"
        );
    }

    #[test]
    fn apply_rejects_an_invalid_result_with_its_path() {
        let errors = apply(
            &InstanceConfig::default(),
            &patch(json!([{"op": "replace", "path": "/passwords/min_length", "value": 2}])),
        )
        .expect_err("too short");
        assert_eq!(errors[0].path, "passwords.min_length");
        let errors = apply(
            &InstanceConfig::default(),
            &patch(json!([{"op": "add", "path": "/auth/colour", "value": "red"}])),
        )
        .expect_err("unknown field");
        assert!(errors[0].message.contains("colour"), "{errors:?}");
    }

    #[test]
    fn checked_proposals_carry_the_security_notes() {
        let current = InstanceConfig::default();
        let proposal = Proposal::checked(
            &current,
            patch(json!([{"op": "replace", "path": "/passwords/min_length", "value": 6}])),
            "Lower the minimum.".into(),
            vec!["first".into()],
        )
        .expect("valid");
        assert_eq!(proposal.security_notes[0], "first");
        assert!(
            proposal.security_notes[1].starts_with("Lowering the password minimum from 8 to 6")
        );
    }

    #[test]
    fn field_paths() {
        assert_eq!(field_path("/webhooks/0/url"), "webhooks[0].url");
        assert_eq!(
            field_path("/security/admin_ip_allowlist/-"),
            "security.admin_ip_allowlist[-]"
        );
        assert_eq!(field_path("/a~1b/c~0d"), "a/b.c~d");
        assert_eq!(field_path(""), "");
    }

    #[test]
    fn settings_debug_hides_the_key() {
        let settings = LlmSettings {
            base_url: "http://127.0.0.1:1/v1".into(),
            model: "m".into(),
            api_key: Some(SecretString::from("sk-very-secret")),
        };
        let debug = format!("{settings:?}");
        assert!(!debug.contains("sk-very-secret"), "{debug}");
        assert!(debug.contains("[redacted]"));
    }

    #[test]
    fn planners_by_name() {
        assert_eq!(
            from_settings(PlannerKind::Rules, None)
                .map(|p| p.name())
                .ok(),
            Some("rules")
        );
        assert!(from_settings(PlannerKind::Llm, None).is_err());
        let llm = from_settings(
            PlannerKind::Llm,
            Some(LlmSettings {
                base_url: "http://127.0.0.1:1/v1".into(),
                model: "m".into(),
                api_key: None,
            }),
        );
        assert_eq!(llm.map(|p| p.name()).ok(), Some("llm"));
    }
}
