//! Notes on limits that slow an attacker down: rate limits and organization caps.

use authstack_instance::config::InstanceConfig;

use super::{Notes, duration, limit, list};

pub(super) fn rate_limits(notes: &mut Notes, before: &InstanceConfig, after: &InstanceConfig) {
    let (was, is) = (&before.rate_limits, &after.rate_limits);
    for (what, from, to, risk) in [
        (
            "Failed logins per IP address",
            &was.failed_logins_per_ip,
            &is.failed_logins_per_ip,
            "password guessing from one address",
        ),
        (
            "Failed logins per account",
            &was.failed_logins_per_account,
            &is.failed_logins_per_account,
            "password guessing against one account",
        ),
        (
            "Signups per IP address",
            &was.signups_per_ip,
            &is.signups_per_ip,
            "mass signups by bots",
        ),
        (
            "Emails per address",
            &was.mails_per_address,
            &is.mails_per_address,
            "mail bombing a user's inbox",
        ),
        (
            "Reset and verification requests per IP address",
            &was.link_requests_per_ip,
            &is.link_requests_per_ip,
            "mail bombing and probing many addresses from one address",
        ),
    ] {
        // A bigger burst (max) or a higher rate (max per window) lets more attempts through.
        let rate = (u128::from(to.max) * u128::from(from.window_secs))
            .cmp(&(u128::from(from.max) * u128::from(to.window_secs)));
        if to.max > from.max || rate.is_gt() {
            notes.add(format!(
                "{what} are loosened from {} to {}: more room for {risk}.",
                limit(from),
                limit(to)
            ));
        } else if to.max < from.max || rate.is_lt() {
            notes.add(format!(
                "{what} are tightened from {} to {}: legitimate users who hit the limit wait \
                 longer.",
                limit(from),
                limit(to)
            ));
        }
    }
}

pub(super) fn organizations(notes: &mut Notes, before: &InstanceConfig, after: &InstanceConfig) {
    let (was, is) = (&before.organizations, &after.organizations);
    if !was.custom_roles && is.custom_roles {
        notes.add(
            "Organization admins may define their own roles: review which of your permissions \
             such roles can combine.",
        );
    }
    for (role, from, to) in [
        ("admin", &was.role_grants.admin, &is.role_grants.admin),
        ("member", &was.role_grants.member, &is.role_grants.member),
        ("viewer", &was.role_grants.viewer, &is.role_grants.viewer),
    ] {
        let added: Vec<&String> = to.iter().filter(|p| !from.contains(p)).collect();
        if !added.is_empty() {
            notes.add(format!(
                "Every organization's {role}s gain {}: they can do more than before.",
                list(&added)
            ));
        }
    }
    if is.invitation_ttl_secs > was.invitation_ttl_secs {
        notes.add(format!(
            "Invitations stay valid {} instead of {}: a forwarded or leaked invitation link can \
             be used for longer.",
            duration(is.invitation_ttl_secs),
            duration(was.invitation_ttl_secs)
        ));
    }
}
