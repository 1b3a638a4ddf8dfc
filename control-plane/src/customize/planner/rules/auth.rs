//! Sign-in and signup (`auth`): social and passwordless sign-in, passkeys, email verification,
//! two-factor authentication, SAML, CAPTCHA and the phone number field.

use authstack_instance::config::MfaMode;
use serde_json::{Value, json};

use super::draft::{Draft, Step};
use super::tokens::Prompt;
use super::words::{MFA, OTHER_PROVIDERS, SIGN_IN, SIGN_UP};
use crate::customize::join_list;

pub(super) fn social(prompt: &Prompt, draft: &mut Draft) -> Step {
    let sign_in = prompt.any(SIGN_IN)
        || prompt.any(&["sso", "oauth", "account", "accounts", "social", "provider"]);
    let other: Vec<&str> = OTHER_PROVIDERS
        .iter()
        .filter(|(key, _)| prompt.has(key))
        .map(|(_, name)| *name)
        .collect();
    if sign_in && !other.is_empty() {
        return Step::Refused(format!(
            "Sign-in with {} is not available yet; social sign-in supports Google and GitHub.",
            other.join(", ")
        ));
    }
    let mut asked = false;
    for (key, name) in [("google", "Google"), ("github", "GitHub")] {
        // "Google Authenticator" is a second factor, not sign-in with Google.
        let mentioned = prompt
            .find(key)
            .into_iter()
            .any(|i| prompt.word(i + 1) != Some("authenticator"));
        if !mentioned {
            continue;
        }
        asked = true;
        let changed = draft.set(&format!("/auth/social/{key}/enabled"), json!(true));
        draft.say(
            changed,
            format!("Turn on sign-in with {name}."),
            format!("Sign-in with {name} is already on."),
        );
    }
    if asked { Step::Done } else { Step::NotAsked }
}

pub(super) fn magic_link(prompt: &Prompt, draft: &mut Draft) -> Step {
    if !prompt.any(&[
        "magic link",
        "magic links",
        "magiclink",
        "passwordless",
        "email link",
        "email links",
        "login link",
        "login links",
        "sign in link",
        "sign in links",
        "without a password",
        "without password",
        "without passwords",
    ]) {
        return Step::NotAsked;
    }
    let changed = draft.set("/auth/methods/magic_link", json!(true));
    let password = if draft.config().auth.methods.password {
        " Password sign-in stays on."
    } else {
        ""
    };
    draft.say(
        changed,
        format!(
            "Turn on passwordless sign-in by magic link (a one-time link sent by email).{password}"
        ),
        "Magic links are already on.",
    );
    Step::Done
}

pub(super) fn passkeys(prompt: &Prompt, draft: &mut Draft) -> Step {
    if !prompt.any(&["passkey", "passkeys"]) || prompt.any(MFA) {
        return Step::NotAsked;
    }
    let changed = draft.set("/auth/methods/passkeys", json!(true));
    draft.say(
        changed,
        "Turn on sign-in with passkeys.",
        "Passkeys are already on.",
    );
    Step::Done
}

pub(super) fn email_verification(prompt: &Prompt, draft: &mut Draft) -> Step {
    let verify = prompt.has_prefix("verif") || prompt.has_prefix("confirm");
    let email = prompt.any(&["email", "emails", "e mail", "mail", "address", "addresses"]);
    if !(verify && email) {
        return Step::NotAsked;
    }
    let changed = draft.set("/auth/require_email_verification", json!(true));
    draft.say(
        changed,
        "Require users to verify their email address before they can sign in.",
        "Email verification is already required.",
    );
    Step::Done
}

fn mfa_strength(mode: MfaMode) -> u8 {
    match mode {
        MfaMode::Off => 0,
        MfaMode::Optional => 1,
        MfaMode::RequiredForAdmins => 2,
        MfaMode::Required => 3,
    }
}

