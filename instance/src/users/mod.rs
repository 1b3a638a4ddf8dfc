//! End users of an instance: their identity, email, password hash and ban state.

mod email;
pub mod routes;
pub mod store;

use serde::Serialize;

use crate::clock::{UnixTime, rfc3339};
use crate::error::{Error, Result};

pub use email::{EmailAddress, canonical_form, fold};

/// A user as stored.
#[derive(Clone)]
pub struct User {
    pub id: String,
    pub email: EmailAddress,
    pub email_verified_at: Option<UnixTime>,
    pub name: Option<String>,
    pub password_hash: Option<String>,
    pub metadata: serde_json::Value,
    pub banned_until: Option<UnixTime>,
    pub ban_reason: Option<String>,
    pub external_id: Option<String>,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
    pub last_login_at: Option<UnixTime>,
}

impl std::fmt::Debug for User {
    // The password hash stays out of logs and panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("email", &self.email.as_str())
            .finish_non_exhaustive()
    }
}

impl User {
    pub fn email_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }

    pub fn is_banned(&self, now: UnixTime) -> bool {
        self.banned_until.is_some_and(|until| until > now)
    }

    pub fn view(&self, now: UnixTime) -> UserView {
        UserView {
            id: self.id.clone(),
            email: self.email.as_str().to_owned(),
            email_verified: self.email_verified(),
            name: self.name.clone(),
            metadata: self.metadata.clone(),
            has_password: self.password_hash.is_some(),
            banned_until: self.banned_until.filter(|&until| until > now).map(rfc3339),
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
            last_login_at: self.last_login_at.map(rfc3339),
        }
    }
}

/// A user as the API shows it: never the password hash.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub email_verified: bool,
    pub name: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub has_password: bool,
    #[schema(format = DateTime)]
    pub banned_until: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    #[schema(format = DateTime)]
    pub last_login_at: Option<String>,
}

/// Validates a display name: trimmed, 1..=200 characters, no control characters.
pub fn parse_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(Error::invalid("name must be 1 to 200 printable characters"));
    }
    Ok(name.to_owned())
}

/// Validates free-form metadata: a JSON object of at most 8 KiB.
pub fn parse_metadata(value: serde_json::Value) -> Result<serde_json::Value> {
    if !value.is_object() {
        return Err(Error::invalid("metadata must be a JSON object"));
    }
    if value.to_string().len() > 8 * 1024 {
        return Err(Error::invalid("metadata must be at most 8 KiB"));
    }
    Ok(value)
}

pub fn new_user_id() -> String {
    format!("usr_{}", uuid::Uuid::now_v7().simple())
}
