//! What a configuration change means for security, in plain language. Every revision preview
//! (a dry run, a diff, a customization proposal, a promotion) shows these notes next to the
//! patch, so that a customer who approves "lower the password minimum" reads what it weakens.
//!
//! The notes are deterministic: the same pair of configurations always gives the same notes in
//! the same order (the order of the fields in [`InstanceConfig`]).

use authstack_instance::config::{
    CaptchaProvider, FieldRule, InstanceConfig, Limit, MfaMethod, MfaMode, SocialProvider,
};

/// The security implications of changing `before` into `after`; empty when nothing that matters
/// for security changed (e.g. only the primary color).
pub fn notes(before: &InstanceConfig, after: &InstanceConfig) -> Vec<String> {
    let mut notes = Notes::default();
    sign_in_methods(&mut notes, before, after);
    verification_and_signup(&mut notes, before, after);
    mfa(&mut notes, before, after);
    captcha(&mut notes, before, after);
    passwords(&mut notes, before, after);
    tokens(&mut notes, before, after);
    rate_limits(&mut notes, before, after);
    organizations(&mut notes, before, after);
    network(&mut notes, before, after);
    webhooks(&mut notes, before, after);
    elsewhere(&mut notes, before, after);
    notes.0
}

#[derive(Default)]
struct Notes(Vec<String>);

impl Notes {
    fn add(&mut self, note: impl Into<String>) {
        self.0.push(note.into());
    }
}

fn sign_in_methods(notes: &mut Notes, before: &InstanceConfig, after: &InstanceConfig) {
    let (was, is) = (&before.auth.methods, &after.auth.methods);
    if !was.password && is.password {
        notes.add(
            "Password sign-in is turned on: passwords can be guessed, reused from other \
             breaches or phished, so keep the password policy, rate limits and MFA strict.",
        );
    }
    if was.password && !is.password {
        notes.add(
            "Password sign-in is turned off: users who only have a password must sign in \
             another way (or reset their access), and password guessing is no longer possible.",
        );
    }
    if !was.magic_link && is.magic_link {
        notes.add(
            "Magic links are turned on: whoever can read a user's mailbox can sign in as that \
             user, so the email account becomes the key to this one.",
        );
    }
    if !was.passkeys && is.passkeys {
        notes.add(
            "Passkeys are turned on: a phishing-resistant way to sign in that is bound to the \
             user's device or password manager.",
        );
    }
    for (name, was, is) in [
        (
            "Google",
            &before.auth.social.google,
            &after.auth.social.google,
        ),
        (
            "GitHub",
            &before.auth.social.github,
            &after.auth.social.github,
        ),
    ] {
        social(notes, name, was, is);
    }
    let (was, is) = (&before.auth.saml, &after.auth.saml);
    if !was.enabled && is.enabled {
        notes.add(
            "SAML single sign-on is turned on: an identity provider's assertion signs users in, \
             so a misconfigured or compromised identity provider can sign in anyone it names.",
        );
    }
    if !was.per_organization && is.per_organization && is.enabled {
        notes.add(
            "Organizations may configure their own SAML identity provider: each organization's \
             provider is trusted for that organization's members only.",
        );
    }
}

fn social(notes: &mut Notes, name: &str, was: &SocialProvider, is: &SocialProvider) {
    if !was.enabled && is.enabled {
        notes.add(format!(
            "Sign-in with {name} is turned on: {name} vouches for the user's identity, so an \
             account taken over at {name} is taken over here too; a new attack surface."
        ));
    }
    if was.enabled && is.enabled && was.client_id != is.client_id && was.client_id.is_some() {
        notes.add(format!(
            "Sign-in with {name} now uses another OAuth client: make sure its redirect URIs and \
             secret belong to you."
        ));
    }
    let added: Vec<&String> = is
        .scopes
        .iter()
        .filter(|s| !was.scopes.contains(s))
        .collect();
    if is.enabled && !added.is_empty() {
        notes.add(format!(
            "Sign-in with {name} asks users for more access ({}): only request what the product \
             needs.",
            list(&added)
        ));
    }
}

