//! Signing up, logging in and out, refreshing, revoking, and the emailed flows (verification,
//! password reset). Responses to signup, login, forgot-password and resend never reveal whether
//! an address has an account.

pub mod routes;

use secrecy::{ExposeSecret, SecretString};

use crate::AppState;
use crate::audit::{self, AuditEvent};
use crate::error::{Error, Result};
use crate::http::Client;
use crate::mail::{self, Email};
use crate::sessions;
use crate::tokens::emailed::{self, Purpose};
use crate::users::{EmailAddress, User, store as users};

/// Redeems an email-verification token: the address is verified. Returns the user (banned
/// users are verified but get `UserBanned`, so that no session starts for them).
pub async fn verify_email(app: &AppState, token: &str, client: &Client) -> Result<User> {
    const INVALID: Error = Error::InvalidGrant("the verification link is invalid, used or expired");
    let now = app.clock.now();
    let mut tx = app.db.writer.begin().await?;
    let redeemed = emailed::redeem(&mut *tx, Purpose::EmailVerification, token, now)
        .await?
        .ok_or(INVALID)?;
    if !users::mark_email_verified(&mut *tx, &redeemed.user_id, &redeemed.email, now).await? {
        return Err(INVALID);
    }
    tx.commit().await?;
    let user = users::find(&app.db, &redeemed.user_id)
        .await?
        .ok_or(INVALID)?;
    audit::record(
        &app.db,
        now,
        AuditEvent::new("auth.email_verified")
            .actor(&user.id)
            .target(&user.id)
            .client(client),
    )
    .await?;
    if user.is_banned(now) {
        return Err(Error::UserBanned);
    }
    Ok(user)
}

/// Sets a new password with a reset token; ends every session of the user.
pub async fn reset_password(
    app: &AppState,
    token: &str,
    password: &SecretString,
    client: &Client,
) -> Result<()> {
    let config = app.config.load_full();
    app.passwords
        .check_policy(&config.passwords, password, None)?;
    let hash = app.passwords.hash(password).await?;
    let now = app.clock.now();
    let mut tx = app.db.writer.begin().await?;
    let Some(redeemed) = emailed::redeem(&mut *tx, Purpose::PasswordReset, token, now).await?
    else {
        return Err(Error::InvalidGrant(
            "the reset link is invalid, used or expired",
        ));
    };
    users::set_password_hash(&mut *tx, &redeemed.user_id, &hash, now).await?;
    emailed::revoke_all(&mut *tx, Purpose::PasswordReset, &redeemed.user_id, now).await?;
    // The link reached the mailbox, which proves the address.
    users::mark_email_verified(&mut *tx, &redeemed.user_id, &redeemed.email, now).await?;
    tx.commit().await?;
    sessions::revoke_all_for_user(&app.db, &redeemed.user_id, None, "password_reset", now).await?;
    audit::record(
        &app.db,
        now,
        AuditEvent::new("auth.password_reset")
            .actor(&redeemed.user_id)
            .target(&redeemed.user_id)
            .client(client),
    )
    .await?;
    Ok(())
}

/// The link a mailed token is used through, on the customer's application.
pub(crate) fn link(app: &AppState, path: &str, token: &str) -> String {
    let config = app.config.load();
    let base = config
        .mail
        .link_base_url
        .as_deref()
        .unwrap_or(&app.issuer)
        .trim_end_matches('/');
    format!("{base}/{path}?token={token}")
}

/// Mails `to` the message `build` makes for its address, unless the address (by canonical form)
/// has reached the mail limit. Runs detached from the request so that the response time does
/// not depend on whether a mail was sent.
///
/// Mail goes to the canonical form, the one address every spelling of it stands for: whoever
/// signs up with a look-alike spelling (`\u{212a}ate@` for `kate@`) cannot have mail for the
/// account sent to their spelling.
pub(crate) fn deliver(
    app: &AppState,
    to: &EmailAddress,
    build: impl FnOnce(&str) -> Email + Send + 'static,
) {
    let app = app.clone();
    let to = to.clone();
    tokio::spawn(async move {
        let email = build(to.canonical());
        let limit = app.config.load().rate_limits.mails_per_address;
        if app
            .limits
            .hit(&format!("mail:{}", to.canonical()), limit)
            .is_err()
        {
            tracing::warn!(
                kind = email.kind,
                "mail limit reached for address; not sent"
            );
            return;
        }
        if let Err(err) = app.mailer.send(&email).await {
            tracing::error!(kind = email.kind, error = %format!("{err:#}"), "mail delivery failed");
        }
    });
}

/// The mails that carry a single-use token.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TokenMail {
    VerifyEmail,
    PasswordReset,
    /// A signup hit an existing account: tell the owner, with a reset link.
    AccountExists,
}

/// Creates an emailed token for `user` and mails its link to the address stored on the account
/// (never one a requester typed), in the background.
pub(crate) fn send_token_mail(app: &AppState, user: &User, kind: TokenMail) {
    let app = app.clone();
    let (user_id, to) = (user.id.clone(), user.email.clone());
    tokio::spawn(async move {
        let config = app.config.load_full();
        let (purpose, ttl, path) = match kind {
            TokenMail::VerifyEmail => (
                Purpose::EmailVerification,
                config.tokens.email_verification_ttl_secs,
                "verify-email",
            ),
            TokenMail::PasswordReset | TokenMail::AccountExists => (
                Purpose::PasswordReset,
                config.tokens.password_reset_ttl_secs,
                "reset-password",
            ),
        };
        let now = app.clock.now();
        let token =
            match emailed::create(&app.db, purpose, &user_id, to.canonical(), now, ttl).await {
                Ok(token) => token,
                Err(err) => {
                    tracing::error!(error = %err, "storing an emailed token failed");
                    return;
                }
            };
        let url = link(&app, path, token.expose_secret());
        let product = config.mail.product_name.clone();
        deliver(&app, &to, move |to| match kind {
            TokenMail::VerifyEmail => mail::verify_email(&product, to, &url),
            TokenMail::PasswordReset => mail::password_reset(&product, to, &url),
            TokenMail::AccountExists => mail::account_exists(&product, to, &url),
        });
    });
}
