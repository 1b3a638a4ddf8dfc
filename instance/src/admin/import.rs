//! Importing users with their password hashes (Argon2, PBKDF2 or bcrypt), in batches: over HTTP, and
//! from a JSON-lines file with `authstack-instance import`.

use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;
use crate::db::Db;
use crate::error::Result;
use crate::passwords::is_supported_hash;
use crate::users::{EmailAddress, User, new_user_id, parse_metadata, parse_name};

/// The most rows one batch may carry.
pub const MAX_BATCH: usize = 1000;

/// One user to import.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportRow {
    #[schema(format = Email, max_length = 254)]
    pub email: String,
    /// An Argon2 or PBKDF2 (`$pbkdf2-sha256$i=...`) PHC string or a bcrypt hash (`$2a$`, `$2b$`,
    /// `$2y$`).
    pub password_hash: Option<String>,
    pub name: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    /// The user's id in the system imported from.
    pub external_id: Option<String>,
}

impl std::fmt::Debug for ImportRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportRow")
            .field("email", &self.email)
            .finish_non_exhaustive()
    }
}

/// One line of an Auth0 user export (the bulk export with password hashes): `email`,
/// `email_verified`, bcrypt `passwordHash`, `user_id` (or `_id.$oid`), names and
/// `user_metadata`. Other fields are ignored.
#[derive(Deserialize)]
pub struct Auth0User {
    email: String,
    #[serde(default)]
    email_verified: bool,
    #[serde(rename = "passwordHash", alias = "password_hash")]
    password_hash: Option<String>,
    user_id: Option<String>,
    #[serde(rename = "_id")]
    mongo_id: Option<Auth0Id>,
    name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    user_metadata: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Auth0Id {
    #[serde(rename = "$oid")]
    oid: String,
}

impl From<Auth0User> for ImportRow {
    fn from(user: Auth0User) -> ImportRow {
        let joined = [user.given_name, user.family_name]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        ImportRow {
            email: user.email,
            password_hash: user.password_hash,
            // Auth0 sets `name` to the email when the user gave none.
            name: user
                .name
                .filter(|n| !n.contains('@'))
                .or((!joined.is_empty()).then_some(joined)),
            email_verified: user.email_verified,
            metadata: user.user_metadata,
            external_id: user
                .user_id
                .or(user.mongo_id.map(|id| format!("auth0|{}", id.oid))),
        }
    }
}

/// How many of one kind were written (or, in a dry run, would be) and how many were there
/// already (the Keycloak and Firebase imports).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub imported: usize,
    pub unchanged: usize,
}

/// The user an import would create that is there already: the one with `external_id`, else the
/// one with `email` (the importers' look-up before each write, which makes a re-run a no-op).
pub async fn find_existing(
    db: &Db,
    external_id: Option<&str>,
    email: &str,
) -> sqlx::Result<Option<User>> {
    if let Some(id) = external_id
        && let Some(found) = crate::users::store::find_by_external_id(db, id).await?
    {
        return Ok(Some(found));
    }
    match EmailAddress::parse(email) {
        Ok(email) => crate::users::store::find_by_email(db, &email).await,
        Err(_) => Ok(None),
    }
}

/// A user imported disabled is banned until the end of 9999.
pub const DISABLED_UNTIL: UnixTime = 253_402_300_799;

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Rejected {
    /// Position of the row in the batch (0-based) or line in the file (1-based).
    pub index: usize,
    pub email: Option<String>,
    pub reason: String,
}

#[derive(Debug, Default, Serialize, utoipa::ToSchema)]
pub struct ImportReport {
    pub imported: usize,
    pub rejected: Vec<Rejected>,
}

/// Checks one row and builds the user it describes.
pub(crate) fn validate(row: ImportRow, now: UnixTime) -> std::result::Result<User, String> {
    let email = EmailAddress::parse(&row.email).map_err(|e| e.to_string())?;
    if let Some(hash) = &row.password_hash
        && !is_supported_hash(hash)
    {
        return Err("password_hash is not an Argon2, PBKDF2 or bcrypt hash".into());
    }
    let name = row
        .name
        .as_deref()
        .map(parse_name)
        .transpose()
        .map_err(|e| e.to_string())?;
    let metadata = row
        .metadata
        .map(parse_metadata)
        .transpose()
        .map_err(|e| e.to_string())?;
    if row.external_id.as_ref().is_some_and(|id| id.len() > 255) {
        return Err("external_id must be at most 255 characters".into());
    }
    Ok(User {
        id: new_user_id(),
        email,
        email_verified_at: row.email_verified.then_some(now),
        name,
        password_hash: row.password_hash,
        metadata: metadata.unwrap_or_else(|| serde_json::json!({})),
        banned_until: None,
        ban_reason: None,
        external_id: row.external_id,
        created_at: now,
        updated_at: now,
        last_login_at: None,
    })
}

/// Imports `rows` in one transaction; invalid rows and existing emails are rejected with a
/// reason and do not stop the others. `first_index` numbers the rows in the report.
pub async fn import_batch(
    db: &Db,
    rows: Vec<(usize, ImportRow)>,
    now: UnixTime,
) -> Result<ImportReport> {
    let mut report = ImportReport::default();
    let mut tx = db.begin_write().await?;
    for (index, row) in rows {
        let email = Some(row.email.clone());
        match validate(row, now) {
            Ok(user) => {
                if crate::users::store::insert(&mut *tx, &user).await? {
                    report.imported += 1;
                } else {
                    report.rejected.push(Rejected {
                        index,
                        email,
                        reason: "a user with this email already exists".into(),
                    });
                }
            }
            Err(reason) => report.rejected.push(Rejected {
                index,
                email,
                reason,
            }),
        }
    }
    tx.commit().await?;
    Ok(report)
}
