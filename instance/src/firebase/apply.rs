//! Writing the users of a Firebase export, in batches, each looked up first (by `localId`, then
//! email) so that a re-run writes only what is missing. A dry run does the look-ups and checks
//! and none of the writes.

use super::{ExportedUser, HashConfig, Millis, Rejected, Report, decode_base64};
use crate::admin::import::{DISABLED_UNTIL, ImportRow, find_existing, validate};
use crate::clock::UnixTime;
use crate::db::Db;
use crate::passwords::HashKeys;
use crate::passwords::firebase::{KEY_ALGORITHM, phc};
use crate::users::User;

/// Users written per transaction.
const BATCH: usize = 500;

/// The key id dry runs build hashes with (nothing is stored).
const DRY_RUN_KEY: &str = "dryrun";

/// Imports `users` (the export's `users`, unparsed); `hash` is required when any of them has a
/// password hash, and `keys` when it is not a dry run. `progress` is told how many users are
/// done after each batch.
pub async fn apply(
    db: &Db,
    users: Vec<serde_json::Value>,
    hash: Option<&HashConfig>,
    keys: Option<&HashKeys>,
    dry_run: bool,
    now: UnixTime,
    progress: &(dyn Fn(usize) + Sync),
) -> anyhow::Result<Report> {
    let parsed: Vec<Result<ExportedUser, String>> = users
        .into_iter()
        .map(|value| {
            serde_json::from_value::<ExportedUser>(value)
                .map_err(|e| format!("not a Firebase user: {e}"))
        })
        .collect();
    let hashes = parsed
        .iter()
        .filter(|u| u.as_ref().is_ok_and(has_password))
        .count();
    let key_id = match (hashes, hash, keys) {
        (0, _, _) => DRY_RUN_KEY.to_owned(),
        (n, None, _) => anyhow::bail!(
            "{n} users have a password hash: give the project's hash parameters (--hash-config, or --rounds, --mem-cost, --salt-separator and FIREBASE_SIGNER_KEY)"
        ),
        (_, Some(_), _) if dry_run => DRY_RUN_KEY.to_owned(),
        (_, Some(config), Some(keys)) => {
            keys.find_or_insert(KEY_ALGORITHM, config.signer_key(), now)
                .await?
        }
        (_, Some(_), None) => anyhow::bail!("storing the signer key needs the master key"),
    };

    let mut report = Report {
        dry_run,
        ..Report::default()
    };
    let mut done = 0;
    let mut users = parsed.into_iter().enumerate().peekable();
    while users.peek().is_some() {
        let batch: Vec<_> = users.by_ref().take(BATCH).collect();
        let mut tx = db.begin_write().await?;
        for (position, user) in batch {
            done += 1;
            let index = position + 1;
            let user = match user {
                Ok(user) => user,
                Err(reason) => {
                    report.rejected.push(Rejected {
                        index,
                        local_id: None,
                        email: None,
                        reason,
                    });
                    continue;
                }
            };
            let reject = |reason: String| Rejected {
                index,
                local_id: Some(user.local_id.clone()),
                email: user.email.clone(),
                reason,
            };
            let Some(email) = user.email.clone().filter(|e| !e.trim().is_empty()) else {
                report.rejected.push(reject(
                    "no email (a phone-only or anonymous account): users here sign in with an email"
                        .into(),
                ));
                continue;
            };
            if find_existing(db, Some(user.local_id.as_str()), &email)
                .await?
                .is_some()
            {
                report.users.unchanged += 1;
                continue;
            }
            let candidate = match candidate(&user, email, hash, &key_id, now) {
                Ok(candidate) => candidate,
                Err(reason) => {
                    report.rejected.push(reject(reason));
                    continue;
                }
            };
            if !dry_run && !crate::users::store::insert(&mut *tx, &candidate).await? {
                report.rejected.push(reject(
                    "a user with this email already exists (under another address form)".into(),
                ));
                continue;
            }
            report.users.imported += 1;
            count_left_behind(&mut report, &user, candidate.password_hash.is_some());
        }
        tx.commit().await?;
        progress(done);
    }
    Ok(report)
}

fn has_password(user: &ExportedUser) -> bool {
    user.password_hash.as_deref().is_some_and(|h| !h.is_empty())
}

/// Counts, for an imported user, what the report says was not carried over.
fn count_left_behind(report: &mut Report, user: &ExportedUser, with_password: bool) {
    if with_password {
        report.with_password += 1;
    } else {
        report.without_password += 1;
    }
    for provider in &user.provider_user_info {
        *report
            .providers
            .entry(provider.provider_id.clone())
            .or_default() += 1;
    }
    if user.phone_number.as_deref().is_some_and(|p| !p.is_empty()) {
        report.phone_numbers_dropped += 1;
    }
    if !user.mfa_info.is_empty() {
        report.mfa_dropped += 1;
    }
}

/// The user to insert, validated as a JSON-lines row is, with the Firebase hash (which the
/// JSON-lines import does not accept: it names a signer key only this import stores).
fn candidate(
    user: &ExportedUser,
    email: String,
    hash: Option<&HashConfig>,
    key_id: &str,
    now: UnixTime,
) -> Result<User, String> {
    let password_hash = password_hash(user, hash, key_id)?;
    let metadata = match user.custom_attributes.as_deref().map(str::trim) {
        Some(text) if !text.is_empty() => Some(
            serde_json::from_str::<serde_json::Value>(text)
                .map_err(|_| "customAttributes is not JSON".to_owned())?,
        ),
        _ => None,
    };
    let time = |field: &Option<Millis>, name: &str| match field {
        Some(millis) => millis
            .seconds()
            .map(Some)
            .ok_or_else(|| format!("{name} is not a time in milliseconds")),
        None => Ok(None),
    };
    let created_at = time(&user.created_at, "createdAt")?;
    let last_login_at = time(&user.last_signed_in_at, "lastSignedInAt")?;
    let row = ImportRow {
        email,
        password_hash: None,
        name: user.display_name.clone().filter(|n| !n.trim().is_empty()),
        email_verified: user.email_verified,
        metadata,
        external_id: Some(user.local_id.clone()),
    };
    let mut candidate = validate(row, now)?;
    candidate.password_hash = password_hash;
    if let Some(created_at) = created_at {
        candidate.created_at = created_at;
    }
    candidate.last_login_at = last_login_at;
    if user.disabled {
        candidate.banned_until = Some(DISABLED_UNTIL);
        candidate.ban_reason = Some("disabled in Firebase".into());
    }
    Ok(candidate)
}

/// The `$firebase-scrypt$` string of the user's hash, or `None` when they have none.
fn password_hash(
    user: &ExportedUser,
    hash: Option<&HashConfig>,
    key_id: &str,
) -> Result<Option<String>, String> {
    let Some(encoded) = user.password_hash.as_deref().filter(|h| !h.is_empty()) else {
        return Ok(None);
    };
    let config = hash.ok_or("no hash parameters were given")?;
    let stored = decode_base64(encoded).ok_or("passwordHash is not base64")?;
    let salt = user
        .salt
        .as_deref()
        .and_then(decode_base64)
        .filter(|s| !s.is_empty())
        .ok_or("passwordHash without a base64 salt")?;
    if stored.len() != config.signer_key().len() {
        return Err(format!(
            "passwordHash is {} bytes where this signer key gives {}: not this project's hash parameters?",
            stored.len(),
            config.signer_key().len()
        ));
    }
    phc(key_id, &config.parameters, &salt, &stored)
        .map(Some)
        .ok_or_else(|| "the salt is too short or too long to store (3 to 48 bytes)".into())
}
