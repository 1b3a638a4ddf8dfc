//! Webhooks: which events go to which URL.

use serde_json::json;

use super::draft::{Draft, Step};
use super::tokens::Prompt;
use super::words::SIGN_IN;

pub(super) fn webhook(prompt: &Prompt, draft: &mut Draft) -> Step {
    let anchors = prompt.anchors(&[
        "webhook", "webhooks", "events", "event", "notify", "post", "send", "forward", "stream",
    ]);
    let logo = prompt.anchors(&["logo"]);
    if anchors.is_empty() || prompt.urls().is_empty() {
        return Step::NotAsked;
    }
    let Some(url) = prompt.url_near(&anchors) else {
        return Step::NotAsked;
    };
    if !logo.is_empty() && prompt.url_near(&logo).as_deref() == Some(url.as_str()) {
        return Step::NotAsked;
    }
    let mut events = Vec::new();
    if prompt.any(&["all events", "every event", "all audit", "everything"]) {
        events.push("*");
    } else {
        if prompt.any(&[
            "organization",
            "organizations",
            "org",
            "orgs",
            "member",
            "members",
        ]) {
            events.push("organization.*");
        }
        if prompt.any(&["admin", "admins", "administration"]) {
            events.push("admin.*");
        }
        if events.is_empty()
            || prompt.any(SIGN_IN)
            || prompt.any(&["auth", "authentication", "security", "logout", "session"])
        {
            events.insert(0, "auth.*");
        }
    }
    let existing = draft.config().webhooks.iter().position(|h| h.url == url);
    let changed = match existing {
        Some(i) => {
            let mut all = draft.config().webhooks[i].events.clone();
            for event in &events {
                if !all.iter().any(|e| e == event) {
                    all.push((*event).to_owned());
                }
            }
            draft.set(&format!("/webhooks/{i}/events"), json!(all))
        }
        None => {
            draft.push("/webhooks", json!({"url": url, "events": events}));
            true
        }
    };
    draft.say(
        changed,
        format!(
            "Send the instance's events matching {} to the webhook {url} as signed HTTP POSTs.",
            events.join(", ")
        ),
        format!(
            "{url} already receives the events matching {}.",
            events.join(", ")
        ),
    );
    Step::Done
}

#[cfg(test)]
mod tests {
    use super::super::testing;

    /// Prompts for these rules and their patches (see [`testing::assert_patches`]).
    #[rustfmt::skip]
    const CASES: &[(&str, &[&str])] = &[
        ("Send login events to https://hooks.example.com/Auth", &["add /webhooks/- {\"url\":\"https://hooks.example.com/Auth\",\"events\":[\"auth.*\"]}"]),
        ("post auth events to our webhook at https://example.com/hook", &["add /webhooks/- {\"url\":\"https://example.com/hook\",\"events\":[\"auth.*\"]}"]),
        ("Forward organization events to https://example.com/orgs", &["add /webhooks/- {\"url\":\"https://example.com/orgs\",\"events\":[\"organization.*\"]}"]),
    ];

    #[test]
    fn each_prompt_becomes_its_patch() {
        testing::assert_patches(CASES);
    }
}
