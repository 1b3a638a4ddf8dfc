//! Typed ids for the values that travel side by side and could be swapped unnoticed as plain
//! strings: an account's id, a customer instance's id, and the platform organization an account
//! is (its `organization_id`, an id of the platform instance).
//!
//! Each is a transparent newtype over the stored string: the same JSON, the same column, the
//! same OpenAPI schema; only the compiler tells them apart. They do not validate (ids are made
//! by [`crate::db::new_id`] or come from the platform instance); a path segment that names no
//! row is answered 404 by the lookup, as before.

use std::fmt;
use std::ops::Deref;

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, sqlx::Type, utoipa::ToSchema,
        )]
        #[serde(transparent)]
        #[sqlx(transparent)]
        #[schema(value_type = String)]
        pub struct $name(String);

        impl $name {
            /// The id as stored.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The owned string, for APIs that take one.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self(id.to_owned())
            }
        }

        impl Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

id! {
    /// A customer account (`acc_…`).
    AccountId
}

id! {
    /// A customer instance (`ins_…`), one per account and environment.
    InstanceId
}

id! {
    /// An organization of the platform instance: the one an account is, whose members and roles
    /// are the account's.
    OrganizationId
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_their_string_in_json() {
        let id = AccountId::from("acct_1");
        assert_eq!(
            serde_json::to_string(&id).ok().as_deref(),
            Some("\"acct_1\"")
        );
        let back: InstanceId =
            serde_json::from_str("\"inst_2\"").unwrap_or_else(|_| InstanceId::from(""));
        assert_eq!(back.as_str(), "inst_2");
        assert_eq!(&*OrganizationId::from("org_3"), "org_3");
    }
}
