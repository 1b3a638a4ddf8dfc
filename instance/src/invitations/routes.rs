//! `/v1/organizations/{id}/invitations` and `/v1/invitations/accept`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Invitation, InvitationView, store};
use crate::AppState;
use crate::audit::{self, AuditEvent};
use crate::crypto::{random_secret, sha256_hex};

use crate::auth::MailBudget;
use crate::error::{Error, ErrorBody, Result};
use crate::http::{Authenticated, Caller, Client, Json};
use crate::orgs::members::requested_role;
use crate::orgs::{OrganizationView, enter};
use crate::rbac::ensure_may_grant;
use crate::sessions::{self, TokenResponse};
use crate::users::{EmailAddress, store as users};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_invitation, list_invitations))
        .routes(routes!(cancel_invitation))
        .routes(routes!(resend_invitation))
        .routes(routes!(accept_invitation))
        .routes(routes!(lookup_invitation))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInvitationRequest {
    #[schema(format = Email, max_length = 254)]
    email: String,
    /// A built-in role or a custom role's key; `member` when absent.
    role: Option<String>,
}

/// Mails a fresh link for `inv` (after the transaction that created or renewed it committed).
fn mail_invitation(
    app: &AppState,
    inv: &Invitation,
    token: &SecretString,
    org_name: &str,
    inviter: &str,
) {
    let url = crate::auth::link(app, "accept-invitation", token.expose_secret());
    let product = app.config.load().mail.product_name.clone();
    let (org_name, inviter) = (org_name.to_owned(), inviter.to_owned());
    crate::auth::deliver(app, &inv.email, MailBudget::TakeOnSend, move |to| {
        crate::mail::invitation(&product, &org_name, &inviter, to, &url)
    });
}

