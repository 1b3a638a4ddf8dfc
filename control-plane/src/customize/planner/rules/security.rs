//! Password policy, session lifetimes, failed-login limits and the admin IP allowlist.

use authstack_instance::config::IpNet;
use serde_json::json;

use super::draft::{Draft, Step};
use super::tokens::{Prompt, unit};
use super::words::ORGANIZATIONS;
use crate::revisions::security::duration;

pub(super) fn password_length(prompt: &Prompt, draft: &mut Draft) -> Step {
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

pub(super) fn organization_passwords(prompt: &Prompt, draft: &mut Draft) -> Step {
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

pub(super) fn session_timeout(prompt: &Prompt, draft: &mut Draft) -> Step {
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

pub(super) fn login_rate_limit(prompt: &Prompt, draft: &mut Draft) -> Step {
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

pub(super) fn admin_allowlist(prompt: &Prompt, draft: &mut Draft) -> Step {
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

#[cfg(test)]
mod tests {
    use super::super::testing;

    /// Prompts for these rules and their patches (see [`testing::assert_patches`]).
    #[rustfmt::skip]
    const CASES: &[(&str, &[&str])] = &[
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
        ("Allow per-organization password policies", &["replace /passwords/organization_overrides true"]),
        ("Let teams set their own password rules", &["replace /passwords/organization_overrides true"]),
        ("Set the minimum password length to 12", &["replace /passwords/min_length 12"]),
        ("passwords must be at least 10 characters long", &["replace /passwords/min_length 10"]),
    ];

    #[test]
    fn each_prompt_becomes_its_patch() {
        testing::assert_patches(CASES);
    }
}