fn verification_and_signup(notes: &mut Notes, before: &InstanceConfig, after: &InstanceConfig) {
    let (was, is) = (&before.auth, &after.auth);
    if was.require_email_verification && !is.require_email_verification {
        notes.add(
            "Email verification is no longer required: anyone can sign up with an address they \
             do not own, and signup reveals which addresses already have accounts.",
        );
    }
    if !was.require_email_verification && is.require_email_verification {
        notes.add(
            "Email verification is required: users prove they own their address before they \
             can sign in, and signup no longer reveals which addresses have accounts.",
        );
    }
    if !was.signup.enabled && is.signup.enabled {
        notes.add(
            "Signup is open: anyone can create an account, so bots and abuse become possible; \
             keep the signup rate limit and consider a CAPTCHA.",
        );
    }
    if was.signup.enabled && !is.signup.enabled {
        notes.add("Signup is closed: new users can join only by invitation.");
    }
    if was.signup.fields.phone == FieldRule::Off && is.signup.fields.phone != FieldRule::Off {
        notes.add(
            "Signup collects phone numbers: personal data that must be protected and that \
             users may not want to share.",
        );
    }
}

fn mfa_strength(mode: MfaMode) -> u8 {
    match mode {
        MfaMode::Off => 0,
        MfaMode::Optional => 1,
        MfaMode::RequiredForAdmins => 2,
        MfaMode::Required => 3,
    }
}

fn mfa_mode_words(mode: MfaMode) -> &'static str {
    match mode {
        MfaMode::Off => "off",
        MfaMode::Optional => "optional",
        MfaMode::RequiredForAdmins => "required for admins",
        MfaMode::Required => "required for everyone",
    }
}

fn mfa(notes: &mut Notes, before: &InstanceConfig, after: &InstanceConfig) {
    let (was, is) = (&before.auth.mfa, &after.auth.mfa);
    let (from, to) = (mfa_mode_words(was.mode), mfa_mode_words(is.mode));
    match mfa_strength(is.mode).cmp(&mfa_strength(was.mode)) {
        std::cmp::Ordering::Less => notes.add(format!(
            "Multi-factor authentication is weakened from {from} to {to}: a stolen password \
             alone may then be enough to take over an account."
        )),
        std::cmp::Ordering::Greater => notes.add(format!(
            "Multi-factor authentication is strengthened from {from} to {to}: a stolen password \
             alone is no longer enough for the users it covers; they must enrol a second factor."
        )),
        std::cmp::Ordering::Equal => {}
    }
    if is.mode == MfaMode::Off {
        return;
    }
    if !was.methods.contains(&MfaMethod::Sms) && is.methods.contains(&MfaMethod::Sms) {
        notes.add(
            "SMS codes are accepted as a second factor: they can be intercepted by SIM swapping \
             or phishing; prefer an authenticator app or a security key.",
        );
    }
    for (method, name) in [
        (MfaMethod::Totp, "authenticator apps (TOTP)"),
        (MfaMethod::Webauthn, "security keys (WebAuthn)"),
    ] {
        if was.methods.contains(&method) && !is.methods.contains(&method) {
            notes.add(format!(
                "{} are no longer accepted as a second factor: users enrolled with them must \
                 enrol another method.",
                capitalized(name)
            ));
        }
    }
}

fn captcha_name(provider: CaptchaProvider) -> &'static str {
    match provider {
        CaptchaProvider::None => "none",
        CaptchaProvider::Turnstile => "Cloudflare Turnstile",
        CaptchaProvider::Hcaptcha => "hCaptcha",
        CaptchaProvider::Recaptcha => "reCAPTCHA",
    }
}

