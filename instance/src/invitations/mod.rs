//! Invitations: an organization invites an email address with a pre-assigned role; the mailed
//! token (hashed at rest, 7 days by default) lets an existing user join, or a new user sign up
//! and join in one call. Pending invitations count against the member cap.

pub mod routes;
pub mod store;

use serde::Serialize;

use crate::clock::{UnixTime, rfc3339};

#[derive(Debug, Clone)]
pub struct Invitation {
    pub id: String,
    pub organization_id: String,
    pub email: String,
    pub role: String,
    pub invited_by: Option<String>,
    pub created_at: UnixTime,
    pub expires_at: UnixTime,
    pub accepted_at: Option<UnixTime>,
    pub cancelled_at: Option<UnixTime>,
}

/// Why an invitation cannot be used, in the words the API returns.
pub fn unusable_reason(inv: &Invitation, now: UnixTime) -> Option<&'static str> {
    if inv.accepted_at.is_some() {
        Some("this invitation has already been accepted")
    } else if inv.cancelled_at.is_some() {
        Some("this invitation was cancelled")
    } else if inv.expires_at <= now {
        Some("this invitation has expired; ask for a new one")
    } else {
        None
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvitationView {
    pub id: String,
    pub email: String,
    pub role: String,
    pub invited_by: Option<String>,
    /// `pending` or `expired`.
    pub status: &'static str,
    pub created_at: String,
    pub expires_at: String,
}

impl Invitation {
    pub fn view(&self, now: UnixTime) -> InvitationView {
        InvitationView {
            id: self.id.clone(),
            email: self.email.clone(),
            role: self.role.clone(),
            invited_by: self.invited_by.clone(),
            status: if self.expires_at > now {
                "pending"
            } else {
                "expired"
            },
            created_at: rfc3339(self.created_at),
            expires_at: rfc3339(self.expires_at),
        }
    }
}
