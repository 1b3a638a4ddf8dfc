//! Signing in with email and password: the steps the JSON login (`POST /v1/auth/login`) and the
//! hosted sign-in page share, so that both count failed attempts, answer unknown addresses and
//! wrong passwords alike, and refuse banned or unverified accounts in the same way.

use secrecy::SecretString;

use crate::AppState;
use crate::audit::{self, AuditEvent};
use crate::error::{Error, Result};
use crate::http::Client;
use crate::passwords::Verdict;
use crate::users::{EmailAddress, User, store as users};

fn account_key(email: &EmailAddress) -> String {
    format!("login:account:{}", email.canonical())
}

/// Checks `password` for the account of `email`. An unknown address and a wrong password both
/// get `InvalidCredentials` after the same work; the attempt counts against the IP's and the
/// account's failed-login limits unless the password was right. A banned account is refused
/// only after its password was given.
pub async fn verify(
    app: &AppState,
    email: &EmailAddress,
    password: &SecretString,
    client: &Client,
) -> Result<User> {
    let config = app.config.load_full();
    let ip_key = format!("login:ip:{}", client.ip_key());
    let account_key = account_key(email);
    let limits = &config.rate_limits;
    // Counted before the password is verified: a burst of parallel guesses cannot all be
    // verified while none is counted yet. A successful login releases its attempt.
    let attempt = app
        .limits
        .reserve(&[
            (&ip_key, limits.failed_logins_per_ip),
            (&account_key, limits.failed_logins_per_account),
        ])
        .await?;

    let user = users::find_by_email(&app.db, email).await?;
    let verdict = app
        .passwords
        .verify(
            password,
            user.as_ref().and_then(|u| u.password_hash.as_deref()),
        )
        .await?;
    let now = app.clock.now();
    let user = match (user, verdict) {
        (Some(user), Verdict::Match | Verdict::MatchNeedsRehash) => {
            if verdict == Verdict::MatchNeedsRehash {
                let hash = app.passwords.hash(password).await?;
                users::set_password_hash(&app.db.writer, &user.id, &hash, now).await?;
            }
            user
        }
        (user, _) => {
            // The reserved attempt stays counted: it is the failure.
            drop(attempt);
            metrics::counter!("authstack_logins_total", "outcome" => "invalid_credentials")
                .increment(1);
            let mut event = AuditEvent::new("auth.login_failed")
                .client(client)
                .data(serde_json::json!({ "email": email.as_str() }));
            if let Some(user) = &user {
                event = event.target(&user.id);
            }
            audit::record(app, now, event).await?;
            return Err(Error::InvalidCredentials);
        }
    };
    // The password was right: not a guess to count.
    app.limits.release(attempt).await;
    if user.is_banned(now) {
        metrics::counter!("authstack_logins_total", "outcome" => "user_banned").increment(1);
        audit::record(
            app,
            now,
            AuditEvent::new("auth.login_blocked")
                .actor(&user.id)
                .target(&user.id)
                .client(client),
        )
        .await?;
        return Err(Error::UserBanned);
    }
    Ok(user)
}

/// Refuses an account whose address is not verified when the instance requires verification.
pub fn ensure_email_verified(app: &AppState, user: &User) -> Result<()> {
    if app.config.load().auth.require_email_verification && !user.email_verified() {
        metrics::counter!("authstack_logins_total", "outcome" => "email_not_verified").increment(1);
        return Err(Error::EmailNotVerified);
    }
    Ok(())
}

/// Records a completed password sign-in: the account's failed attempts are forgotten.
pub async fn succeeded(app: &AppState, user: &User, client: &Client) -> Result<()> {
    app.limits.clear(&account_key(&user.email)).await?;
    metrics::counter!("authstack_logins_total", "outcome" => "success").increment(1);
    audit::record(
        app,
        app.clock.now(),
        AuditEvent::new("auth.login_succeeded")
            .actor(&user.id)
            .target(&user.id)
            .client(client),
    )
    .await
}
