//! OpenID Connect Back-Channel Logout 1.0, the OP's side: a logout token (a JWT signed with the
//! instance's key, header `typ: logout+jwt`; `iss`, `aud` = the application, `iat`, `exp` two
//! minutes on, `jti`, `sub`, `sid` = the sign-in the ID tokens named, and the back-channel
//! logout event; never a `nonce`) POSTed as `logout_token` to each application's
//! `backchannel_logout_uri`.
//!
//! Delivery runs after the revocation committed, off the request: the user's sign-out does not
//! wait for the applications' servers. Each is tried three times (at once, after 1 s, after
//! 3 s) with a 5-second timeout through the instance's [`crate::outbound`] client (no
//! redirects, no loopback or private addresses outside dev); a failure is logged with the
//! application and the HTTP status, never the token. Delivery is not durable: an instance
//! restarted between a sign-out and its delivery does not send it (the application's refresh
//! token is revoked all the same, so its session ends at its next refresh).

use std::time::Duration;

use serde::Serialize;

use super::grants_of_ended_sign_ins;
use crate::App;
use crate::applications;
use crate::outbound;
use crate::sessions::Ended;

/// The event that makes a JWT a logout token (§2.4).
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
const LIFETIME_SECS: i64 = 120;
const TIMEOUT: Duration = Duration::from_secs(5);
const ATTEMPTS: [Duration; 3] = [
    Duration::ZERO,
    Duration::from_secs(1),
    Duration::from_secs(2),
];

#[derive(Serialize)]
struct LogoutToken {
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
    jti: String,
    sub: String,
    sid: String,
    events: serde_json::Value,
}

/// Tells every application with a back-channel logout URI that held a grant under a sign-in
/// `ended` holds; the deliveries run in the background.
pub async fn notify(app: &App, ended: &[Ended]) {
    for (client_id, sid, sub) in grants_of_ended_sign_ins(ended) {
        let application = match applications::store::find(&app.db, &client_id).await {
            Ok(Some(application)) => application,
            Ok(None) => continue,
            Err(error) => {
                tracing::warn!(client_id, %error, "back-channel logout: application lookup failed");
                continue;
            }
        };
        let Some(uri) = application.backchannel_logout_uri else {
            continue;
        };
        let now = app.clock.now();
        let claims = LogoutToken {
            iss: app.issuer.trim_end_matches('/').to_owned(),
            aud: client_id.clone(),
            iat: now,
            exp: now + LIFETIME_SECS,
            jti: uuid::Uuid::now_v7().simple().to_string(),
            sub,
            sid,
            events: serde_json::json!({ EVENT: {} }),
        };
        let token = match app.keys.sign_typed(&claims, "logout+jwt") {
            Ok(token) => token,
            Err(error) => {
                tracing::warn!(client_id, %error, "back-channel logout: signing failed");
                continue;
            }
        };
        let client = app.outbound.clone();
        let allow_private = app.allow_private_webhooks;
        tokio::spawn(deliver(client, allow_private, client_id, uri, token));
    }
}

async fn deliver(
    client: reqwest::Client,
    allow_private: bool,
    client_id: String,
    uri: String,
    token: String,
) {
    let refused = reqwest::Url::parse(&uri)
        .map_err(|_| "the URI does not parse".to_owned())
        .and_then(|url| match outbound::refused_literal(&url, allow_private) {
            Some(reason) => Err(reason),
            None => Ok(()),
        });
    if let Err(reason) = refused {
        tracing::warn!(client_id, failure = reason, "back-channel logout not sent");
        return;
    }
    let mut last = String::new();
    for wait in ATTEMPTS {
        tokio::time::sleep(wait).await;
        let sent = client
            .post(&uri)
            .timeout(TIMEOUT)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("logout_token={token}"))
            .send()
            .await;
        match sent {
            // §2.8: 200 (or 204) is success; anything else is a failure to retry.
            Ok(response) if response.status().is_success() => return,
            Ok(response) => last = format!("status {}", response.status().as_u16()),
            Err(error) => last = outbound::failure(&error),
        }
    }
    tracing::warn!(
        client_id,
        failure = last,
        "back-channel logout not delivered"
    );
}
