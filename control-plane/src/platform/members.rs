//! Who is a member of an account's organization now, asked of the platform instance with the
//! caller's own token (so only a caller allowed to list members learns them).

use std::collections::HashSet;
use std::time::Duration;

use secrecy::ExposeSecret;
use serde::Deserialize;

use super::{Caller, Platform};
use crate::error::{Error, Result};

/// Members are read in pages of this size, up to [`MAX_PAGES`].
const PAGE: usize = 200;
const MAX_PAGES: usize = 50;

#[derive(Deserialize)]
struct Page {
    data: Vec<Member>,
    next_cursor: Option<String>,
}

#[derive(Deserialize)]
struct Member {
    user: User,
}

#[derive(Deserialize)]
struct User {
    id: String,
}

impl Platform {
    /// The user ids of the organization's members; `None` when the caller may not list them
    /// (no `members:read`) or there are more than this reads.
    pub async fn member_ids(
        &self,
        http: &reqwest::Client,
        caller: &Caller,
        organization_id: &str,
    ) -> Result<Option<HashSet<String>>> {
        let mut members = HashSet::new();
        let mut cursor: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut request = self
                .request(
                    http,
                    reqwest::Method::GET,
                    &format!("/v1/organizations/{organization_id}/members"),
                )
                .bearer_auth(caller.token.expose_secret())
                .query(&[("limit", PAGE.to_string())])
                .timeout(Duration::from_secs(5));
            if let Some(cursor) = &cursor {
                request = request.query(&[("cursor", cursor)]);
            }
            let response = request.send().await.map_err(|err| {
                tracing::warn!(error = %err, "the platform instance is unreachable");
                Error::InstanceUnavailable
            })?;
            match response.status() {
                reqwest::StatusCode::FORBIDDEN => return Ok(None),
                status if !status.is_success() => {
                    tracing::warn!(%status, "the platform instance refused to list members");
                    return Err(Error::InstanceUnavailable);
                }
                _ => {}
            }
            let page: Page = response.json().await.map_err(|err| {
                tracing::warn!(error = %err, "the platform instance's member list did not parse");
                Error::InstanceUnavailable
            })?;
            members.extend(page.data.into_iter().map(|m| m.user.id));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(Some(members)),
            }
        }
        Ok(None)
    }
}
