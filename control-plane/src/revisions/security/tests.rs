//! Tests of `security.rs`.

use super::*;
use authstack_instance::config::{CaptchaProvider, Limit, MfaMethod, MfaMode, Webhook};

fn changed(change: impl FnOnce(&mut InstanceConfig)) -> Vec<String> {
    let before = InstanceConfig::default();
    let mut after = before.clone();
    change(&mut after);
    notes(&before, &after)
}

fn has(notes: &[String], words: &str) -> bool {
    notes.iter().any(|n| n.contains(words))
}

#[test]
fn no_change_and_cosmetic_changes_have_no_notes() {
    assert!(changed(|_| {}).is_empty());
    assert!(changed(|c| c.branding.primary_color = "#112233".into()).is_empty());
    assert!(changed(|c| c.i18n.languages = vec!["en".into(), "fr".into()]).is_empty());
}

#[test]
fn lowering_the_password_minimum_names_both_lengths() {
    let mut before = InstanceConfig::default();
    before.passwords.min_length = 12;
    let mut after = before.clone();
    after.passwords.min_length = 8;
    let notes = notes(&before, &after);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].starts_with("Lowering the password minimum from 12 to 8"));
    assert!(notes[0].contains("weakens"));
    // The reverse direction is a strengthening, with its own note.
    let back = super::notes(&after, &before);
    assert_eq!(back.len(), 1);
    assert!(back[0].starts_with("Raising the password minimum from 8 to 12"));
}

#[test]
fn weakening_toggles_are_noted() {
    let notes = changed(|c| c.passwords.reject_common = false);
    assert!(has(&notes, "Common passwords are no longer rejected"));
    let notes = changed(|c| c.auth.require_email_verification = false);
    assert!(has(&notes, "Email verification is no longer required"));
    let notes = changed(|c| c.passwords.max_length = 32);
    assert!(has(&notes, "at least 64"));
}

#[test]
fn mfa_changes_are_weakened_or_strengthened_by_mode_order() {
    let notes = changed(|c| c.auth.mfa.mode = MfaMode::RequiredForAdmins);
    assert_eq!(
        notes,
        vec![
            "Multi-factor authentication is strengthened from off to required for admins: a \
             stolen password alone is no longer enough for the users it covers; they must \
             enrol a second factor."
                .to_owned()
        ]
    );
    let mut before = InstanceConfig::default();
    before.auth.mfa.mode = MfaMode::Required;
    let mut after = before.clone();
    after.auth.mfa.mode = MfaMode::Optional;
    after.auth.mfa.methods.push(MfaMethod::Sms);
    let notes = super::notes(&before, &after);
    assert!(has(
        &notes,
        "weakened from required for everyone to optional"
    ));
    assert!(has(&notes, "SIM swapping"));
    after.auth.mfa.methods = vec![MfaMethod::Totp];
    assert!(has(
        &super::notes(&before, &after),
        "Security keys (WebAuthn) are no longer accepted"
    ));
}

#[test]
fn new_sign_in_methods_are_new_attack_surface() {
    let notes = changed(|c| c.auth.methods.magic_link = true);
    assert!(has(&notes, "mailbox"));
    let notes = changed(|c| c.auth.social.google.enabled = true);
    assert_eq!(notes.len(), 1);
    assert!(notes[0].contains("Google vouches"));
    let notes = changed(|c| {
        c.auth.social.github.enabled = true;
        c.auth.social.github.scopes.push("repo".into());
    });
    assert!(has(&notes, "GitHub vouches"));
    assert!(has(&notes, "more access (repo)"));
    let notes = changed(|c| {
        c.auth.saml.enabled = true;
        c.auth.saml.per_organization = true;
    });
    assert_eq!(notes.len(), 2, "{notes:?}");
}

#[test]
fn loosened_and_tightened_rate_limits() {
    let notes = changed(|c| c.rate_limits.failed_logins_per_account.max = 100);
    assert_eq!(
        notes,
        vec![
            "Failed logins per account are loosened from 10 per 15 minutes to 100 per 15 \
             minutes: more room for password guessing against one account."
                .to_owned()
        ]
    );
    let notes = changed(|c| c.rate_limits.signups_per_ip.window_secs = 60);
    assert!(has(&notes, "Signups per IP address are loosened"));
    let notes = changed(|c| c.rate_limits.failed_logins_per_account.max = 3);
    assert!(has(
        &notes,
        "tightened from 10 per 15 minutes to 3 per 15 minutes"
    ));
    // Fewer attempts in a shorter window: a lower rate and a smaller burst.
    let notes = changed(|c| {
        c.rate_limits.failed_logins_per_account = Limit {
            max: 3,
            window_secs: 300,
        }
    });
    assert!(has(
        &notes,
        "tightened from 10 per 15 minutes to 3 per 5 minutes"
    ));
    // The same burst in a shorter window is a higher rate.
    let notes = changed(|c| c.rate_limits.failed_logins_per_account.window_secs = 60);
    assert!(has(
        &notes,
        "loosened from 10 per 15 minutes to 10 per 1 minute"
    ));
}