fn captcha(notes: &mut Notes, before: &InstanceConfig, after: &InstanceConfig) {
    let (was, is) = (&before.auth.captcha, &after.auth.captcha);
    let was_on = was.provider != CaptchaProvider::None;
    let is_on = is.provider != CaptchaProvider::None;
    match (was_on, is_on) {
        (true, false) => notes.add(
            "The CAPTCHA is turned off: bots can sign up and try passwords without a challenge; \
             only the rate limits stop them.",
        ),
        (false, true) => notes.add(format!(
            "A CAPTCHA ({}) protects {}: it slows down bots; the provider sees your users' \
             visits to those forms.",
            captcha_name(is.provider),
            captcha_forms(is.on_signup, is.on_login)
        )),
        (true, true) => {
            if was.provider != is.provider {
                notes.add(format!(
                    "The CAPTCHA provider changes from {} to {}: set the new provider's keys \
                     before deploying, or the protected forms fail.",
                    captcha_name(was.provider),
                    captcha_name(is.provider)
                ));
            }
            if was.on_signup && !is.on_signup {
                notes.add("The signup form is no longer protected by a CAPTCHA.");
            }
            if was.on_login && !is.on_login {
                notes.add("The login form is no longer protected by a CAPTCHA.");
            }
        }
        (false, false) => {}
    }
}

fn captcha_forms(on_signup: bool, on_login: bool) -> &'static str {
    match (on_signup, on_login) {
        (true, true) => "signup and login",
        (true, false) => "signup",
        (false, true) => "login",
        (false, false) => "no form yet",
    }
}

fn passwords(notes: &mut Notes, before: &InstanceConfig, after: &InstanceConfig) {
    let (was, is) = (&before.passwords, &after.passwords);
    if is.min_length < was.min_length {
        notes.add(format!(
            "Lowering the password minimum from {} to {} characters weakens resistance to \
             guessing and cracking; NIST SP 800-63B asks for at least 8.",
            was.min_length, is.min_length
        ));
    }
    if is.min_length > was.min_length {
        notes.add(format!(
            "Raising the password minimum from {} to {} characters strengthens new passwords; \
             existing passwords keep working until they are changed.",
            was.min_length, is.min_length
        ));
    }
    if is.max_length < was.max_length && is.max_length < 64 {
        notes.add(format!(
            "Lowering the password maximum to {} characters keeps users from long passphrases; \
             NIST SP 800-63B asks to allow at least 64.",
            is.max_length
        ));
    }
    if was.reject_common && !is.reject_common {
        notes.add(
            "Common passwords are no longer rejected: \"password123\" and other passwords from \
             breach lists are accepted and are the first ones attackers try.",
        );
    }
    if !was.reject_common && is.reject_common {
        notes.add("Common passwords are rejected at signup and at every password change.");
    }
    if is.reject_common && was.common_list_file != is.common_list_file {
        notes.add(match &is.common_list_file {
            Some(path) => format!(
                "Common passwords are checked against {} instead of the built-in list: make sure \
                 it is at least as complete.",
                path.display()
            ),
            None => "Common passwords are checked against the built-in list.".to_owned(),
        });
    }
    if !was.organization_overrides && is.organization_overrides {
        notes.add(
            "Organizations may require longer passwords for their members (never a weaker \
             policy than this one).",
        );
    }
}

fn tokens(notes: &mut Notes, before: &InstanceConfig, after: &InstanceConfig) {
    let (was, is) = (&before.tokens, &after.tokens);
    if is.access_token_ttl_secs > was.access_token_ttl_secs {
        notes.add(format!(
            "Access tokens live {} instead of {}: a leaked token stays usable longer, and a \
             revoked session is noticed later by your API.",
            duration(is.access_token_ttl_secs),
            duration(was.access_token_ttl_secs)
        ));
    }
    if is.session_lifetime_secs > was.session_lifetime_secs {
        notes.add(format!(
            "Sessions last up to {} instead of {}: a stolen session or an unattended device \
             stays signed in longer.",
            duration(is.session_lifetime_secs),
            duration(was.session_lifetime_secs)
        ));
    }
    match (was.session_idle_timeout_secs, is.session_idle_timeout_secs) {
        (Some(from), None) => notes.add(format!(
            "Idle sessions no longer end after {}: an unattended device stays signed in until \
             the session's lifetime ends.",
            duration(from)
        )),
        (None, Some(to)) => notes.add(format!(
            "Sessions end after {} without use: an unattended device is signed out sooner.",
            duration(to)
        )),
        (Some(from), Some(to)) if to > from => notes.add(format!(
            "The idle session timeout is lengthened from {} to {}: an unattended device stays \
             signed in longer.",
            duration(from),
            duration(to)
        )),
        (Some(from), Some(to)) if to < from => notes.add(format!(
            "The idle session timeout is shortened from {} to {}.",
            duration(from),
            duration(to)
        )),
        _ => {}
    }
    if is.refresh_reuse_leeway_secs > was.refresh_reuse_leeway_secs {
        notes.add(format!(
            "A replayed refresh token is tolerated for {} after rotation: reuse detection \
             (which revokes a stolen token's whole family) reacts later.",
            duration(is.refresh_reuse_leeway_secs)
        ));
    }
    for (what, from, to) in [
        (
            "Email verification links",
            was.email_verification_ttl_secs,
            is.email_verification_ttl_secs,
        ),
        (
            "Password reset links",
            was.password_reset_ttl_secs,
            is.password_reset_ttl_secs,
        ),
    ] {
        if to > from {
            notes.add(format!(
                "{what} stay valid {} instead of {}: a leaked link can be used for longer.",
                duration(to),
                duration(from)
            ));
        }
    }
}

