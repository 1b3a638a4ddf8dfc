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

use authstack_instance::config::{InstanceConfig, IpNet, MfaMode};
use serde_json::{Value, json};

use super::{PlanContext, Planned, Planner, Proposal, describe};
use crate::revisions::security::duration;

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

/// Whether a rule was asked for, and what became of it.
enum Step {
    NotAsked,
    Done,
    Refused(String),
}

/// Every request the planner understands, in the order their operations appear in a patch.
const RULES: &[Rule] = &[
    Rule {
        can: "add Google or GitHub sign-in (\"add Google login\")",
        plan: social,
    },
    Rule {
        can: "turn on passwordless magic links",
        plan: magic_link,
    },
    Rule {
        can: "turn on passkeys",
        plan: passkeys,
    },
    Rule {
        can: "require email verification",
        plan: email_verification,
    },
    Rule {
        can: "enable two-factor authentication, optional or required (for everyone or for admins)",
        plan: mfa,
    },
    Rule {
        can: "enable SAML single sign-on for enterprise tenants (plans with single sign-on)",
        plan: saml,
    },
    Rule {
        can: "add a CAPTCHA to signup (and login)",
        plan: captcha,
    },
    Rule {
        can: "ask for or require a phone number at signup",
        plan: phone,
    },
    Rule {
        can: "set the minimum password length",
        plan: password_length,
    },
    Rule {
        can: "let organizations set their own password policies",
        plan: organization_passwords,
    },
    Rule {
        can: "set a session (idle) timeout",
        plan: session_timeout,
    },
    Rule {
        can: "limit failed login attempts (\"5 attempts per 15 minutes\")",
        plan: login_rate_limit,
    },
    Rule {
        can: "let organizations create custom roles (\"up to 10\")",
        plan: custom_roles,
    },
    Rule {
        can: "restrict admin access to IP networks",
        plan: admin_allowlist,
    },
    Rule {
        can: "send auth events to a webhook",
        plan: webhook,
    },
    Rule {
        can: "set the primary color (a name or #hex)",
        plan: primary_color,
    },
    Rule {
        can: "use a logo from an https URL",
        plan: logo,
    },
    Rule {
        can: "switch to dark mode (or light, or follow the system)",
        plan: appearance,
    },
    Rule {
        can: "translate the sign-in pages to other languages",
        plan: languages,
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

/// The patch being written: operations, the document as they leave it (so later rules see
/// earlier changes), and what to tell the customer.
struct Draft<'a> {
    context: &'a PlanContext<'a>,
    document: Value,
    ops: Vec<Value>,
    sentences: Vec<String>,
}

impl<'a> Draft<'a> {
    fn new(context: &'a PlanContext<'a>) -> anyhow::Result<Self> {
        Ok(Draft {
            context,
            document: serde_json::to_value(context.current)?,
            ops: Vec::new(),
            sentences: Vec::new(),
        })
    }

    fn config(&self) -> &InstanceConfig {
        self.context.current
    }

    fn get(&self, pointer: &str) -> Option<&Value> {
        self.document.pointer(pointer)
    }

    /// Replaces the value at `pointer` unless it already is `value`; true when it changed.
    fn set(&mut self, pointer: &str, value: Value) -> bool {
        match self.document.pointer_mut(pointer) {
            Some(slot) if *slot == value => false,
            Some(slot) => {
                *slot = value.clone();
                self.ops
                    .push(json!({"op": "replace", "path": pointer, "value": value}));
                true
            }
            // Every field is serialized, so this is a rule naming a field that does not exist:
            // let apply() report it rather than guessing.
            None => {
                self.ops
                    .push(json!({"op": "replace", "path": pointer, "value": value}));
                true
            }
        }
    }

    /// Appends `value` to the array at `pointer`.
    fn push(&mut self, pointer: &str, value: Value) {
        if let Some(Value::Array(items)) = self.document.pointer_mut(pointer) {
            items.push(value.clone());
        }
        self.ops
            .push(json!({"op": "add", "path": format!("{pointer}/-"), "value": value}));
    }

    /// Says what happened: `done` when something changed, `already` when it was in place.
    fn say(&mut self, changed: bool, done: impl Into<String>, already: impl Into<String>) {
        self.sentences
            .push(if changed { done.into() } else { already.into() });
    }
}

/// A prompt cut into words: lowercase, punctuation removed, except that URLs (original case),
/// IP networks and `#hex` colors stay whole.
struct Prompt {
    words: Vec<Word>,
}

struct Word {
    lower: String,
    raw: String,
    /// Followed by `,` `;` `.` `:` `!` or `?`: the end of a clause.
    ends_clause: bool,
}

impl Prompt {
    fn parse(text: &str) -> Prompt {
        let mut words = Vec::new();
        for chunk in text.split_whitespace() {
            let ends_clause = chunk
                .trim_end_matches(|c: char| "\"')]>`”’".contains(c))
                .ends_with(|c: char| ".,;:!?".contains(c));
            let chunk = chunk
                .trim_matches(|c: char| "\"'()[]<>`“”‘’".contains(c))
                .trim_end_matches(|c: char| ".,;:!?".contains(c))
                .trim_matches(|c: char| "\"'()[]<>`“”‘’".contains(c));
            let lower = chunk.to_lowercase();
            if lower.starts_with("http://")
                || lower.starts_with("https://")
                || IpNet::parse(chunk).is_ok()
                || hex_color(&lower).is_some()
            {
                words.push(Word {
                    lower,
                    raw: chunk.to_owned(),
                    ends_clause,
                });
                continue;
            }
            let lower = lower.replace('’', "'");
            for part in lower.split(|c: char| !(c.is_alphanumeric() || c == '\'')) {
                let part = part.trim_matches('\'');
                if !part.is_empty() {
                    words.push(Word {
                        lower: part.to_owned(),
                        raw: part.to_owned(),
                        ends_clause: false,
                    });
                }
            }
            if let Some(last) = words.last_mut() {
                last.ends_clause |= ends_clause;
            }
        }
        Prompt { words }
    }

    fn word(&self, i: usize) -> Option<&str> {
        self.words.get(i).map(|w| w.lower.as_str())
    }

    /// Where each occurrence of `phrase` (words separated by single spaces) starts.
    fn find(&self, phrase: &str) -> Vec<usize> {
        let parts: Vec<&str> = phrase.split(' ').collect();
        (0..self.words.len())
            .filter(|&i| {
                parts
                    .iter()
                    .enumerate()
                    .all(|(k, part)| self.word(i + k) == Some(*part))
            })
            .collect()
    }

    fn has(&self, phrase: &str) -> bool {
        !self.find(phrase).is_empty()
    }

    fn any(&self, phrases: &[&str]) -> bool {
        phrases.iter().any(|p| self.has(p))
    }

    /// Where any of `phrases` occurs.
    fn anchors(&self, phrases: &[&str]) -> Vec<usize> {
        let mut at: Vec<usize> = phrases.iter().flat_map(|p| self.find(p)).collect();
        at.sort_unstable();
        at
    }

    fn has_prefix(&self, prefix: &str) -> bool {
        self.words.iter().any(|w| w.lower.starts_with(prefix))
    }

    /// Asks to turn something off or take something away.
    fn is_negative(&self) -> bool {
        self.any(&[
            "disable",
            "disabled",
            "deactivate",
            "remove",
            "delete",
            "turn off",
            "switch off",
            "don't",
            "do not",
            "dont",
            "no longer",
            "get rid",
            "stop requiring",
            "stop sending",
        ])
    }

    /// Whether any of `phrases` starts within `reach` words of one of `anchors`, so that in
    /// "enable 2FA and require a phone number" the "require" belongs to the phone number.
    fn any_near(&self, phrases: &[&str], anchors: &[usize], reach: usize) -> bool {
        self.anchors(phrases).into_iter().any(|at| {
            anchors
                .iter()
                .any(|&a| a.abs_diff(at) <= reach && self.same_clause(a, at))
        })
    }

    /// No clause ends between words `a` and `b` (punctuation, "and", "also", "then", "but").
    fn same_clause(&self, a: usize, b: usize) -> bool {
        let (from, to) = (a.min(b), a.max(b));
        !(from..to).any(|i| {
            self.words.get(i).is_some_and(|w| w.ends_clause)
                || (i > from
                    && matches!(self.word(i), Some("and" | "also" | "then" | "but" | "plus")))
        })
    }

    /// Words that make a request mandatory, within `reach` words of `anchors`.
    fn requires_near(&self, anchors: &[usize], reach: usize) -> bool {
        self.any_near(REQUIRE, anchors, reach)
    }
}

const REQUIRE: &[&str] = &[
    "require",
    "required",
    "requires",
    "requiring",
    "mandatory",
    "enforce",
    "enforced",
    "force",
    "must",
    "compulsory",
    "everyone",
    "everybody",
    "all users",
    "every user",
];

impl Prompt {
    /// A plain number at word `i` (digits, or a number word up to twenty), unless it starts a
    /// duration.
    fn count_at(&self, i: usize) -> Option<u64> {
        let word = self.word(i)?;
        let n = number(word)?;
        if self.duration_at(i).is_some() {
            return None;
        }
        Some(n)
    }

    /// The count nearest to any of `anchors`, at most `reach` words away.
    fn count_near(&self, anchors: &[usize], reach: usize) -> Option<u64> {
        self.nearest(anchors, reach, |i| self.count_at(i))
    }

    /// A duration starting at word `i`: `30 minutes`, `2h`, `an hour`, `90s`.
    fn duration_at(&self, i: usize) -> Option<u64> {
        let word = self.word(i)?;
        if let Some(n) = number(word).or(match word {
            "a" | "an" => Some(1),
            _ => None,
        }) {
            let unit = unit(self.word(i + 1)?)?;
            return n.checked_mul(unit);
        }
        let digits = word.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let n: u64 = word[..digits].parse().ok()?;
        n.checked_mul(unit(&word[digits..])?)
    }

    /// The duration nearest to any of `anchors` (at most `reach` words away) that `accept`s the
    /// word before it (e.g. `per` for a rate-limit window).
    fn duration_near(
        &self,
        anchors: &[usize],
        reach: usize,
        accept: impl Fn(Option<&str>) -> bool,
    ) -> Option<u64> {
        self.nearest(anchors, reach, |i| {
            let before = i.checked_sub(1).and_then(|b| self.word(b));
            if accept(before) {
                self.duration_at(i)
            } else {
                None
            }
        })
    }

    fn nearest<T>(
        &self,
        anchors: &[usize],
        reach: usize,
        at: impl Fn(usize) -> Option<T>,
    ) -> Option<T> {
        for distance in 0..=reach {
            for &anchor in anchors {
                let mut candidates = vec![anchor + distance];
                if let Some(before) = anchor.checked_sub(distance) {
                    candidates.push(before);
                }
                for i in candidates {
                    if let Some(found) = at(i) {
                        return Some(found);
                    }
                }
            }
        }
        None
    }

    fn urls(&self) -> Vec<(usize, &str)> {
        self.words
            .iter()
            .enumerate()
            .filter(|(_, w)| w.lower.starts_with("http://") || w.lower.starts_with("https://"))
            .map(|(i, w)| (i, w.raw.as_str()))
            .collect()
    }

    /// The URL nearest to any of `anchors`.
    fn url_near(&self, anchors: &[usize]) -> Option<String> {
        self.urls()
            .into_iter()
            .min_by_key(|(i, _)| anchors.iter().map(|a| a.abs_diff(*i)).min())
            .map(|(_, url)| url.to_owned())
    }
}

fn number(word: &str) -> Option<u64> {
    if let Ok(n) = word.parse() {
        return Some(n);
    }
    let words = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    words.iter().position(|w| *w == word).map(|n| n as u64)
}

fn unit(word: &str) -> Option<u64> {
    Some(match word {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 7 * 86_400,
        _ => return None,
    })
}

/// `#abc` or `#aabbcc` as `#aabbcc`.
fn hex_color(word: &str) -> Option<String> {
    let hex = word.strip_prefix('#')?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    match hex.len() {
        6 => Some(format!("#{}", hex.to_ascii_lowercase())),
        3 => Some(format!(
            "#{}",
            hex.chars()
                .flat_map(|c| [c, c])
                .collect::<String>()
                .to_ascii_lowercase()
        )),
        _ => None,
    }
}

const SIGN_IN: &[&str] = &[
    "login",
    "logins",
    "log in",
    "logging in",
    "sign in",
    "signin",
    "sign ins",
];
const SIGN_UP: &[&str] = &[
    "signup",
    "signups",
    "sign up",
    "signing up",
    "register",
    "registration",
    "registering",
    "new users",
    "onboarding",
];
const MFA: &[&str] = &[
    "2fa",
    "mfa",
    "two factor",
    "2 factor",
    "multi factor",
    "multifactor",
    "second factor",
    "two step",
    "2 step",
    "authenticator",
    "totp",
    "otp",
];
const ORGANIZATIONS: &[&str] = &[
    "organization",
    "organizations",
    "organisation",
    "organisations",
    "org",
    "orgs",
    "tenant",
    "tenants",
    "team",
    "teams",
    "workspace",
    "workspaces",
];

/// Identity providers customers ask for that the instance does not offer (yet).
const OTHER_PROVIDERS: &[(&str, &str)] = &[
    ("apple", "Apple"),
    ("microsoft", "Microsoft"),
    ("facebook", "Facebook"),
    ("twitter", "X (Twitter)"),
    ("linkedin", "LinkedIn"),
    ("gitlab", "GitLab"),
    ("discord", "Discord"),
    ("slack", "Slack"),
];

fn social(prompt: &Prompt, draft: &mut Draft) -> Step {
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

fn magic_link(prompt: &Prompt, draft: &mut Draft) -> Step {
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

fn passkeys(prompt: &Prompt, draft: &mut Draft) -> Step {
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

fn email_verification(prompt: &Prompt, draft: &mut Draft) -> Step {
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

fn mfa(prompt: &Prompt, draft: &mut Draft) -> Step {
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
    let with = format!(" with {}.", either(&method_names));
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

/// "a", "a or b", "a, b or c".
fn either(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

fn saml(prompt: &Prompt, draft: &mut Draft) -> Step {
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

fn captcha(prompt: &Prompt, draft: &mut Draft) -> Step {
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

fn phone(prompt: &Prompt, draft: &mut Draft) -> Step {
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

fn password_length(prompt: &Prompt, draft: &mut Draft) -> Step {
    let passwords = prompt.anchors(&["password", "passwords"]);
    if passwords.is_empty() || prompt.any(ORGANIZATIONS) {
        return Step::NotAsked;
    }
    let anchors = prompt.anchors(&[
        "characters",
        "chars",
        "character",
        "length",
        "minimum",
        "min",
        "least",
        "long",
    ]);
    if anchors.is_empty() {
        return Step::NotAsked;
    }
    let Some(length) = prompt.count_near(&anchors, 4) else {
        return Step::Refused(
            "How long should passwords be at least? Say e.g. \"minimum password length 12\"."
                .into(),
        );
    };
    let changed = draft.set("/passwords/min_length", json!(length));
    draft.say(
        changed,
        format!("Require passwords of at least {length} characters."),
        format!("Passwords already need at least {length} characters."),
    );
    Step::Done
}

fn organization_passwords(prompt: &Prompt, draft: &mut Draft) -> Step {
    if !(prompt.any(&["password", "passwords"])
        && prompt.any(ORGANIZATIONS)
        && prompt.any(&[
            "policy",
            "policies",
            "rule",
            "rules",
            "own",
            "per",
            "requirements",
            "longer",
            "stricter",
            "stronger",
        ]))
    {
        return Step::NotAsked;
    }
    let changed = draft.set("/passwords/organization_overrides", json!(true));
    draft.say(
        changed,
        "Let organizations require stricter passwords for their members (never weaker than the \
         instance's policy).",
        "Organizations may already set their own password policy.",
    );
    Step::Done
}

fn session_timeout(prompt: &Prompt, draft: &mut Draft) -> Step {
    let mut anchors = prompt.anchors(&[
        "session",
        "sessions",
        "inactivity",
        "inactive",
        "idle",
        "timeout",
        "time out",
        "times out",
    ]);
    let stay = prompt.anchors(&[
        "stay logged in",
        "stay signed in",
        "remain logged in",
        "remain signed in",
        "keep users logged in",
        "keep users signed in",
        "remember me",
    ]);
    anchors.extend(&stay);
    for i in prompt.find("out") {
        let before = i.saturating_sub(3)..i;
        if before
            .filter_map(|b| prompt.word(b))
            .any(|w| matches!(w, "log" | "logged" | "sign" | "signed"))
        {
            anchors.push(i);
        }
    }
    if anchors.is_empty() {
        return Step::NotAsked;
    }
    let not_a_window = |before: Option<&str>| !matches!(before, Some("per" | "every" | "each"));
    let Some(secs) = prompt.duration_near(&anchors, 6, not_a_window) else {
        if prompt.any(&["timeout", "time out", "expire", "expires"]) {
            return Step::Refused(
                "After how long? Say e.g. \"session timeout 30 minutes\".".into(),
            );
        }
        return Step::NotAsked;
    };
    let tokens = &draft.config().tokens;
    let (lifetime, idle) = (
        tokens.session_lifetime_secs,
        tokens.session_idle_timeout_secs,
    );
    let absolute = (!stay.is_empty()
        || prompt.any(&["lifetime", "absolute", "at most", "maximum", "max", "last"]))
        && !prompt.any(&["idle", "inactivity", "inactive", "unused"]);
    if absolute {
        let mut changed = draft.set("/tokens/session_lifetime_secs", json!(secs));
        let mut shortened_idle = "";
        if idle.is_some_and(|idle| idle > secs) {
            changed |= draft.set("/tokens/session_idle_timeout_secs", json!(secs));
            shortened_idle = " The idle timeout is shortened to match.";
        }
        draft.say(
            changed,
            format!(
                "End every session {} after sign-in.{shortened_idle}",
                duration(secs)
            ),
            format!("Sessions already last {}.", duration(secs)),
        );
        return Step::Done;
    }
    let mut changed = draft.set("/tokens/session_idle_timeout_secs", json!(secs));
    let mut longer = String::new();
    if secs > lifetime {
        changed |= draft.set("/tokens/session_lifetime_secs", json!(secs));
        longer = format!(
            " The session lifetime ({}) is raised to match.",
            duration(lifetime)
        );
    }
    draft.say(
        changed,
        format!(
            "Sign users out after {} without activity.{longer}",
            duration(secs)
        ),
        format!(
            "Sessions already end after {} without activity.",
            duration(secs)
        ),
    );
    Step::Done
}

fn login_rate_limit(prompt: &Prompt, draft: &mut Draft) -> Step {
    let anchors = prompt.anchors(&[
        "attempts",
        "attempt",
        "tries",
        "failed logins",
        "failed login",
        "brute force",
        "rate limit",
        "rate limiting",
        "lockout",
        "lock out",
        "lock accounts",
        "lock the account",
    ]);
    if anchors.is_empty() {
        return Step::NotAsked;
    }
    let Some(max) = prompt.count_near(&anchors, 5) else {
        return Step::Refused(
            "How many failed attempts? Say e.g. \"limit login attempts to 5 per 15 minutes\"."
                .into(),
        );
    };
    let per = |before: Option<&str>| {
        matches!(
            before,
            Some("per" | "every" | "each" | "in" | "within" | "over" | "for")
        )
    };
    let mut window = prompt.duration_near(&anchors, 8, per);
    if window.is_none() {
        // "per minute", "an hour" without a number.
        for i in prompt.anchors(&["per", "an", "a", "every"]) {
            if let Some(secs) = prompt.word(i + 1).and_then(unit) {
                window = Some(secs);
                break;
            }
        }
    }
    let mut changed = draft.set("/rate_limits/failed_logins_per_account/max", json!(max));
    if let Some(window) = window {
        changed |= draft.set(
            "/rate_limits/failed_logins_per_account/window_secs",
            json!(window),
        );
    }
    let window = window.unwrap_or(
        draft
            .config()
            .rate_limits
            .failed_logins_per_account
            .window_secs,
    );
    draft.say(
        changed,
        format!(
            "Allow at most {max} failed login attempts per account every {}; further attempts \
             are refused until the window passes.",
            duration(window)
        ),
        format!(
            "Failed logins are already limited to {max} per account every {}.",
            duration(window)
        ),
    );
    Step::Done
}

fn custom_roles(prompt: &Prompt, draft: &mut Draft) -> Step {
    let roles = prompt.anchors(&["role", "roles"]);
    if roles.is_empty()
        || !prompt.any(&[
            "custom",
            "own",
            "define",
            "create",
            "their own",
            "additional",
        ])
    {
        return Step::NotAsked;
    }
    let mut changed = draft.set("/organizations/custom_roles", json!(true));
    let limit = prompt.count_near(&roles, 4);
    if let Some(limit) = limit {
        changed |= draft.set(
            "/organizations/max_custom_roles_per_organization",
            json!(limit),
        );
    }
    let up_to = limit.map_or(String::new(), |n| format!(" (up to {n} per organization)"));
    draft.say(
        changed,
        format!("Let organization admins define custom roles{up_to}."),
        format!("Organizations may already define custom roles{up_to}."),
    );
    Step::Done
}

fn admin_allowlist(prompt: &Prompt, draft: &mut Draft) -> Step {
    let networks: Vec<String> = prompt
        .words
        .iter()
        .filter(|w| !w.lower.starts_with('#') && IpNet::parse(&w.raw).is_ok())
        .map(|w| w.lower.clone())
        .collect();
    let about_admins = prompt.any(&[
        "admin",
        "admins",
        "administrator",
        "administrators",
        "administration",
        "allowlist",
        "whitelist",
        "ip",
        "ips",
        "restrict",
    ]);
    if !about_admins || (networks.is_empty() && !prompt.any(&["allowlist", "whitelist"])) {
        return Step::NotAsked;
    }
    if networks.is_empty() {
        return Step::Refused(
            "Which networks? Say e.g. \"restrict admin access to 10.0.0.0/8\".".into(),
        );
    }
    let current = draft.config().security.admin_ip_allowlist.clone();
    let mut added = Vec::new();
    for network in &networks {
        if !current.contains(network) && !added.contains(network) {
            draft.push("/security/admin_ip_allowlist", json!(network));
            added.push(network.clone());
        }
    }
    draft.say(
        !added.is_empty(),
        format!(
            "Let the admin API and organization administration answer only {}{}.",
            if current.is_empty() {
                ""
            } else {
                "the allowlisted networks and "
            },
            added.join(", ")
        ),
        format!("Admin access already allows {}.", networks.join(", ")),
    );
    Step::Done
}

fn webhook(prompt: &Prompt, draft: &mut Draft) -> Step {
    let anchors = prompt.anchors(&[
        "webhook", "webhooks", "events", "event", "notify", "post", "send", "forward", "stream",
    ]);
    let logo = prompt.anchors(&["logo"]);
    if anchors.is_empty() || prompt.urls().is_empty() {
        return Step::NotAsked;
    }
    let Some(url) = prompt.url_near(&anchors) else {
        return Step::NotAsked;
    };
    if !logo.is_empty() && prompt.url_near(&logo).as_deref() == Some(url.as_str()) {
        return Step::NotAsked;
    }
    let mut events = Vec::new();
    if prompt.any(&["all events", "every event", "all audit", "everything"]) {
        events.push("*");
    } else {
        if prompt.any(&[
            "organization",
            "organizations",
            "org",
            "orgs",
            "member",
            "members",
        ]) {
            events.push("organization.*");
        }
        if prompt.any(&["admin", "admins", "administration"]) {
            events.push("admin.*");
        }
        if events.is_empty()
            || prompt.any(SIGN_IN)
            || prompt.any(&["auth", "authentication", "security", "logout", "session"])
        {
            events.insert(0, "auth.*");
        }
    }
    let existing = draft.config().webhooks.iter().position(|h| h.url == url);
    let changed = match existing {
        Some(i) => {
            let mut all = draft.config().webhooks[i].events.clone();
            for event in &events {
                if !all.iter().any(|e| e == event) {
                    all.push((*event).to_owned());
                }
            }
            draft.set(&format!("/webhooks/{i}/events"), json!(all))
        }
        None => {
            draft.push("/webhooks", json!({"url": url, "events": events}));
            true
        }
    };
    draft.say(
        changed,
        format!(
            "Send the instance's events matching {} to the webhook {url} as signed HTTP POSTs.",
            events.join(", ")
        ),
        format!(
            "{url} already receives the events matching {}.",
            events.join(", ")
        ),
    );
    Step::Done
}

/// CSS color names (the two-word ones first so that "dark green" is not "green").
const COLORS: &[(&str, &str)] = &[
    ("dark green", "#006400"),
    ("forest green", "#228b22"),
    ("light green", "#90ee90"),
    ("dark blue", "#00008b"),
    ("navy blue", "#000080"),
    ("light blue", "#add8e6"),
    ("sky blue", "#87ceeb"),
    ("royal blue", "#4169e1"),
    ("midnight blue", "#191970"),
    ("dark red", "#8b0000"),
    ("hot pink", "#ff69b4"),
    ("dark orange", "#ff8c00"),
    ("dark gray", "#a9a9a9"),
    ("dark grey", "#a9a9a9"),
    ("light gray", "#d3d3d3"),
    ("light grey", "#d3d3d3"),
    ("slate gray", "#708090"),
    ("dark violet", "#9400d3"),
    ("red", "#ff0000"),
    ("green", "#008000"),
    ("blue", "#0000ff"),
    ("yellow", "#ffff00"),
    ("orange", "#ffa500"),
    ("purple", "#800080"),
    ("pink", "#ffc0cb"),
    ("black", "#000000"),
    ("white", "#ffffff"),
    ("gray", "#808080"),
    ("grey", "#808080"),
    ("brown", "#a52a2a"),
    ("teal", "#008080"),
    ("navy", "#000080"),
    ("cyan", "#00ffff"),
    ("magenta", "#ff00ff"),
    ("indigo", "#4b0082"),
    ("violet", "#ee82ee"),
    ("gold", "#ffd700"),
    ("silver", "#c0c0c0"),
    ("maroon", "#800000"),
    ("olive", "#808000"),
    ("lime", "#00ff00"),
    ("coral", "#ff7f50"),
    ("crimson", "#dc143c"),
    ("turquoise", "#40e0d0"),
];

fn title_case(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn primary_color(prompt: &Prompt, draft: &mut Draft) -> Step {
    let hex = prompt.words.iter().find_map(|w| hex_color(&w.lower));
    let named = COLORS.iter().any(|(name, _)| prompt.has(name));
    let about_color = prompt.any(&["color", "colour", "colors", "colours"])
        || (named && prompt.any(&["brand", "primary", "accent", "button", "buttons"]));
    if hex.is_none() && !about_color {
        return Step::NotAsked;
    }
    let color = hex.or_else(|| {
        COLORS
            .iter()
            .find(|(name, _)| prompt.has(name))
            .map(|(_, hex)| (*hex).to_owned())
    });
    let Some(color) = color else {
        return Step::Refused(
            "Which color? Name one (blue, dark green, ...) or give a hex code like #4f46e5.".into(),
        );
    };
    let changed = draft.set("/branding/primary_color", json!(color));
    let warning = super::contrast::warning(&color)
        .map(|w| format!(" {w}"))
        .unwrap_or_default();
    draft.say(
        changed,
        format!("Set the primary color to {color}.{warning}"),
        format!("The primary color is already {color}."),
    );
    Step::Done
}

fn logo(prompt: &Prompt, draft: &mut Draft) -> Step {
    let anchors = prompt.anchors(&["logo", "logos"]);
    if anchors.is_empty() {
        return Step::NotAsked;
    }
    let Some(url) = prompt.url_near(&anchors) else {
        return Step::Refused(
            "Where is the logo? Say e.g. \"use https://example.com/logo.svg as logo\".".into(),
        );
    };
    let changed = draft.set("/branding/logo_url", json!(url));
    draft.say(
        changed,
        format!("Show the logo from {url}."),
        format!("The logo is already {url}."),
    );
    Step::Done
}

fn appearance(prompt: &Prompt, draft: &mut Draft) -> Step {
    let modes = ["mode", "theme", "appearance", "scheme"];
    let before_mode = |words: &[&str]| {
        words.iter().any(|w| {
            prompt
                .find(w)
                .into_iter()
                .any(|i| prompt.word(i + 1).is_some_and(|next| modes.contains(&next)))
        })
    };
    let auto = before_mode(&["auto", "automatic", "system", "os"])
        || prompt.any(&[
            "follow the system",
            "follows the system",
            "system setting",
            "system settings",
            "prefers color scheme",
        ]);
    let dark = before_mode(&["dark", "night"]);
    let light = before_mode(&["light"]);
    let (value, done) = if auto {
        (
            "auto",
            "Follow each user's system setting for light or dark mode.",
        )
    } else if dark {
        (
            "dark",
            "Switch the sign-in pages and components to dark mode.",
        )
    } else if light {
        (
            "light",
            "Switch the sign-in pages and components to light mode.",
        )
    } else {
        return Step::NotAsked;
    };
    let changed = draft.set("/branding/appearance", json!(value));
    draft.say(changed, done, format!("The appearance is already {value}."));
    Step::Done
}

const LANGUAGES: &[(&str, &str)] = &[
    ("brazilian portuguese", "pt-BR"),
    ("english", "en"),
    ("french", "fr"),
    ("german", "de"),
    ("spanish", "es"),
    ("italian", "it"),
    ("portuguese", "pt"),
    ("dutch", "nl"),
    ("polish", "pl"),
    ("swedish", "sv"),
    ("danish", "da"),
    ("norwegian", "nb"),
    ("finnish", "fi"),
    ("czech", "cs"),
    ("russian", "ru"),
    ("ukrainian", "uk"),
    ("turkish", "tr"),
    ("greek", "el"),
    ("japanese", "ja"),
    ("chinese", "zh"),
    ("korean", "ko"),
    ("arabic", "ar"),
    ("hebrew", "he"),
    ("hindi", "hi"),
    ("indonesian", "id"),
    ("vietnamese", "vi"),
    ("thai", "th"),
    ("romanian", "ro"),
    ("hungarian", "hu"),
];

fn languages(prompt: &Prompt, draft: &mut Draft) -> Step {
    let named = LANGUAGES.iter().any(|(name, _)| prompt.has(name));
    let asked = prompt.has_prefix("translat")
        || prompt.has_prefix("locali")
        || prompt.any(&["language", "languages", "i18n"])
        || (named && prompt.any(&["support", "offer", "available"]));
    if !asked {
        return Step::NotAsked;
    }
    // In the order of the prompt; "Brazilian Portuguese" is not also "Portuguese".
    let mut found: Vec<(usize, &str, &str)> = Vec::new();
    let mut taken = Vec::new();
    for (name, code) in LANGUAGES {
        for at in prompt.find(name) {
            let len = name.split(' ').count();
            if (at..at + len).any(|i| taken.contains(&i)) {
                continue;
            }
            taken.extend(at..at + len);
            found.push((at, code, name));
        }
    }
    if found.is_empty() {
        let known: Vec<&str> = LANGUAGES.iter().map(|(name, _)| *name).collect();
        return Step::Refused(format!("Which languages? I know {}.", known.join(", ")));
    }
    found.sort_unstable();
    let i18n = &draft.config().i18n;
    let mut languages = if i18n.languages.is_empty() {
        vec![i18n.default_language.clone()]
    } else {
        i18n.languages.clone()
    };
    let mut added = Vec::new();
    for (_, code, name) in found {
        if !languages.iter().any(|l| l == code) {
            languages.push(code.to_owned());
            added.push(format!("{} ({code})", title_case(name)));
        }
    }
    let changed = draft.set("/i18n/languages", json!(languages));
    draft.say(
        changed,
        format!(
            "Offer the sign-in pages and emails in {} as well (languages: {}).",
            added.join(", "),
            languages.join(", ")
        ),
        format!(
            "Those languages are already offered ({}).",
            languages.join(", ")
        ),
    );
    Step::Done
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::customize::planner::apply;
    use authstack_instance::config::Webhook;

    /// The context on `plan` of the built-in catalogue.
    fn context<'a>(current: &'a InstanceConfig, plan: &'a str) -> PlanContext<'a> {
        let sso = crate::catalog::Catalog::built_in()
            .plan(plan)
            .is_some_and(|p| p.limits.sso);
        PlanContext { current, plan, sso }
    }

    fn proposal(prompt: &str, current: &InstanceConfig, plan: &str) -> Proposal {
        let context = context(current, plan);
        match super::plan(prompt, &context) {
            Ok(Planned::Proposal(p)) => p,
            other => panic!("{prompt:?} was not planned: {other:?}"),
        }
    }

    fn refusal(prompt: &str, current: &InstanceConfig, plan: &str) -> String {
        let context = context(current, plan);
        match super::plan(prompt, &context) {
            Ok(Planned::Unsupported { message }) => message,
            other => panic!("{prompt:?} was not refused: {other:?}"),
        }
    }

    /// Each prompt (several phrasings per request) and the exact patch against the default
    /// configuration, but with email verification off, on the Pro plan; one operation a line:
    /// `op path value`.
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
        ("Make the primary color blue", &["replace /branding/primary_color \"#0000ff\""]),
        ("make the login buttons red", &["replace /branding/primary_color \"#ff0000\""]),
        ("change our brand colour to dark green", &["replace /branding/primary_color \"#006400\""]),
        ("Set the primary color to #FF5500.", &["replace /branding/primary_color \"#ff5500\""]),
        ("color: #0af", &["replace /branding/primary_color \"#00aaff\""]),
        ("Use https://cdn.example.com/Brand/Logo.svg as logo", &["replace /branding/logo_url \"https://cdn.example.com/Brand/Logo.svg\""]),
        ("set our logo to \"https://example.com/logo.png\".", &["replace /branding/logo_url \"https://example.com/logo.png\""]),
        ("Require a phone number at signup", &["replace /auth/signup/fields/phone \"required\""]),
        ("make the phone number mandatory when users register", &["replace /auth/signup/fields/phone \"required\""]),
        ("Ask for a phone number (optional) on the sign-up form", &["replace /auth/signup/fields/phone \"optional\""]),
        ("Enable dark mode", &["replace /branding/appearance \"dark\""]),
        ("switch the login page to a dark theme", &["replace /branding/appearance \"dark\""]),
        ("Use auto dark mode that follows the system setting", &["replace /branding/appearance \"auto\""]),
        ("Translate to French and German", &["replace /i18n/languages [\"en\",\"fr\",\"de\"]"]),
        ("We need to support Italian", &["replace /i18n/languages [\"en\",\"it\"]"]),
        ("Add Spanish, Brazilian Portuguese and Japanese as languages", &["replace /i18n/languages [\"en\",\"es\",\"pt-BR\",\"ja\"]"]),
        ("Limit login attempts to 5", &["replace /rate_limits/failed_logins_per_account/max 5"]),
        ("Lock accounts after 3 failed login attempts per 10 minutes", &[
            "replace /rate_limits/failed_logins_per_account/max 3",
            "replace /rate_limits/failed_logins_per_account/window_secs 600",
        ]),
        ("allow five tries per hour", &[
            "replace /rate_limits/failed_logins_per_account/max 5",
            "replace /rate_limits/failed_logins_per_account/window_secs 3600",
        ]),
        ("Set the session timeout to 30 minutes", &["replace /tokens/session_idle_timeout_secs 1800"]),
        ("Log users out after 2 hours of inactivity", &["replace /tokens/session_idle_timeout_secs 7200"]),
        ("sessions expire after 45min idle", &["replace /tokens/session_idle_timeout_secs 2700"]),
        ("Sessions should last at most 7 days", &["replace /tokens/session_lifetime_secs 604800"]),
        ("Users should stay logged in for 90 days", &["replace /tokens/session_lifetime_secs 7776000"]),
        ("Restrict admin access to 10.0.0.0/8", &["add /security/admin_ip_allowlist/- \"10.0.0.0/8\""]),
        ("Only allow admins from 203.0.113.4 and 2001:db8::/32.", &[
            "add /security/admin_ip_allowlist/- \"203.0.113.4\"",
            "add /security/admin_ip_allowlist/- \"2001:db8::/32\"",
        ]),
        ("Send login events to https://hooks.example.com/Auth", &["add /webhooks/- {\"url\":\"https://hooks.example.com/Auth\",\"events\":[\"auth.*\"]}"]),
        ("post auth events to our webhook at https://example.com/hook", &["add /webhooks/- {\"url\":\"https://example.com/hook\",\"events\":[\"auth.*\"]}"]),
        ("Forward organization events to https://example.com/orgs", &["add /webhooks/- {\"url\":\"https://example.com/orgs\",\"events\":[\"organization.*\"]}"]),
        ("Let organizations create custom roles, up to 5 custom roles", &["replace /organizations/max_custom_roles_per_organization 5"]),
        ("allow up to 50 custom roles per organization", &["replace /organizations/max_custom_roles_per_organization 50"]),
        ("Allow per-organization password policies", &["replace /passwords/organization_overrides true"]),
        ("Let teams set their own password rules", &["replace /passwords/organization_overrides true"]),
        ("Set the minimum password length to 12", &["replace /passwords/min_length 12"]),
        ("passwords must be at least 10 characters long", &["replace /passwords/min_length 10"]),
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

    #[test]
    fn each_prompt_becomes_its_patch() {
        let mut current = InstanceConfig::default();
        current.auth.require_email_verification = false;
        for (prompt, ops) in CASES {
            let expected = expected(ops);
            let proposal = proposal(prompt, &current, "pro");
            let patch = serde_json::to_value(&proposal.patch).expect("serializable");
            assert_eq!(patch, expected, "prompt {prompt:?}");
            // The result validates and carries the change's security notes.
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
        current.i18n.languages = vec!["fr".into(), "de".into()];
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
            patch("translate into German and Italian"),
            json!([{"op": "replace", "path": "/i18n/languages", "value": ["fr", "de", "it"]}])
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

    fn proposal_default(prompt: &str) -> Proposal {
        proposal(prompt, &InstanceConfig::default(), "pro")
    }

    #[test]
    fn google_authenticator_is_a_second_factor() {
        let proposal = proposal_default("enable 2FA with Google Authenticator");
        assert_eq!(
            serde_json::to_value(proposal.patch).expect("serializable"),
            json!([{"op": "replace", "path": "/auth/mfa/mode", "value": "optional"}])
        );
    }

    #[test]
    fn planning_is_deterministic() {
        let prompt =
            "Add GitHub login, dark mode, translate to Spanish and limit login attempts to 4";
        let first = proposal_default(prompt);
        for _ in 0..3 {
            assert_eq!(proposal_default(prompt), first);
        }
        assert_eq!(first.patch.0.len(), 4);
    }
}