#[test]
fn session_lifetimes() {
    let notes = changed(|c| c.tokens.session_lifetime_secs = 90 * 86_400);
    assert!(has(&notes, "up to 90 days instead of 30 days"));
    let notes = changed(|c| c.tokens.session_idle_timeout_secs = Some(1800));
    assert!(has(&notes, "Sessions end after 30 minutes without use"));
    let mut before = InstanceConfig::default();
    before.tokens.session_idle_timeout_secs = Some(1800);
    let mut after = before.clone();
    after.tokens.session_idle_timeout_secs = Some(7200);
    assert!(has(
        &super::notes(&before, &after),
        "lengthened from 30 minutes to 2 hours"
    ));
    after.tokens.session_idle_timeout_secs = None;
    assert!(has(
        &super::notes(&before, &after),
        "Idle sessions no longer end after 30 minutes"
    ));
}

#[test]
fn captcha_and_signup() {
    let notes = changed(|c| c.auth.captcha.provider = CaptchaProvider::Turnstile);
    assert!(has(
        &notes,
        "A CAPTCHA (Cloudflare Turnstile) protects signup"
    ));
    let mut before = InstanceConfig::default();
    before.auth.captcha.provider = CaptchaProvider::Hcaptcha;
    before.auth.signup.enabled = false;
    let mut after = before.clone();
    after.auth.captcha.provider = CaptchaProvider::None;
    after.auth.signup.enabled = true;
    let notes = super::notes(&before, &after);
    assert!(has(&notes, "Signup is open"));
    assert!(has(&notes, "The CAPTCHA is turned off"));
}

#[test]
fn network_rules() {
    let notes = changed(|c| c.security.admin_ip_allowlist = vec!["10.0.0.0/8".into()]);
    assert!(has(&notes, "Admin access is restricted to 10.0.0.0/8"));
    let mut before = InstanceConfig::default();
    before.security.admin_ip_allowlist = vec!["10.0.0.0/8".into()];
    let after = InstanceConfig::default();
    assert!(has(
        &super::notes(&before, &after),
        "The admin IP allowlist is removed"
    ));
    let notes = changed(|c| {
        c.security.redirect_uris = vec!["https://app.example.com/callback".into()];
        c.security.allowed_origins = vec!["https://app.example.com".into()];
    });
    assert_eq!(notes.len(), 2);
    assert!(has(&notes, "https://app.example.com/callback"));
}

#[test]
fn a_new_webhook_says_events_leave_the_instance() {
    let notes = changed(|c| {
        c.webhooks.push(Webhook {
            url: "https://hooks.example.com/auth".into(),
            events: vec!["auth.*".into()],
            description: None,
        })
    });
    assert_eq!(notes.len(), 1);
    assert!(notes[0].contains("leave the instance for https://hooks.example.com/auth"));
    assert!(notes[0].contains("https"));
}

#[test]
fn notes_are_deterministic_and_ordered() {
    let change = |c: &mut InstanceConfig| {
        c.passwords.min_length = 6;
        c.auth.methods.magic_link = true;
        c.webhooks.push(Webhook {
            url: "https://hooks.example.com/a".into(),
            events: vec!["*".into()],
            description: None,
        });
    };
    let first = changed(change);
    assert_eq!(first, changed(change));
    assert_eq!(first.len(), 3);
    assert!(first[0].contains("Magic links"));
    assert!(first[1].contains("Lowering the password minimum from 8 to 6"));
    assert!(first[2].contains("hooks.example.com"));
}

#[test]
fn durations_read_naturally() {
    assert_eq!(duration(45), "45 seconds");
    assert_eq!(duration(60), "1 minute");
    assert_eq!(duration(5400), "90 minutes");
    assert_eq!(duration(7200), "2 hours");
    assert_eq!(duration(86_400), "1 day");
}
