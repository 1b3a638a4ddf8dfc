//! Importing a Firebase Authentication export (`firebase auth:export FILE --format=json`, an
//! object `{"users": [...]}`) with the project's password hash parameters
//! (`authstack-instance import firebase FILE --hash-config FILE`).
//!
//! Password hashes are Firebase's modified scrypt ([`crate::passwords::firebase`]); the
//! project's signer key is stored once, sealed ([`crate::passwords::hash_keys`]), and every
//! imported hash names it. Users are found before they are written (by `localId` as
//! `external_id`, then by email), so a re-run imports nothing new and an interrupted import is
//! resumed by running it again. What cannot be carried over is reported: sign-in providers,
//! phone numbers, MFA factors (see docs/import.md).

pub mod apply;
pub mod hash_config;

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE};
use serde::{Deserialize, Serialize};

pub use apply::apply;
pub use hash_config::HashConfig;

use crate::admin::import::Counts;
use crate::clock::UnixTime;

/// The users of an export file, each still unparsed: one malformed user is rejected alone.
pub fn read_export(text: &str) -> anyhow::Result<Vec<serde_json::Value>> {
    #[derive(Deserialize)]
    struct Export {
        users: Vec<serde_json::Value>,
    }
    let export: Export = serde_json::from_str(text).map_err(|e| {
        anyhow::anyhow!("not a Firebase auth:export JSON file ({{\"users\": [...]}}): {e}")
    })?;
    Ok(export.users)
}

/// One user of the export, as `firebase auth:export` writes it (its `downloadAccount` fields).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedUser {
    pub local_id: String,
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    /// Base64 (the export writes standard base64; the API's URL-safe form is accepted too).
    pub password_hash: Option<String>,
    pub salt: Option<String>,
    pub display_name: Option<String>,
    /// Milliseconds since 1970, a string in exports (a number accepted too).
    pub created_at: Option<Millis>,
    pub last_signed_in_at: Option<Millis>,
    pub phone_number: Option<String>,
    #[serde(default)]
    pub disabled: bool,
    /// The user's custom claims, a JSON object in a string.
    pub custom_attributes: Option<String>,
    #[serde(default)]
    pub provider_user_info: Vec<ProviderUserInfo>,
    /// Not written by `auth:export` today; Admin SDK dumps carry it.
    #[serde(default)]
    pub mfa_info: Vec<serde_json::Value>,
}

impl std::fmt::Debug for ExportedUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportedUser")
            .field("local_id", &self.local_id)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderUserInfo {
    pub provider_id: String,
}

/// A time in milliseconds, as a string or a number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Millis {
    Text(String),
    Number(i64),
}

impl Millis {
    fn seconds(&self) -> Option<UnixTime> {
        let millis = match self {
            Millis::Text(text) => text.trim().parse::<i64>().ok()?,
            Millis::Number(n) => *n,
        };
        // Between 1970 and the end of 9999.
        (0..=253_402_300_799_999)
            .contains(&millis)
            .then_some(millis / 1000)
    }
}

/// A user of the export that could not be imported, and why (a line of `FILE.rejected.jsonl`).
#[derive(Debug, Clone, Serialize)]
pub struct Rejected {
    /// Position in the export's `users` (1-based).
    pub index: usize,
    pub local_id: Option<String>,
    pub email: Option<String>,
    pub reason: String,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Default, Serialize)]
pub struct Report {
    pub dry_run: bool,
    pub users: Counts,
    /// Of the users imported: with a Firebase password hash, and without a password (they
    /// signed in with a provider only, or never set one; they set one with a password reset).
    pub with_password: usize,
    pub without_password: usize,
    /// Sign-in providers of the users imported, by provider id (`google.com`): not carried over.
    pub providers: BTreeMap<String, usize>,
    /// Users imported whose phone number or MFA factors were left behind.
    pub phone_numbers_dropped: usize,
    pub mfa_dropped: usize,
    pub rejected: Vec<Rejected>,
}

impl Report {
    /// The report as the command prints it.
    pub fn summary(&self) -> String {
        let verb = if self.dry_run {
            "would import"
        } else {
            "imported"
        };
        let mut out = format!(
            "users: {verb} {}, already present {}\n  with a Firebase password: {}\n  without a password (provider-only or none set; a password reset gives them one): {}\n",
            self.users.imported, self.users.unchanged, self.with_password, self.without_password
        );
        if !self.providers.is_empty() {
            let providers: Vec<String> = self
                .providers
                .iter()
                .map(|(id, n)| format!("{id} {n}"))
                .collect();
            out += &format!(
                "  sign-in providers not carried over: {}\n",
                providers.join(", ")
            );
        }
        out += &format!(
            "  phone numbers not carried over: {}\n  MFA factors not carried over: {} users\n  rejected: {}\n",
            self.phone_numbers_dropped,
            self.mfa_dropped,
            self.rejected.len()
        );
        for item in &self.rejected {
            let who = item
                .email
                .as_deref()
                .or(item.local_id.as_deref())
                .unwrap_or("?");
            out += &format!("    #{} {who}: {}\n", item.index, item.reason);
        }
        out
    }
}

/// Base64 as Firebase writes it: standard or URL-safe, padded or not.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let text = text.trim();
    let padded = |t: &str| {
        let mut t = t.to_owned();
        while !t.len().is_multiple_of(4) {
            t.push('=');
        }
        t
    };
    STANDARD
        .decode(padded(text))
        .or_else(|_| URL_SAFE.decode(padded(text)))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exported_users_read_as_auth_export_writes_them() {
        let users = read_export(
            r#"{"users": [
              {"localId": "kYi4EvWQlQTKSfnJ3dRSP6IH3ed2", "email": "user1@test.com", "emailVerified": false,
               "passwordHash": "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==",
               "salt": "42xEC+ixf3L2lw==", "displayName": "Test User 1", "lastSignedInAt": "1508893925000",
               "createdAt": "1508893925000", "customAttributes": "{\"admin\":true}",
               "providerUserInfo": [{"providerId": "google.com", "rawId": "1", "email": "user1@test.com"}]}
            ]}"#,
        )
        .expect("export");
        let user: ExportedUser = serde_json::from_value(users[0].clone()).expect("user");
        assert_eq!(
            user.created_at.and_then(|m| m.seconds()),
            Some(1_508_893_925)
        );
        assert_eq!(user.provider_user_info[0].provider_id, "google.com");
        assert!(read_export("[]").is_err());
        assert_eq!(Millis::Number(-1).seconds(), None);
        assert_eq!(decode_base64("Bw"), Some(vec![7]));
        assert_eq!(decode_base64("-_8="), decode_base64("+/8"));
    }
}
