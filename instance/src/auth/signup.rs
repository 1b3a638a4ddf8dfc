//! Creating an account with email and password: the one implementation behind `POST
//! /v1/auth/signup` and the hosted sign-up page. With email verification required (the
//! default) a taken address is answered exactly like a new one — its owner gets a mail
//! instead — so that sign-up never tells whether an address has an account.

use secrecy::SecretString;

use super::{MailBudget, TokenMail, send_token_mail};
use crate::AppState;
use crate::audit::{self, AuditEvent};
use crate::config::{FieldRule, InstanceConfig};
use crate::error::{Error, Result};
use crate::http::Client;
use crate::users::{EmailAddress, User, new_user_id, parse_name, store as users};

/// What a new user submits.
pub struct SignUp {
    pub email: String,
    pub password: SecretString,
    pub name: Option<String>,
    pub phone: Option<String>,
}

impl std::fmt::Debug for SignUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignUp").finish_non_exhaustive()
    }
}

/// How a sign-up ended.
#[derive(Debug)]
pub enum SignedUp {
    /// The account exists and may sign in now (email verification is not required).
    Created(Box<User>),
    /// A mail is on its way: the verification link for a new account, or an "account exists"
    /// mail to the owner of a taken address. Both look the same to the requester.
    VerificationPending { email: EmailAddress },
}

/// Whether new users may sign up on this instance (sign-up on and the password method on).
pub fn available(config: &InstanceConfig) -> bool {
    config.auth.signup.enabled && config.auth.methods.password
}

/// Creates the account `request` describes, under the instance's sign-up rules (fields, the
/// password policy, the per-IP limit). A taken address is `Conflict` only when email
/// verification is off (the JSON API's documented answer).
pub async fn sign_up(app: &AppState, request: &SignUp, client: &Client) -> Result<SignedUp> {
    let config = app.config.load_full();
    let signup = &config.auth.signup;
    if !signup.enabled {
        return Err(Error::Refused(
            "signup_disabled",
            "sign-up is closed; ask for an invitation".into(),
        ));
    }
    super::ensure_password_method(&config)?;
    let email = EmailAddress::parse(&request.email)?;
    let name = request.name.as_deref().map(parse_name).transpose()?;
    let phone = field("phone", signup.fields.phone, request.phone.as_deref())?
        .map(parse_phone)
        .transpose()?;
    field("name", signup.fields.name, name.as_deref())?;
    app.passwords
        .check_policy(&config.passwords, &request.password, Some(email.as_str()))?;
    app.limits
        .hit(
            &format!("signup:ip:{}", client.ip_key()),
            config.rate_limits.signups_per_ip,
        )
        .await?;
    // Hashing happens for taken addresses too, so both paths cost the same.
    let hash = app.passwords.hash(&request.password).await?;
    let now = app.clock.now();
    let user = User {
        id: new_user_id(),
        email: email.clone(),
        email_verified_at: None,
        name,
        password_hash: Some(hash),
        metadata: match phone {
            Some(phone) => serde_json::json!({ "phone": phone }),
            None => serde_json::json!({}),
        },
        banned_until: None,
        ban_reason: None,
        external_id: None,
        created_at: now,
        updated_at: now,
        last_login_at: None,
    };
    let created = users::insert(&app.db.writer, &user).await?;
    if created {
        audit::record(
            app,
            now,
            AuditEvent::new("auth.signup")
                .actor(&user.id)
                .target(&user.id)
                .client(client),
        )
        .await?;
        send_token_mail(app, &user, TokenMail::VerifyEmail, MailBudget::TakeOnSend);
    }
    if config.auth.require_email_verification {
        if !created && let Some(existing) = users::find_by_email(&app.db, &email).await? {
            send_token_mail(
                app,
                &existing,
                TokenMail::AccountExists,
                MailBudget::TakeOnSend,
            );
        }
        return Ok(SignedUp::VerificationPending { email });
    }
    if !created {
        return Err(Error::Conflict(
            "an account with this email already exists".into(),
        ));
    }
    Ok(SignedUp::Created(Box::new(user)))
}

/// Applies a sign-up field's rule: a required field must be present, an unasked one absent.
fn field<'a>(name: &str, rule: FieldRule, value: Option<&'a str>) -> Result<Option<&'a str>> {
    let value = value.map(str::trim).filter(|v| !v.is_empty());
    match (rule, value) {
        (FieldRule::Required, None) => Err(Error::InvalidRequest(format!("{name} is required"))),
        (FieldRule::Off, Some(_)) => Err(Error::InvalidRequest(format!(
            "{name} is not asked for at sign-up"
        ))),
        (_, value) => Ok(value),
    }
}

/// E.164: `+`, then 8 to 15 digits (spaces, dashes and parentheses are dropped).
fn parse_phone(raw: &str) -> Result<String> {
    let digits: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
        .collect();
    let valid = digits.strip_prefix('+').is_some_and(|rest| {
        (8..=15).contains(&rest.len())
            && rest.bytes().all(|b| b.is_ascii_digit())
            && !rest.starts_with('0')
    });
    if valid {
        Ok(digits)
    } else {
        Err(Error::InvalidRequest(
            "phone must be an international number like +4915112345678".into(),
        ))
    }
}
