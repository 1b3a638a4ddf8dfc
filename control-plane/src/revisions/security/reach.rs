//! Notes on who may reach the instance and whom it reaches: origins and redirects, webhooks
//! and the hosts it loads from.

use authstack_instance::config::InstanceConfig;

use super::{Notes, list};

pub(super) fn network(notes: &mut Notes, before: &InstanceConfig, after: &InstanceConfig) {
    let (was, is) = (&before.security, &after.security);
    let added = |from: &[String], to: &[String]| -> Vec<String> {
        to.iter().filter(|x| !from.contains(x)).cloned().collect()
    };
    let origins = added(&was.allowed_origins, &is.allowed_origins);
    if !origins.is_empty() {
        notes.add(format!(
            "Browsers on {} may call the instance: a cross-site scripting flaw there can act for \
             your signed-in users.",
            list(&origins)
        ));
    }
    let redirects = added(&was.redirect_uris, &is.redirect_uris);
    if !redirects.is_empty() {
        notes.add(format!(
            "Sign-in may send users and their codes back to {}: make sure you control every one \
             of these addresses.",
            list(&redirects)
        ));
    }
    let (from, to) = (&was.admin_ip_allowlist, &is.admin_ip_allowlist);
    if !from.is_empty() && to.is_empty() {
        notes.add(
            "The admin IP allowlist is removed: the admin API and organization administration \
             answer clients from any network again.",
        );
    } else if from.is_empty() && !to.is_empty() {
        notes.add(format!(
            "Admin access is restricted to {}: the admin API, secret keys and organization \
             administration answer nowhere else; make sure your own address is inside, or you \
             lock yourself out.",
            list(to)
        ));
    } else {
        let widened = added(from, to);
        if !widened.is_empty() {
            notes.add(format!(
                "The admin IP allowlist is widened by {}.",
                list(&widened)
            ));
        }
        let narrowed = added(to, from);
        if !narrowed.is_empty() {
            notes.add(format!(
                "The admin IP allowlist no longer includes {}: admins there lose access.",
                list(&narrowed)
            ));
        }
    }
}

pub(super) fn webhooks(notes: &mut Notes, before: &InstanceConfig, after: &InstanceConfig) {
    for hook in &after.webhooks {
        match before.webhooks.iter().find(|old| old.url == hook.url) {
            None => notes.add(format!(
                "Events ({}) leave the instance for {}: that endpoint learns who signs in and \
                 when; it must use https and check the signature of every request.",
                list(&hook.events),
                hook.url
            )),
            Some(old) => {
                let added: Vec<&String> = hook
                    .events
                    .iter()
                    .filter(|e| !old.events.contains(e))
                    .collect();
                if !added.is_empty() {
                    notes.add(format!(
                        "The webhook {} also receives {}: more data leaves the instance.",
                        hook.url,
                        list(&added)
                    ));
                }
            }
        }
    }
}

pub(super) fn elsewhere(notes: &mut Notes, before: &InstanceConfig, after: &InstanceConfig) {
    if after.mail.link_base_url != before.mail.link_base_url
        && let Some(url) = &after.mail.link_base_url
    {
        notes.add(format!(
            "Emailed links (email verification, password reset, magic links) now point to {url}: \
             their one-time tokens go there, so it must be your application."
        ));
    }
    if after.mail.from != before.mail.from {
        notes.add(format!(
            "Emails are sent as {}: make sure the domain's SPF and DKIM allow it, or users' mail \
             providers may flag them as phishing.",
            after.mail.from
        ));
    }
    if after.audit.retention_days < before.audit.retention_days {
        notes.add(format!(
            "Audit events are kept {} days instead of {}: evidence for investigating an incident \
             disappears sooner.",
            after.audit.retention_days, before.audit.retention_days
        ));
    }
    if after.branding.logo_url != before.branding.logo_url
        && let Some(url) = &after.branding.logo_url
    {
        notes.add(format!(
            "The logo is loaded from {url} on every sign-in page: that host sees your users' \
             visits and can change what the logo shows."
        ));
    }
}