/// Invite an email address with a role (needs `members:invite`; only roles whose permissions
/// the caller holds; counts against the member cap).
#[utoipa::path(post, path = "/v1/organizations/{id}/invitations", tag = "invitations", security(("bearer" = [])), params(("id" = String, Path)),
    request_body = CreateInvitationRequest,
    responses((status = 201, body = InvitationView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_invitation(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path(id): Path<String>,
    Json(req): Json<CreateInvitationRequest>,
) -> Result<(StatusCode, axum::Json<InvitationView>)> {
    let email = EmailAddress::parse(&req.email)?;
    let (mut tx, actor) = enter(&app, &id, true, &caller, &client, Some("members:invite")).await?;
    let role = requested_role(&app, &mut tx, &id, req.role.as_deref().unwrap_or("member")).await?;
    ensure_may_grant(
        &actor.role.permissions,
        &role.permissions,
        &format!("invite with the role {}", role.key),
    )?;
    let now = app.clock.now();
    if let Some(existing) = users::find_by_email(&app.db, &email).await?
        && crate::orgs::store::find_membership(&mut tx, &id, &existing.id)
            .await?
            .is_some()
    {
        return Err(Error::Conflict(
            "this address already belongs to a member".into(),
        ));
    }
    if store::find_pending_for(&mut tx, &id, &email, now)
        .await?
        .is_some()
    {
        return Err(Error::Conflict(
            "this address already has a pending invitation; resend it instead".into(),
        ));
    }
    let config = app.config.load_full();
    app.db.lock(&mut tx, &format!("seats:{id}")).await?;
    if let Some(max) = config.organizations.max_members_per_organization
        && crate::orgs::store::count_seats(&mut tx, &id, now).await? >= i64::from(max)
    {
        return Err(Error::LimitExceeded(format!(
            "the plan allows {max} members (and pending invitations) per organization"
        )));
    }
    let token = random_secret("inv_", 32);
    let inv = Invitation {
        id: format!("invt_{}", uuid::Uuid::now_v7().simple()),
        organization_id: id.clone(),
        email,
        role: role.key.clone(),
        invited_by: Some(caller.id().to_owned()),
        created_at: now,
        expires_at: now + config.organizations.invitation_ttl_secs as i64,
        accepted_at: None,
        cancelled_at: None,
    };
    store::insert(&mut tx, &inv, &sha256_hex(token.expose_secret())).await?;
    audit::record_in(
        &mut tx,
        &app,
        now,
        AuditEvent::new("organization.invitation_sent")
            .actor(caller.id())
            .target(&inv.id)
            .organization(&id)
            .client(&client)
            .data(serde_json::json!({ "email": inv.email.as_str(), "role": inv.role })),
    )
    .await?;
    tx.commit().await?;
    mail_invitation(
        &app,
        &inv,
        &token,
        &actor.organization.name,
        caller.display_name(),
    );
    Ok((StatusCode::CREATED, axum::Json(inv.view(now))))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvitationList {
    pub data: Vec<InvitationView>,
}

/// Open invitations (pending or expired, not accepted or cancelled); needs `members:read`.
#[utoipa::path(get, path = "/v1/organizations/{id}/invitations", tag = "invitations", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = InvitationList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_invitations(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path(id): Path<String>,
) -> Result<axum::Json<InvitationList>> {
    let (mut tx, _) = enter(&app, &id, false, &caller, &client, Some("members:read")).await?;
    let open = store::list_open(&mut tx, &id).await?;
    tx.commit().await?;
    let now = app.clock.now();
    Ok(axum::Json(InvitationList {
        data: open.iter().map(|i| i.view(now)).collect(),
    }))
}

/// Cancel an open invitation (needs `members:invite`); its link stops working.
#[utoipa::path(delete, path = "/v1/organizations/{id}/invitations/{invitation_id}", tag = "invitations", security(("bearer" = [])),
    params(("id" = String, Path), ("invitation_id" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn cancel_invitation(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path((id, invitation_id)): Path<(String, String)>,
) -> Result<StatusCode> {
    let (mut tx, _) = enter(&app, &id, true, &caller, &client, Some("members:invite")).await?;
    store::find(&mut tx, &id, &invitation_id)
        .await?
        .ok_or(Error::NotFound("invitation"))?;
    let now = app.clock.now();
    if !store::cancel(&mut tx, &id, &invitation_id, now).await? {
        return Err(Error::Conflict("the invitation is no longer open".into()));
    }
    audit::record_in(
        &mut tx,
        &app,
        now,
        AuditEvent::new("organization.invitation_cancelled")
            .actor(caller.id())
            .target(&invitation_id)
            .organization(&id)
            .client(&client),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Send an open invitation again with a new link and a new expiry (needs `members:invite`).
#[utoipa::path(post, path = "/v1/organizations/{id}/invitations/{invitation_id}/resend", tag = "invitations", security(("bearer" = [])),
    params(("id" = String, Path), ("invitation_id" = String, Path)),
    responses((status = 200, body = InvitationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn resend_invitation(
    State(app): State<AppState>,
    caller: Caller,
    client: Client,
    Path((id, invitation_id)): Path<(String, String)>,
) -> Result<axum::Json<InvitationView>> {
    let (mut tx, actor) = enter(&app, &id, true, &caller, &client, Some("members:invite")).await?;
    let mut inv = store::find(&mut tx, &id, &invitation_id)
        .await?
        .ok_or(Error::NotFound("invitation"))?;
    if inv.accepted_at.is_some() || inv.cancelled_at.is_some() {
        return Err(Error::Conflict("the invitation is no longer open".into()));
    }
    let now = app.clock.now();
    let token = random_secret("inv_", 32);
    inv.expires_at = now + app.config.load().organizations.invitation_ttl_secs as i64;
    store::renew(
        &mut tx,
        &id,
        &inv.id,
        &sha256_hex(token.expose_secret()),
        inv.expires_at,
    )
    .await?;
    audit::record_in(
        &mut tx,
        &app,
        now,
        AuditEvent::new("organization.invitation_resent")
            .actor(caller.id())
            .target(&inv.id)
            .organization(&id)
            .client(&client),
    )
    .await?;
    tx.commit().await?;
    mail_invitation(
        &app,
        &inv,
        &token,
        &actor.organization.name,
        caller.display_name(),
    );
    Ok(axum::Json(inv.view(now)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupInvitationRequest {
    token: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InvitationPreview {
    pub organization: OrganizationView,
    pub role: String,
    pub email: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
    /// Whether the invited address has an account: sign in to accept, or create one.
    pub account_exists: bool,
}

/// What an invitation link is for, before accepting it: the organization, the role and the
/// invited address. The token is the credential (only its mailbox has it); unusable tokens
/// answer `400 invalid_grant` with the reason.
#[utoipa::path(post, path = "/v1/invitations/lookup", tag = "invitations", request_body = LookupInvitationRequest,
    responses((status = 200, body = InvitationPreview), (status = 400, body = ErrorBody)))]
async fn lookup_invitation(
    State(app): State<AppState>,
    Json(req): Json<LookupInvitationRequest>,
) -> Result<axum::Json<InvitationPreview>> {
    let super::Preview {
        invitation: inv,
        organization: org,
        account_exists,
    } = super::preview(&app, &req.token).await?;
    Ok(axum::Json(InvitationPreview {
        organization: org.view(),
        role: inv.role,
        email: inv.email.as_str().to_owned(),
        expires_at: crate::clock::rfc3339(inv.expires_at),
        account_exists,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitationRequest {
    token: String,
    /// For someone without an account: the password of the account created on acceptance.
    #[schema(value_type = Option<String>, format = Password, min_length = 8, max_length = 256)]
    password: Option<SecretString>,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    name: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AcceptedInvitation {
    pub organization: OrganizationView,
    pub role: String,
    /// Present when the call created the account: its first session, working in the organization.
    pub session: Option<TokenResponse>,
}

/// Accept an invitation. Signed in (bearer token) as the invited address: join. Not signed in
/// and without an account: give `password` (and `name`) to sign up and join in one call, the
/// answer then carries a session. Not signed in but the address has an account: `401`, sign in
/// first.
#[utoipa::path(post, path = "/v1/invitations/accept", tag = "invitations", request_body = AcceptInvitationRequest,
    responses((status = 200, body = AcceptedInvitation), (status = 201, body = AcceptedInvitation), (status = 400, body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn accept_invitation(
    State(app): State<AppState>,
    auth: Option<Authenticated>,
    client: Client,
    Json(req): Json<AcceptInvitationRequest>,
) -> Result<(StatusCode, axum::Json<AcceptedInvitation>)> {
    let super::Accepted {
        user,
        organization: org,
        role,
        created,
    } = super::accept(
        &app,
        auth.as_ref().map(|a| &a.user),
        &req.token,
        req.password.as_ref(),
        req.name.as_deref(),
        &client,
    )
    .await?;
    let session = if created {
        Some(sessions::start(&app, &user, &["pwd"], &client, Some(&org.id)).await?)
    } else {
        None
    };
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        axum::Json(AcceptedInvitation {
            organization: org.view(),
            role,
            session,
        }),
    ))
}
