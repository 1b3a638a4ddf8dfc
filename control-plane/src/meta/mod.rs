//! The control plane's own settings that live in its database (the `meta` table): the platform
//! instance's id, its sealed publishable key, the hash of the operators' key.

pub mod store;

/// A setting of the `meta` table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    /// The id of the instance that serves the platform's own sign-in.
    PlatformInstanceId,
    /// The platform instance's publishable key, sealed with the master key.
    PlatformPublishableKey,
    /// SHA-256 of the operators' key (`authstack ops`).
    OpsKeyHash,
}

impl Key {
    pub fn as_str(self) -> &'static str {
        match self {
            Key::PlatformInstanceId => "platform_instance_id",
            Key::PlatformPublishableKey => "platform_publishable_key",
            Key::OpsKeyHash => "ops_key_hash",
        }
    }
}

pub use store::{get, insert, set};
