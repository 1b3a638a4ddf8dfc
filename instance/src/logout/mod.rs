//! Ending sign-ins. A sign-in ends when the user signs out (the JSON API's logout, the hosted
//! RP-initiated logout), when one of their sessions or all of them are revoked (by the user, an
//! administrator, a ban, a password reset). Revoking it revokes every application's grant under
//! it, and each `web` application that registered a `backchannel_logout_uri` and held such a
//! grant is told, server to server, with a logout token (OpenID Connect Back-Channel Logout
//! 1.0, [`backchannel`]), so that a backend that keeps its own session (a BFF) ends it too.
//!
//! An application revoking its own grant (`/oauth2/revoke`) or a replayed code revoking what it
//! issued is not a sign-in ending: those go through [`crate::sessions::revoke_grant`] and tell
//! no one.

pub mod backchannel;

use crate::App;
use crate::clock::UnixTime;
use crate::error::Result;
use crate::sessions::{self, Ended};

/// Ends the session `id` (a sign-in, with its grants); false if it was not live.
pub async fn end(app: &App, id: &str, reason: &str, now: UnixTime) -> Result<bool> {
    let ended = sessions::revoke(&app.db, id, reason, now).await?;
    backchannel::notify(app, &ended).await;
    Ok(!ended.is_empty())
}

/// Ends every live session of `user_id` except `keep`; returns how many sign-ins ended.
pub async fn end_all_for_user(
    app: &App,
    user_id: &str,
    keep: Option<&str>,
    reason: &str,
    now: UnixTime,
) -> Result<u64> {
    let ended = sessions::revoke_all_for_user(&app.db, user_id, keep, reason, now).await?;
    backchannel::notify(app, &ended).await;
    Ok(ended.iter().filter(|e| e.parent_id.is_none()).count() as u64)
}

/// The grants to tell about: those whose sign-in ended in the same revocation, once per
/// application and sign-in.
fn grants_of_ended_sign_ins(ended: &[Ended]) -> Vec<(String, String, String)> {
    let mut out: Vec<(String, String, String)> = Vec::new();
    for grant in ended {
        let (Some(parent), Some(client)) = (&grant.parent_id, &grant.client_id) else {
            continue;
        };
        let sign_in_ended = ended
            .iter()
            .any(|e| e.parent_id.is_none() && &e.id == parent);
        let key = (client.clone(), parent.clone(), grant.user_id.clone());
        if sign_in_ended && !out.contains(&key) {
            out.push(key);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: &str, parent: Option<&str>, client: Option<&str>) -> Ended {
        Ended {
            id: id.into(),
            user_id: "usr_1".into(),
            parent_id: parent.map(Into::into),
            client_id: client.map(Into::into),
        }
    }

    #[test]
    fn only_grants_whose_sign_in_ended_are_told_once_per_application() {
        let ended = [
            session("ses_1", None, None),
            session("gr_1", Some("ses_1"), Some("app_a")),
            session("gr_2", Some("ses_1"), Some("app_a")),
            session("gr_3", Some("ses_1"), Some("app_b")),
            // A grant revoked alone (its sign-in lives on): nobody is told.
            session("gr_4", Some("ses_9"), Some("app_c")),
        ];
        let told = grants_of_ended_sign_ins(&ended);
        assert_eq!(
            told,
            vec![
                ("app_a".into(), "ses_1".into(), "usr_1".into()),
                ("app_b".into(), "ses_1".into(), "usr_1".into()),
            ]
        );
        assert!(grants_of_ended_sign_ins(&ended[4..]).is_empty());
    }
}
