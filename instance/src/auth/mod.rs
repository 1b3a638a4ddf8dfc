//! Signing up, logging in and out, refreshing, revoking, and the emailed flows (verification,
//! password reset). Responses to signup, login, forgot-password and resend never reveal whether
//! an address has an account.

pub mod password;
pub mod routes;
pub mod signup;

use secrecy::{ExposeSecret, SecretString};

use crate::AppState;
use crate::audit::{self, AuditEvent};
use crate::error::{Error, Result};
use crate::http::Client;
use crate::mail::{self, Email};
use crate::tokens::emailed::{self, Purpose};
use crate::users::{EmailAddress, User, store as users};

/// Redeems an email-verification token: the address is verified. Returns the user (banned
/// users are verified but get `UserBanned`, so that no session starts for them).
pub async fn verify_email(app: &AppState, token: &str, client: &Client) -> Result<User> {
    const INVALID: Error = Error::InvalidGrant("the verification link is invalid, used or expired");
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
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
        app,
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
    let mut tx = app.db.begin_write().await?;
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
    crate::logout::end_all_for_user(app, &redeemed.user_id, None, "password_reset", now).await?;
    audit::record(
        app,
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

/// Whether a mail's share of the per-address mail limit is taken when it is sent, or was taken
/// already (when the request came in, the same for every address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MailBudget {
    TakeOnSend,
    Taken,
}

/// Counts one mail to `to` (by canonical form) against the mail limit; false when it is reached.
async fn take_mail_budget(app: &AppState, to: &EmailAddress) -> bool {
    let limit = app.config.load().rate_limits.mails_per_address;
    match app
        .limits
        .hit(&format!("mail:{}", to.canonical()), limit)
        .await
    {
        Ok(()) => true,
        Err(Error::RateLimited { .. }) => {
            tracing::warn!("mail limit reached for address; not sent");
            false
        }
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "counting a mail against its limit failed; not sent");
            false
        }
    }
}

/// Mails `to` the message `build` makes for its address, unless the address has reached the
/// mail limit. Runs detached from the request.
///
/// Mail goes to the canonical form, the one address every spelling of it stands for: whoever
/// signs up with a look-alike spelling (`\u{212a}ate@` for `kate@`) cannot have mail for the
/// account sent to their spelling.
pub(crate) fn deliver(
    app: &AppState,
    to: &EmailAddress,
    budget: MailBudget,
    build: impl FnOnce(&str) -> Email + Send + 'static,
) {
    let app = app.clone();
    let to = to.clone();
    let email = build(to.canonical());
    tokio::spawn(async move {
        if budget == MailBudget::TakeOnSend && !take_mail_budget(&app, &to).await {
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
pub(crate) fn send_token_mail(app: &AppState, user: &User, kind: TokenMail, budget: MailBudget) {
    let app = app.clone();
    let (user_id, to) = (user.id.clone(), user.email.clone());
    tokio::spawn(async move {
        if budget == MailBudget::TakeOnSend && !take_mail_budget(&app, &to).await {
            return;
        }
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
        deliver(&app, &to, MailBudget::Taken, move |to| match kind {
            TokenMail::VerifyEmail => mail::verify_email(&product, to, &url),
            TokenMail::PasswordReset => mail::password_reset(&product, to, &url),
            TokenMail::AccountExists => mail::account_exists(&product, to, &url),
        });
    });
}

/// A mailed link asked for by address alone, with no sign-in.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LinkRequest {
    /// Forgot password: a reset link, unless the account is banned.
    PasswordReset,
    /// Resend verification: a verification link, unless the address is verified.
    Verification,
}

/// Queues the mail a link request asks for, so that the request is answered the same way, in
/// the same time, whether or not `email` has an account. Before the answer only the same steps
/// run for every address: the address was parsed, a task is spawned. That task counts one mail
/// against the address's limit, looks the account up, stores a token and mails it, and starts
/// only once the connection has taken `response`.
pub(crate) fn queue_link_mail(
    app: &AppState,
    email: EmailAddress,
    request: LinkRequest,
    response: &mut axum::response::Response,
) {
    let sent = crate::http::when_sent(response);
    let app = app.clone();
    tokio::spawn(async move {
        sent.await;
        // Counted for unknown addresses too: the limit cannot tell them apart.
        if !take_mail_budget(&app, &email).await {
            return;
        }
        let user = match users::find_by_email(&app.db, &email).await {
            Ok(Some(user)) => user,
            Ok(None) => return,
            Err(err) => {
                tracing::error!(error = %err, ?request, "mailed-link lookup failed");
                return;
            }
        };
        let kind = match request {
            LinkRequest::PasswordReset if !user.is_banned(app.clock.now()) => {
                TokenMail::PasswordReset
            }
            LinkRequest::Verification if !user.email_verified() => TokenMail::VerifyEmail,
            _ => return,
        };
        send_token_mail(&app, &user, kind, MailBudget::Taken);
    });
}

/// Counts a mailed-link request against its IP's limit: the same step for every address, so
/// neither the answer nor its time tells whether the address has an account.
pub(crate) async fn limit_link_requests(app: &AppState, client: &Client) -> Result<()> {
    let limit = app.config.load().rate_limits.link_requests_per_ip;
    app.limits
        .hit(&format!("link:ip:{}", client.ip_key()), limit)
        .await
}

/// Asks for a password-reset link for `email`: counted against the requester's IP, then
/// queued on `response` (see [`queue_link_mail`]), so that every address is answered alike.
pub async fn request_password_reset(
    app: &AppState,
    email: EmailAddress,
    client: &Client,
    response: &mut axum::response::Response,
) -> Result<()> {
    limit_link_requests(app, client).await?;
    queue_link_mail(app, email, LinkRequest::PasswordReset, response);
    Ok(())
}

pub(crate) fn ensure_password_method(config: &crate::config::InstanceConfig) -> Result<()> {
    if config.auth.methods.password {
        Ok(())
    } else {
        Err(Error::Refused(
            "method_disabled",
            "sign-in with a password is turned off for this application".into(),
        ))
    }
}
