//! Notes on how people sign in: the methods offered, social providers, address verification
//! and open signup, multi-factor authentication and CAPTCHA.

use authstack_instance::config::{
    CaptchaProvider, FieldRule, InstanceConfig, MfaMethod, MfaMode, SocialProvider,
};

use super::{Notes, capitalized, list};

pub(super) fn sign_in_methods(notes: &mut Notes, before: &InstanceConfig, after: &InstanceConfig) {
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

pub(super) fn verification_and_signup(
    notes: &mut Notes,
    before: &InstanceConfig,
    after: &InstanceConfig,
) {
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

pub(super) fn mfa(notes: &mut Notes, before: &InstanceConfig, after: &InstanceConfig) {
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

pub(super) fn captcha(notes: &mut Notes, before: &InstanceConfig, after: &InstanceConfig) {
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