pub(super) fn mfa(prompt: &Prompt, draft: &mut Draft) -> Step {
    let anchors = prompt.anchors(MFA);
    if anchors.is_empty() {
        return Step::NotAsked;
    }
    let admins = prompt.any_near(
        &[
            "admin",
            "admins",
            "administrator",
            "administrators",
            "owners",
        ],
        &anchors,
        6,
    );
    let (mode, mode_name, who) = if admins {
        (
            MfaMode::RequiredForAdmins,
            "required_for_admins",
            "Require two-factor authentication for organization owners and admins",
        )
    } else if prompt.requires_near(&anchors, 4) {
        (
            MfaMode::Required,
            "required",
            "Require two-factor authentication for every user",
        )
    } else {
        (
            MfaMode::Optional,
            "optional",
            "Turn on two-factor authentication: users may enrol",
        )
    };
    let current = draft.config().auth.mfa.clone();
    // Never weaken: "enable 2FA" when it is already required changes nothing.
    let mode_changed = mfa_strength(mode) > mfa_strength(current.mode)
        && draft.set("/auth/mfa/mode", json!(mode_name));
    let mut named = Vec::new();
    if prompt.any(&["totp", "authenticator", "authenticator app", "app", "apps"]) {
        named.push("totp");
    }
    if prompt.any(&[
        "webauthn",
        "security key",
        "security keys",
        "yubikey",
        "yubikeys",
        "passkey",
        "passkeys",
        "hardware key",
        "hardware keys",
    ]) {
        named.push("webauthn");
    }
    if prompt.any(&["sms", "text message", "text messages", "phone"]) {
        named.push("sms");
    }
    let mut methods: Vec<Value> = draft
        .get("/auth/mfa/methods")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if methods.is_empty() && named.is_empty() {
        named = vec!["totp", "webauthn"];
    }
    for method in named {
        if !methods.contains(&json!(method)) {
            methods.push(json!(method));
        }
    }
    let methods_changed = draft.set("/auth/mfa/methods", Value::Array(methods.clone()));
    let method_names: Vec<&str> = methods
        .iter()
        .filter_map(Value::as_str)
        .map(|m| match m {
            "totp" => "authenticator apps",
            "webauthn" => "security keys",
            "sms" => "SMS codes",
            other => other,
        })
        .collect();
    let with = format!(" with {}.", join_list(&method_names, "or"));
    draft.say(
        mode_changed || methods_changed,
        if mode_changed {
            format!("{who}{with}")
        } else {
            format!("Accept{with}")
        },
        "Two-factor authentication is already in place at that level or stricter.",
    );
    Step::Done
}

pub(super) fn saml(prompt: &Prompt, draft: &mut Draft) -> Step {
    let sso = prompt.any(&["sso", "single sign on"])
        && prompt.any(&[
            "enterprise",
            "okta",
            "azure",
            "entra",
            "idp",
            "identity provider",
            "onelogin",
            "adfs",
        ]);
    if !(prompt.has("saml") || sso) {
        return Step::NotAsked;
    }
    let plan = draft.context.plan;
    if !draft.context.sso {
        return Step::Refused(format!(
            "SAML single sign-on for enterprise tenants needs a plan with single sign-on; this \
             account is on the {plan} plan. Upgrade, then ask again."
        ));
    }
    let enabled = draft.set("/auth/saml/enabled", json!(true));
    let per_organization = draft.set("/auth/saml/per_organization", json!(true));
    draft.say(
        enabled || per_organization,
        "Turn on SAML single sign-on: each organization may connect its own identity provider.",
        "SAML single sign-on for organizations is already on.",
    );
    Step::Done
}

pub(super) fn captcha(prompt: &Prompt, draft: &mut Draft) -> Step {
    let named = [
        ("turnstile", "turnstile", "Cloudflare Turnstile"),
        ("hcaptcha", "hcaptcha", "hCaptcha"),
        ("recaptcha", "recaptcha", "reCAPTCHA"),
    ]
    .into_iter()
    .find(|(word, _, _)| prompt.has(word));
    if named.is_none() && !prompt.any(&["captcha", "captchas", "bot protection", "bots", "robots"])
    {
        return Step::NotAsked;
    }
    let current = draft
        .get("/auth/captcha/provider")
        .and_then(Value::as_str)
        .unwrap_or("none")
        .to_owned();
    let (provider, provider_name) = match named {
        Some((_, key, name)) => (key.to_owned(), name),
        None if current != "none" => (current.clone(), "the current provider"),
        None => ("turnstile".to_owned(), "Cloudflare Turnstile"),
    };
    let mut changed = draft.set("/auth/captcha/provider", json!(provider));
    changed |= draft.set("/auth/captcha/on_signup", json!(true));
    let on_login = prompt.any(SIGN_IN);
    if on_login {
        changed |= draft.set("/auth/captcha/on_login", json!(true));
    }
    let forms = if on_login || draft.config().auth.captcha.on_login {
        "signup and login"
    } else {
        "signup"
    };
    draft.say(
        changed,
        format!("Protect {forms} with a CAPTCHA ({provider_name})."),
        format!("A CAPTCHA already protects {forms}."),
    );
    Step::Done
}

pub(super) fn phone(prompt: &Prompt, draft: &mut Draft) -> Step {
    let anchors = prompt.anchors(&["phone", "phones", "mobile"]);
    if anchors.is_empty() {
        return Step::NotAsked;
    }
    let at_signup = prompt.any(SIGN_UP) || prompt.any(&["field", "form", "profile"]);
    // "2FA by SMS to their phone" is a second factor (the mfa rule), not a signup field.
    if !at_signup && (prompt.any(MFA) || !prompt.any(&["phone number", "mobile number"])) {
        return Step::NotAsked;
    }
    let optional = !prompt.requires_near(&anchors, 4)
        && prompt.any(&["optional", "optionally", "ask for", "ask", "may", "allow"]);
    let (rule, done) = if optional {
        ("optional", "Ask for a phone number at signup (optional).")
    } else {
        ("required", "Require a phone number at signup.")
    };
    let changed = draft.set("/auth/signup/fields/phone", json!(rule));
    draft.say(
        changed,
        done,
        format!("The phone number is already {rule} at signup."),
    );
    Step::Done
}

