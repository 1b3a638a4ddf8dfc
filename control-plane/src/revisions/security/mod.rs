//! What a configuration change means for security, in plain language. Every revision preview
//! (a dry run, a diff, a customization proposal, a promotion) shows these notes next to the
//! patch, so that a customer who approves "lower the password minimum" reads what it weakens.
//!
//! The notes are deterministic: the same pair of configurations always gives the same notes in
//! the same order (the order of the fields in [`InstanceConfig`]). The rules are grouped by
//! family: `sign_in` (methods, verification, MFA, CAPTCHA), `credentials` (passwords, token
//! lifetimes), `limits` (rate limits, organization caps) and `reach` (origins, webhooks, hosts).

use authstack_instance::config::{InstanceConfig, Limit};

mod credentials;
mod limits;
mod reach;
mod sign_in;

/// The security implications of changing `before` into `after`; empty when nothing that matters
/// for security changed (e.g. only the primary color).
pub fn notes(before: &InstanceConfig, after: &InstanceConfig) -> Vec<String> {
    let mut notes = Notes::default();
    sign_in::sign_in_methods(&mut notes, before, after);
    sign_in::verification_and_signup(&mut notes, before, after);
    sign_in::mfa(&mut notes, before, after);
    sign_in::captcha(&mut notes, before, after);
    credentials::passwords(&mut notes, before, after);
    credentials::tokens(&mut notes, before, after);
    limits::rate_limits(&mut notes, before, after);
    limits::organizations(&mut notes, before, after);
    reach::network(&mut notes, before, after);
    reach::webhooks(&mut notes, before, after);
    reach::elsewhere(&mut notes, before, after);
    notes.0
}

#[derive(Default)]
struct Notes(Vec<String>);

impl Notes {
    fn add(&mut self, note: impl Into<String>) {
        self.0.push(note.into());
    }
}

fn limit(limit: &Limit) -> String {
    format!("{} per {}", limit.max, duration(limit.window_secs))
}

/// `90` → "90 seconds", `900` → "15 minutes", `7200` → "2 hours", `86400` → "1 day".
pub(crate) fn duration(secs: u64) -> String {
    let (count, unit) = if secs >= 86_400 && secs.is_multiple_of(86_400) {
        (secs / 86_400, "day")
    } else if secs >= 3600 && secs.is_multiple_of(3600) {
        (secs / 3600, "hour")
    } else if secs >= 60 && secs.is_multiple_of(60) {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    if count == 1 {
        format!("1 {unit}")
    } else {
        format!("{count} {unit}s")
    }
}

fn list<T: AsRef<str>>(items: &[T]) -> String {
    items
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ")
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests;
