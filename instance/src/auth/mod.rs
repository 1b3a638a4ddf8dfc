//! Signing up, logging in and out, refreshing, revoking, and the emailed flows (verification,
//! password reset). Responses to signup, login, forgot-password and resend never reveal whether
//! an address has an account.

pub mod routes;

use secrecy::ExposeSecret;

use crate::AppState;
use crate::mail::{self, Email};
use crate::tokens::emailed::{self, Purpose};
use crate::users::User;

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

/// Sends `email` unless its address has reached the mail limit. Runs detached from the request
/// so that the response time does not depend on whether a mail was sent.
pub(crate) fn deliver(
    app: &AppState,
    build: impl FnOnce(&AppState) -> Option<Email> + Send + 'static,
) {
    let app = app.clone();
    tokio::spawn(async move {
        let Some(email) = build(&app) else { return };
        let limit = app.config.load().rate_limits.mails_per_address;
        if app
            .limits
            .hit(&format!("mail:{}", email.to.to_lowercase()), limit)
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

/// Creates an emailed token for `user` and mails its link, in the background.
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
        let token =
            match emailed::create(&app.db, purpose, &user_id, &to, app.clock.now(), ttl).await {
                Ok(token) => token,
                Err(err) => {
                    tracing::error!(error = %err, "storing an emailed token failed");
                    return;
                }
            };
        let url = link(&app, path, token.expose_secret());
        let product = config.mail.product_name.clone();
        deliver(&app, move |_| {
            Some(match kind {
                TokenMail::VerifyEmail => mail::verify_email(&product, &to, &url),
                TokenMail::PasswordReset => mail::password_reset(&product, &to, &url),
                TokenMail::AccountExists => mail::account_exists(&product, &to, &url),
            })
        });
    });
}
