//! The dev mailbox: under `authstack dev`, where instances deliver mail to outbox files, the
//! messages of the platform instance and of every local instance, newest first, so that a
//! developer can open verification, reset and invitation links in a browser.
//!
//! It needs no sign-in (the verification mail is read before the first sign-in) and exists
//! only when the control plane runs as `authstack dev`, on loopback, for one developer: it
//! shows everyone's mail on this machine, which is what that developer's outboxes hold anyway.

use std::path::{Path, PathBuf};

use axum::extract::State;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorBody, Result};
use crate::ids::{AccountId, InstanceId};
use crate::instances::State as InstanceState;
use crate::{AppState, accounts, instances};

/// At most this many messages a mailbox (the newest).
const MESSAGES_PER_MAILBOX: usize = 50;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Mailboxes {
    pub mailboxes: Vec<Mailbox>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Mailbox {
    pub instance_id: InstanceId,
    pub label: String,
    #[schema(required = true)]
    pub account_id: Option<AccountId>,
    #[schema(required = true, value_type = Option<crate::provisioner::Environment>)]
    pub environment: Option<String>,
    /// The outbox directory on the machine that runs `authstack dev`.
    pub outbox: String,
    pub messages: Vec<Message>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = MailMessage)]
pub struct Message {
    /// The outbox file's name.
    pub id: String,
    pub kind: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    #[schema(required = true)]
    pub link: Option<String>,
    #[schema(format = DateTime)]
    pub received_at: String,
}

/// What an instance wrote to its outbox (`authstack_instance::mail::Email`).
#[derive(Deserialize)]
struct Written {
    kind: String,
    to: String,
    subject: String,
    text: String,
    link: Option<String>,
}

/// `GET /v1/dev/mailbox`: under `authstack dev` only (404 otherwise); no sign-in.
#[utoipa::path(get, path = "/v1/dev/mailbox", tag = "dev",
    responses((status = 200, body = Mailboxes),
        (status = 404, description = "Not `authstack dev` (`not_found`).", body = ErrorBody)))]
pub async fn list(State(app): State<AppState>) -> Result<axum::Json<Mailboxes>> {
    if !app.config.dev_mailbox {
        return Err(Error::NotFound("route"));
    }
    let instances_dir = app.config.data_dir.join("instances");
    let mut mailboxes = Vec::new();
    for instance in instances::all(&app.db).await? {
        if instance.state == InstanceState::Deleted {
            continue;
        }
        let (label, environment) = match &instance.account_id {
            None => ("Platform (dashboard sign-in)".to_owned(), None),
            Some(account_id) => {
                let name = accounts::find(&app.db, account_id)
                    .await?
                    .map_or_else(|| account_id.to_string(), |a| a.name);
                let environment = instance.environment.to_string();
                (format!("{name} — {environment}"), Some(environment))
            }
        };
        let outbox = outbox_of(&instances_dir, &instance.id);
        let messages = read(&outbox).await;
        mailboxes.push(Mailbox {
            label,
            account_id: instance.account_id.clone(),
            environment,
            outbox: outbox.display().to_string(),
            messages,
            instance_id: instance.id,
        });
    }
    // The platform's first: it holds the dashboard's own sign-up mail.
    mailboxes.sort_by_key(|m| m.account_id.is_some());
    Ok(axum::Json(Mailboxes { mailboxes }))
}

/// Where the local provisioner's instance `id` writes its mail.
pub fn outbox_of(instances_dir: &Path, id: &str) -> PathBuf {
    let dir = std::path::absolute(instances_dir).unwrap_or_else(|_| instances_dir.to_owned());
    dir.join(id).join("data").join("outbox")
}

/// The newest messages of an outbox; unreadable files are skipped.
async fn read(outbox: &Path) -> Vec<Message> {
    let Ok(mut entries) = tokio::fs::read_dir(outbox).await else {
        return Vec::new();
    };
    let mut names = Vec::new();
    while let Ok(Some(entry)) = entries.next_entry().await {
        if let Some(name) = entry.file_name().to_str()
            && name.ends_with(".json")
        {
            names.push(name.to_owned());
        }
    }
    // File names start with the milliseconds of writing.
    names.sort_by_key(|name| std::cmp::Reverse(sent_at_ms(name)));
    names.truncate(MESSAGES_PER_MAILBOX);
    let mut messages = Vec::with_capacity(names.len());
    for name in names {
        let Ok(bytes) = tokio::fs::read(outbox.join(&name)).await else {
            continue;
        };
        let Ok(written) = serde_json::from_slice::<Written>(&bytes) else {
            continue;
        };
        messages.push(Message {
            received_at: authstack_instance::clock::rfc3339(sent_at_ms(&name) / 1000),
            id: name,
            kind: written.kind,
            to: written.to,
            subject: written.subject,
            text: written.text,
            link: written.link,
        });
    }
    messages
}

fn sent_at_ms(name: &str) -> i64 {
    name.split('-')
        .next()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(0)
}

/// This module's routes.
pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(list))
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_carry_the_time_of_writing() {
        assert_eq!(
            super::sent_at_ms("1764583200123-0199abc.json"),
            1_764_583_200_123
        );
        assert_eq!(super::sent_at_ms("junk.json"), 0);
    }
}
