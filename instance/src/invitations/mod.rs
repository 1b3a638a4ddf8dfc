//! Invitations: an organization invites an email address with a pre-assigned role; the mailed
//! token (hashed at rest, 7 days by default) lets an existing user join, or a new user sign up
//! and join in one call. Pending invitations count against the member cap.

pub mod routes;
pub mod store;

use secrecy::SecretString;
use serde::Serialize;

use crate::AppState;
use crate::audit::{self, AuditEvent};
use crate::clock::{UnixTime, rfc3339};
use crate::crypto::sha256_hex;
use crate::db::Scope;
use crate::error::{Error, Result};
use crate::http::Client;
use crate::orgs::Organization;
use crate::users::{EmailAddress, User, new_user_id, parse_name, store as users};

#[derive(Debug, Clone)]
pub struct Invitation {
    pub id: String,
    pub organization_id: String,
    pub email: EmailAddress,
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
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

impl Invitation {
    pub fn view(&self, now: UnixTime) -> InvitationView {
        InvitationView {
            id: self.id.clone(),
            email: self.email.as_str().to_owned(),
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

/// An invitation link, looked up before it is accepted.
pub struct Preview {
    pub invitation: Invitation,
    pub organization: Organization,
    /// Whether the invited address has an account.
    pub account_exists: bool,
}

/// The usable invitation whose mailed token is `token`, or `invalid_grant` with the reason.
pub async fn preview(app: &AppState, token: &str) -> Result<Preview> {
    const INVALID: Error = Error::InvalidGrant("the invitation link is invalid");
    let now = app.clock.now();
    let mut tx = app.db.scoped(Scope::AllOrganizations, false).await?;
    let invitation = store::find_by_token(&mut tx, &sha256_hex(token))
        .await?
        .ok_or(INVALID)?;
    if let Some(reason) = unusable_reason(&invitation, now) {
        return Err(Error::InvalidGrant(reason));
    }
    let organization = crate::orgs::store::find(&mut tx, &invitation.organization_id)
        .await?
        .ok_or(INVALID)?;
    tx.commit().await?;
    let account_exists = users::find_by_email(&app.db, &invitation.email)
        .await?
        .is_some();
    Ok(Preview {
        invitation,
        organization,
        account_exists,
    })
}

/// What accepting an invitation did.
pub struct Accepted {
    pub user: User,
    pub organization: Organization,
    pub role: String,
    /// Whether the acceptance created the account (then no session exists yet).
    pub created: bool,
}

/// Accepts the invitation whose mailed token is `token`. Signed in as the invited address: join.
/// Not signed in and without an account: `password` (and `name`) create the account, verified
/// by the link. Not signed in but the address has an account: `401`, sign in first.
pub async fn accept(
    app: &AppState,
    signed_in: Option<&User>,
    token: &str,
    password: Option<&SecretString>,
    name: Option<&str>,
    client: &Client,
) -> Result<Accepted> {
    const INVALID: Error = Error::InvalidGrant("the invitation link is invalid");
    let now = app.clock.now();
    let token_hash = sha256_hex(token);
    // Look the invitation up first (read only), to know whose account this is about.
    let inv = {
        let mut tx = app.db.scoped(Scope::AllOrganizations, false).await?;
        let inv = store::find_by_token(&mut tx, &token_hash).await?;
        tx.commit().await?;
        inv.ok_or(INVALID)?
    };
    if let Some(reason) = unusable_reason(&inv, now) {
        return Err(Error::InvalidGrant(reason));
    }
    let (user, created) = match signed_in {
        Some(signed_in) if signed_in.email == inv.email => (signed_in.clone(), false),
        Some(_) => {
            return Err(Error::Forbidden(
                "this invitation was sent to a different email address",
            ));
        }
        None => match users::find_by_email(&app.db, &inv.email).await? {
            Some(_) => {
                return Err(Error::Unauthorized(
                    "an account exists for this address: sign in, then accept",
                ));
            }
            None => {
                let password = password
                    .ok_or_else(|| Error::invalid("password is required to create your account"))?;
                app.passwords.check_policy(
                    &app.config.load().passwords,
                    password,
                    Some(inv.email.as_str()),
                )?;
                let name = name.map(parse_name).transpose()?;
                let user = User {
                    id: new_user_id(),
                    email: inv.email.clone(),
                    // The link reached the mailbox, which proves the address.
                    email_verified_at: Some(now),
                    name,
                    password_hash: Some(app.passwords.hash(password).await?),
                    metadata: serde_json::json!({}),
                    banned_until: None,
                    ban_reason: None,
                    external_id: None,
                    created_at: now,
                    updated_at: now,
                    last_login_at: None,
                };
                (user, true)
            }
        },
    };

    let mut tx = app
        .db
        .scoped(Scope::Organization(&inv.organization_id), true)
        .await?;
    if !store::accept(&mut tx, &inv.id, now).await? {
        return Err(INVALID);
    }
    if created && !users::insert(&mut *tx, &user).await? {
        return Err(Error::Conflict(
            "an account for this address was just created; sign in, then accept".into(),
        ));
    }
    if !crate::orgs::store::insert_membership(
        &mut tx,
        &inv.organization_id,
        &user.id,
        &inv.role,
        now,
    )
    .await?
    {
        return Err(Error::Conflict(
            "you are already a member of this organization".into(),
        ));
    }
    let org = crate::orgs::store::find(&mut tx, &inv.organization_id)
        .await?
        .ok_or(Error::NotFound("organization"))?;
    if created {
        audit::record_in(
            &mut tx,
            app,
            now,
            AuditEvent::new("auth.signup")
                .actor(&user.id)
                .target(&user.id)
                .client(client),
        )
        .await?;
    }
    audit::record_in(
        &mut tx,
        app,
        now,
        AuditEvent::new("organization.invitation_accepted")
            .actor(&user.id)
            .target(&inv.id)
            .organization(&org.id)
            .client(client),
    )
    .await?;
    audit::record_in(
        &mut tx,
        app,
        now,
        AuditEvent::new("organization.member_added")
            .actor(&user.id)
            .target(&user.id)
            .organization(&org.id)
            .client(client)
            .data(serde_json::json!({ "role": inv.role, "invitation_id": inv.id })),
    )
    .await?;
    tx.commit().await?;

    Ok(Accepted {
        user,
        organization: org,
        role: inv.role,
        created,
    })
}