fn rate_limits(notes: &mut Notes, before: &InstanceConfig, after: &InstanceConfig) {
    let (was, is) = (&before.rate_limits, &after.rate_limits);
    for (what, from, to, risk) in [
        (
            "Failed logins per IP address",
            &was.failed_logins_per_ip,
            &is.failed_logins_per_ip,
            "password guessing from one address",
        ),
        (
            "Failed logins per account",
            &was.failed_logins_per_account,
            &is.failed_logins_per_account,
            "password guessing against one account",
        ),
        (
            "Signups per IP address",
            &was.signups_per_ip,
            &is.signups_per_ip,
            "mass signups by bots",
        ),
        (
            "Emails per address",
            &was.mails_per_address,
            &is.mails_per_address,
            "mail bombing a user's inbox",
        ),
        (
            "Reset and verification requests per IP address",
            &was.link_requests_per_ip,
            &is.link_requests_per_ip,
            "mail bombing and probing many addresses from one address",
        ),
    ] {
        // A bigger burst (max) or a higher rate (max per window) lets more attempts through.
        let rate = (u128::from(to.max) * u128::from(from.window_secs))
            .cmp(&(u128::from(from.max) * u128::from(to.window_secs)));
        if to.max > from.max || rate.is_gt() {
            notes.add(format!(
                "{what} are loosened from {} to {}: more room for {risk}.",
                limit(from),
                limit(to)
            ));
        } else if to.max < from.max || rate.is_lt() {
            notes.add(format!(
                "{what} are tightened from {} to {}: legitimate users who hit the limit wait \
                 longer.",
                limit(from),
                limit(to)
            ));
        }
    }
}

fn organizations(notes: &mut Notes, before: &InstanceConfig, after: &InstanceConfig) {
    let (was, is) = (&before.organizations, &after.organizations);
    if !was.custom_roles && is.custom_roles {
        notes.add(
            "Organization admins may define their own roles: review which of your permissions \
             such roles can combine.",
        );
    }
    for (role, from, to) in [
        ("admin", &was.role_grants.admin, &is.role_grants.admin),
        ("member", &was.role_grants.member, &is.role_grants.member),
        ("viewer", &was.role_grants.viewer, &is.role_grants.viewer),
    ] {
        let added: Vec<&String> = to.iter().filter(|p| !from.contains(p)).collect();
        if !added.is_empty() {
            notes.add(format!(
                "Every organization's {role}s gain {}: they can do more than before.",
                list(&added)
            ));
        }
    }
    if is.invitation_ttl_secs > was.invitation_ttl_secs {
        notes.add(format!(
            "Invitations stay valid {} instead of {}: a forwarded or leaked invitation link can \
             be used for longer.",
            duration(is.invitation_ttl_secs),
            duration(was.invitation_ttl_secs)
        ));
    }
}