#[cfg(test)]
mod tests {
    use authstack_instance::config::InstanceConfig;
    use serde_json::json;

    use super::super::testing::{self, proposal, proposal_default, refusal};

    /// Prompts for these rules and their patches (see [`testing::assert_patches`]).
    #[rustfmt::skip]
    const CASES: &[(&str, &[&str])] = &[
        ("Add Google login", &["replace /auth/social/google/enabled true"]),
        ("Let users sign in with their Google account.", &["replace /auth/social/google/enabled true"]),
        ("sign in with GitHub", &["replace /auth/social/github/enabled true"]),
        ("Enable GitHub SSO please", &["replace /auth/social/github/enabled true"]),
        ("Add Google and GitHub login", &[
            "replace /auth/social/google/enabled true",
            "replace /auth/social/github/enabled true",
        ]),
        ("Enable 2FA", &["replace /auth/mfa/mode \"optional\""]),
        ("let users turn on two-factor authentication", &["replace /auth/mfa/mode \"optional\""]),
        ("Require MFA for everyone", &["replace /auth/mfa/mode \"required\""]),
        ("Make two-factor authentication mandatory", &["replace /auth/mfa/mode \"required\""]),
        ("Enable 2FA for admins", &["replace /auth/mfa/mode \"required_for_admins\""]),
        ("require multi-factor auth for administrators", &["replace /auth/mfa/mode \"required_for_admins\""]),
        ("Enable 2FA with SMS", &[
            "replace /auth/mfa/mode \"optional\"",
            "replace /auth/mfa/methods [\"totp\",\"webauthn\",\"sms\"]",
        ]),
        ("Add passwordless login with magic links", &["replace /auth/methods/magic_link true"]),
        ("Let users log in without a password, by email link", &["replace /auth/methods/magic_link true"]),
        ("enable passkeys", &["replace /auth/methods/passkeys true"]),
        ("Require email verification", &["replace /auth/require_email_verification true"]),
        ("Users must verify their e-mail address before logging in", &["replace /auth/require_email_verification true"]),
        ("Add a CAPTCHA", &["replace /auth/captcha/provider \"turnstile\""]),
        ("Protect signup from bots", &["replace /auth/captcha/provider \"turnstile\""]),
        ("Add hCaptcha on signup and login", &[
            "replace /auth/captcha/provider \"hcaptcha\"",
            "replace /auth/captcha/on_login true",
        ]),
        ("Require a phone number at signup", &["replace /auth/signup/fields/phone \"required\""]),
        ("make the phone number mandatory when users register", &["replace /auth/signup/fields/phone \"required\""]),
        ("Ask for a phone number (optional) on the sign-up form", &["replace /auth/signup/fields/phone \"optional\""]),
    ];

    #[test]
    fn each_prompt_becomes_its_patch() {
        testing::assert_patches(CASES);
    }

    #[test]
    fn saml_needs_a_plan_with_single_sign_on() {
        let current = InstanceConfig::default();
        for prompt in [
            "Enable SAML for enterprise tenants",
            "let enterprise customers use SSO with their own identity provider (Okta, Azure AD)",
        ] {
            let proposal = proposal(prompt, &current, "enterprise");
            assert_eq!(
                serde_json::to_value(&proposal.patch).expect("serializable"),
                json!([
                    {"op": "replace", "path": "/auth/saml/enabled", "value": true},
                    {"op": "replace", "path": "/auth/saml/per_organization", "value": true},
                ]),
                "{prompt}"
            );
            assert!(proposal.security_notes.iter().any(|n| n.contains("SAML")));
            // The plans' own `sso` flag decides (plans.yaml): Pro has it, Starter not.
            assert_eq!(
                self::proposal(prompt, &current, "pro").patch,
                proposal.patch
            );
            let message = refusal(prompt, &current, "starter");
            assert!(
                message.contains("needs a plan with single sign-on"),
                "{message}"
            );
            assert!(message.contains("starter plan"), "{message}");
        }
        // Nothing of a mixed request is planned when a part of it cannot be done.
        let message = refusal("Add Google login and SAML", &current, "starter");
        assert!(message.contains("single sign-on"), "{message}");
        let message = refusal("Add Apple and Google login", &current, "pro");
        assert!(
            message.contains("Sign-in with Apple is not available yet"),
            "{message}"
        );
    }

    #[test]
    fn google_authenticator_is_a_second_factor() {
        let proposal = proposal_default("enable 2FA with Google Authenticator");
        assert_eq!(
            serde_json::to_value(proposal.patch).expect("serializable"),
            json!([{"op": "replace", "path": "/auth/mfa/mode", "value": "optional"}])
        );
    }
}
