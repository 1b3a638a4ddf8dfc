//! Outgoing mail. The embedded default writes each message as a JSON file to `DIR/outbox/`;
//! production sends over SMTP.

mod templates;

use std::path::PathBuf;

use anyhow::Context;
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

pub use templates::{account_exists, invitation, password_reset, verify_email, webhook_disabled};

/// A message ready to send. `link` is the action the message carries (also in the bodies).
#[derive(Clone, Serialize)]
pub struct Email {
    pub kind: &'static str,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub link: Option<String>,
}

impl std::fmt::Debug for Email {
    // The bodies and link carry single-use credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Email")
            .field("kind", &self.kind)
            .field("to", &self.to)
            .finish_non_exhaustive()
    }
}

pub enum Mailer {
    Outbox {
        dir: PathBuf,
    },
    Smtp {
        transport: AsyncSmtpTransport<Tokio1Executor>,
        from: Mailbox,
    },
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mailer::Outbox { dir } => f.debug_struct("Outbox").field("dir", dir).finish(),
            Mailer::Smtp { from, .. } => f
                .debug_struct("Smtp")
                .field("from", from)
                .finish_non_exhaustive(),
        }
    }
}

impl Mailer {
    /// SMTP when `smtp_url` is set, else the outbox under `data_dir`.
    pub fn new(
        smtp_url: Option<&SecretString>,
        from: &str,
        data_dir: &std::path::Path,
    ) -> anyhow::Result<Mailer> {
        match smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose_secret())
                    .context("AUTHSTACK_SMTP_URL is not a valid smtp:// or smtps:// URL")?
                    .build();
                let from = from.parse().context("mail.from is not a valid mailbox")?;
                Ok(Mailer::Smtp { transport, from })
            }
            None => {
                let dir = data_dir.join("outbox");
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                Ok(Mailer::Outbox { dir })
            }
        }
    }

    pub async fn send(&self, email: &Email) -> anyhow::Result<()> {
        match self {
            Mailer::Outbox { dir } => {
                let name = format!(
                    "{}-{}.json",
                    time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000,
                    uuid::Uuid::now_v7().simple()
                );
                let path = dir.join(name);
                tokio::fs::write(&path, serde_json::to_vec_pretty(email)?)
                    .await
                    .with_context(|| format!("writing {}", path.display()))?;
                tracing::info!(kind = email.kind, to = %email.to, file = %path.display(), "mail written to outbox");
            }
            Mailer::Smtp { transport, from } => {
                let message = Message::builder()
                    .from(from.clone())
                    .to(email.to.parse().context("recipient address")?)
                    .subject(&email.subject)
                    .multipart(MultiPart::alternative_plain_html(
                        email.text.clone(),
                        email.html.clone(),
                    ))
                    .context("building the message")?;
                transport.send(message).await.context("SMTP delivery")?;
                tracing::info!(kind = email.kind, to = %email.to, "mail sent");
            }
        }
        Ok(())
    }
}