fn network(notes: &mut Notes, before: &InstanceConfig, after: &InstanceConfig) {
    let (was, is) = (&before.security, &after.security);
    let added = |from: &[String], to: &[String]| -> Vec<String> {
        to.iter().filter(|x| !from.contains(x)).cloned().collect()
    };
    let origins = added(&was.allowed_origins, &is.allowed_origins);
    if !origins.is_empty() {
        notes.add(format!(
            "Browsers on {} may call the instance: a cross-site scripting flaw there can act for \
             your signed-in users.",
            list(&origins)
        ));
    }
    let redirects = added(&was.redirect_uris, &is.redirect_uris);
    if !redirects.is_empty() {
        notes.add(format!(
            "Sign-in may send users and their codes back to {}: make sure you control every one \
             of these addresses.",
            list(&redirects)
        ));
    }
    let (from, to) = (&was.admin_ip_allowlist, &is.admin_ip_allowlist);
    if !from.is_empty() && to.is_empty() {
        notes.add(
            "The admin IP allowlist is removed: the admin API and organization administration \
             answer clients from any network again.",
        );
    } else if from.is_empty() && !to.is_empty() {
        notes.add(format!(
            "Admin access is restricted to {}: the admin API, secret keys and organization \
             administration answer nowhere else; make sure your own address is inside, or you \
             lock yourself out.",
            list(to)
        ));
    } else {
        let widened = added(from, to);
        if !widened.is_empty() {
            notes.add(format!(
                "The admin IP allowlist is widened by {}.",
                list(&widened)
            ));
        }
        let narrowed = added(to, from);
        if !narrowed.is_empty() {
            notes.add(format!(
                "The admin IP allowlist no longer includes {}: admins there lose access.",
                list(&narrowed)
            ));
        }
    }
}

fn webhooks(notes: &mut Notes, before: &InstanceConfig, after: &InstanceConfig) {
    for hook in &after.webhooks {
        match before.webhooks.iter().find(|old| old.url == hook.url) {
            None => notes.add(format!(
                "Events ({}) leave the instance for {}: that endpoint learns who signs in and \
                 when; it must use https and check the signature of every request.",
                list(&hook.events),
                hook.url
            )),
            Some(old) => {
                let added: Vec<&String> = hook
                    .events
                    .iter()
                    .filter(|e| !old.events.contains(e))
                    .collect();
                if !added.is_empty() {
                    notes.add(format!(
                        "The webhook {} also receives {}: more data leaves the instance.",
                        hook.url,
                        list(&added)
                    ));
                }
            }
        }
    }
}

fn elsewhere(notes: &mut Notes, before: &InstanceConfig, after: &InstanceConfig) {
    if after.mail.link_base_url != before.mail.link_base_url
        && let Some(url) = &after.mail.link_base_url
    {
        notes.add(format!(
            "Emailed links (email verification, password reset, magic links) now point to {url}: \
             their one-time tokens go there, so it must be your application."
        ));
    }
    if after.mail.from != before.mail.from {
        notes.add(format!(
            "Emails are sent as {}: make sure the domain's SPF and DKIM allow it, or users' mail \
             providers may flag them as phishing.",
            after.mail.from
        ));
    }
    if after.audit.retention_days < before.audit.retention_days {
        notes.add(format!(
            "Audit events are kept {} days instead of {}: evidence for investigating an incident \
             disappears sooner.",
            after.audit.retention_days, before.audit.retention_days
        ));
    }
    if after.branding.logo_url != before.branding.logo_url
        && let Some(url) = &after.branding.logo_url
    {
        notes.add(format!(
            "The logo is loaded from {url} on every sign-in page: that host sees your users' \
             visits and can change what the logo shows."
        ));
    }
}

fn limit(limit: &Limit) -> String {
    format!("{} per {}", limit.max, duration(limit.window_secs))
}

/// `90` → "90 seconds", `900` → "15 minutes", `7200` → "2 hours", `86400` → "1 day".
pub(crate) fn duration(secs: u64) -> String {
    let (count, unit) = if secs >= 86_400 && secs.is_multiple_of(86_400) {
        (secs / 86_400, "day")
    } else if secs >= 3600 && secs.is_multiple_of(3600) {
        (secs / 3600, "hour")
    } else if secs >= 60 && secs.is_multiple_of(60) {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    if count == 1 {
        format!("1 {unit}")
    } else {
        format!("{count} {unit}s")
    }
}

fn list<T: AsRef<str>>(items: &[T]) -> String {
    items
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ")
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
