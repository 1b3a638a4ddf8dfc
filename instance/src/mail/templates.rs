//! The messages an instance sends. Plain text and a minimal, escaped HTML alternative.

use super::Email;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn build(
    kind: &'static str,
    to: &str,
    subject: String,
    lines: &[&str],
    link: Option<(&str, &str)>,
) -> Email {
    let mut text = lines.join("\n\n");
    let mut html = lines
        .iter()
        .map(|l| format!("<p>{}</p>", escape(l)))
        .collect::<String>();
    if let Some((label, url)) = link {
        text.push_str(&format!("\n\n{label}: {url}\n"));
        html.push_str(&format!(
            "<p><a href=\"{}\">{}</a></p>",
            escape(url),
            escape(label)
        ));
    }
    Email {
        kind,
        to: to.to_owned(),
        subject,
        text,
        html,
        link: link.map(|(_, url)| url.to_owned()),
    }
}

pub fn verify_email(product: &str, to: &str, link: &str) -> Email {
    build(
        "verify_email",
        to,
        format!("Verify your email for {product}"),
        &[
            "Confirm that this is your email address to finish setting up your account.",
            "If you did not sign up, ignore this message.",
        ],
        Some(("Verify email", link)),
    )
}

pub fn password_reset(product: &str, to: &str, link: &str) -> Email {
    build(
        "password_reset",
        to,
        format!("Reset your {product} password"),
        &[
            "Someone asked to reset the password of your account. The link works once and expires soon.",
            "If it was not you, ignore this message; your password stays as it is.",
        ],
        Some(("Reset password", link)),
    )
}

/// Sent instead of a verification mail when someone signs up with an address that has an
/// account, so the response to the signup reveals nothing.
pub fn account_exists(product: &str, to: &str, reset_link: &str) -> Email {
    build(
        "account_exists",
        to,
        format!("You already have a {product} account"),
        &[
            "Someone tried to sign up with this address, which already has an account. You can sign in, or reset your password if you forgot it.",
            "If it was not you, ignore this message.",
        ],
        Some(("Reset password", reset_link)),
    )
}

pub fn invitation(product: &str, organization: &str, inviter: &str, to: &str, link: &str) -> Email {
    let line = format!("{inviter} invited you to join {organization} on {product}.");
    build(
        "invitation",
        to,
        format!("Join {organization} on {product}"),
        &[
            &line,
            "The invitation is for this address only and expires in a few days.",
        ],
        Some(("Accept invitation", link)),
    )
}

pub fn webhook_disabled(
    product: &str,
    to: &str,
    endpoint_id: &str,
    url: &str,
    reason: &str,
) -> Email {
    build(
        "webhook_disabled",
        to,
        format!("{product}: a webhook endpoint was disabled"),
        &[
            &format!("Events are no longer sent to {url} ({endpoint_id}): {reason}."),
            "New events are still queued for it and are sent, oldest first, once it is enabled \
             again (the dashboard's Webhooks page, or POST /v1/admin/webhooks/{id}/enable).",
        ],
        None,
    )
}
