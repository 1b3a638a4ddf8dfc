//! Notes on what a credential is worth: password rules and the lifetimes of tokens and
//! sessions.

use authstack_instance::config::InstanceConfig;

use super::{Notes, duration};

pub(super) fn passwords(notes: &mut Notes, before: &InstanceConfig, after: &InstanceConfig) {
    let (was, is) = (&before.passwords, &after.passwords);
    if is.min_length < was.min_length {
        notes.add(format!(
            "Lowering the password minimum from {} to {} characters weakens resistance to \
             guessing and cracking; NIST SP 800-63B asks for at least 8.",
            was.min_length, is.min_length
        ));
    }
    if is.min_length > was.min_length {
        notes.add(format!(
            "Raising the password minimum from {} to {} characters strengthens new passwords; \
             existing passwords keep working until they are changed.",
            was.min_length, is.min_length
        ));
    }
    if is.max_length < was.max_length && is.max_length < 64 {
        notes.add(format!(
            "Lowering the password maximum to {} characters keeps users from long passphrases; \
             NIST SP 800-63B asks to allow at least 64.",
            is.max_length
        ));
    }
    if was.reject_common && !is.reject_common {
        notes.add(
            "Common passwords are no longer rejected: \"password123\" and other passwords from \
             breach lists are accepted and are the first ones attackers try.",
        );
    }
    if !was.reject_common && is.reject_common {
        notes.add("Common passwords are rejected at signup and at every password change.");
    }
    if is.reject_common && was.common_list_file != is.common_list_file {
        notes.add(match &is.common_list_file {
            Some(path) => format!(
                "Common passwords are checked against {} instead of the built-in list: make sure \
                 it is at least as complete.",
                path.display()
            ),
            None => "Common passwords are checked against the built-in list.".to_owned(),
        });
    }
    if !was.organization_overrides && is.organization_overrides {
        notes.add(
            "Organizations may require longer passwords for their members (never a weaker \
             policy than this one).",
        );
    }
}

pub(super) fn tokens(notes: &mut Notes, before: &InstanceConfig, after: &InstanceConfig) {
    let (was, is) = (&before.tokens, &after.tokens);
    if is.access_token_ttl_secs > was.access_token_ttl_secs {
        notes.add(format!(
            "Access tokens live {} instead of {}: a leaked token stays usable longer, and a \
             revoked session is noticed later by your API.",
            duration(is.access_token_ttl_secs),
            duration(was.access_token_ttl_secs)
        ));
    }
    if is.session_lifetime_secs > was.session_lifetime_secs {
        notes.add(format!(
            "Sessions last up to {} instead of {}: a stolen session or an unattended device \
             stays signed in longer.",
            duration(is.session_lifetime_secs),
            duration(was.session_lifetime_secs)
        ));
    }
    match (was.session_idle_timeout_secs, is.session_idle_timeout_secs) {
        (Some(from), None) => notes.add(format!(
            "Idle sessions no longer end after {}: an unattended device stays signed in until \
             the session's lifetime ends.",
            duration(from)
        )),
        (None, Some(to)) => notes.add(format!(
            "Sessions end after {} without use: an unattended device is signed out sooner.",
            duration(to)
        )),
        (Some(from), Some(to)) if to > from => notes.add(format!(
            "The idle session timeout is lengthened from {} to {}: an unattended device stays \
             signed in longer.",
            duration(from),
            duration(to)
        )),
        (Some(from), Some(to)) if to < from => notes.add(format!(
            "The idle session timeout is shortened from {} to {}.",
            duration(from),
            duration(to)
        )),
        _ => {}
    }
    if is.refresh_reuse_leeway_secs > was.refresh_reuse_leeway_secs {
        notes.add(format!(
            "A replayed refresh token is tolerated for {} after rotation: reuse detection \
             (which revokes a stolen token's whole family) reacts later.",
            duration(is.refresh_reuse_leeway_secs)
        ));
    }
    for (what, from, to) in [
        (
            "Email verification links",
            was.email_verification_ttl_secs,
            is.email_verification_ttl_secs,
        ),
        (
            "Password reset links",
            was.password_reset_ttl_secs,
            is.password_reset_ttl_secs,
        ),
    ] {
        if to > from {
            notes.add(format!(
                "{what} stay valid {} instead of {}: a leaked link can be used for longer.",
                duration(to),
                duration(from)
            ));
        }
    }
}
