//! Sessions and their refresh-token families. A session is one sign-in on one device; its
//! refresh tokens form a family (RFC 9700): each use rotates the token, and presenting a
//! rotated token again revokes the whole family.

pub mod browser;
pub mod routes;
mod store;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::App;
use crate::audit::{self, AuditEvent};
use crate::clock::{UnixTime, rfc3339};
use crate::crypto::{random_secret, sha256_hex};
use crate::db::{Db, Scope};
use crate::error::{Error, Result};
use crate::http::Client;
use crate::tokens::OrgContext;
use crate::users::{User, UserView, store as users};

pub use store::list_for_user;
pub(crate) use store::{revoke, revoke_all_for_user};

/// A session a revocation ended: a sign-in (`parent_id` none) or an application's grant
/// under one.
#[derive(Debug, Clone)]
pub struct Ended {
    pub id: String,
    pub user_id: String,
    pub parent_id: Option<String>,
    pub client_id: Option<String>,
}

/// Revokes an application's grant (its refresh family), not the sign-in it lives under: no
/// other application is told. Sign-ins end through [`crate::logout`]. Returns false if it was
/// not live.
pub async fn revoke_grant(db: &Db, id: &str, reason: &str, now: UnixTime) -> sqlx::Result<bool> {
    Ok(!store::revoke(db, id, reason, now).await?.is_empty())
}

/// Refresh tokens carry 256 bits of randomness.
const REFRESH_TOKEN_BYTES: usize = 32;
const REFRESH_TOKEN_PREFIX: &str = "rt_";

#[derive(Debug, Clone)]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub amr: Vec<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: UnixTime,
    pub last_active_at: UnixTime,
    pub expires_at: UnixTime,
    pub revoked_at: Option<UnixTime>,
    /// The organization this session works in; carried into every access token.
    pub org_id: Option<String>,
    /// Set when this session is an application's grant under a sign-in.
    pub grant: Option<Grant>,
}

/// What makes a session an application's grant: the sign-in (browser session) it lives under,
/// the application, and the scope the user granted it.
#[derive(Debug, Clone)]
pub struct Grant {
    pub parent_id: String,
    pub client_id: String,
    pub scope: String,
}

/// Who may redeem a session's refresh tokens: the JSON API's own clients hold sign-ins, an
/// application holds its grants. A token presented by another holder is unknown to it.
#[derive(Debug, Clone, Copy)]
pub enum Holder<'a> {
    FirstParty,
    Application(&'a str),
}

impl Holder<'_> {
    fn holds(self, session: &Session) -> bool {
        match (self, &session.grant) {
            (Holder::FirstParty, None) => true,
            (Holder::Application(id), Some(grant)) => grant.client_id == id,
            _ => false,
        }
    }
}

impl Session {
    pub fn is_live(&self, now: UnixTime) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// What signup, login, email verification and refresh return.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub user: UserView,
    pub access_token: String,
    /// Opaque; rotate it through `/v1/auth/refresh`. Shown once.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Lifetime of the access token in seconds.
    pub expires_in: i64,
}

impl std::fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("user", &self.user.id)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for IssuedRefresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IssuedRefresh(..)")
    }
}

/// A refresh token just issued (shown once).
pub struct IssuedRefresh(SecretString);

impl IssuedRefresh {
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

/// A fresh session id.
pub fn new_id() -> String {
    format!("ses_{}", uuid::Uuid::now_v7().simple())
}

fn new_refresh_token() -> (IssuedRefresh, String) {
    let token = random_secret(REFRESH_TOKEN_PREFIX, REFRESH_TOKEN_BYTES);
    let hash = sha256_hex(token.expose_secret());
    (IssuedRefresh(token), hash)
}

/// The session's organization context, if it still holds: a membership that ended drops it.
pub async fn org_context(app: &App, session: &Session) -> Result<Option<OrgContext>> {
    let Some(org_id) = &session.org_id else {
        return Ok(None);
    };
    let mut tx = app.db.scoped(Scope::Organization(org_id), false).await?;
    let access = crate::orgs::resolve(app, &mut tx, org_id, &session.user_id).await?;
    tx.commit().await?;
    match access {
        Some(access) => Ok(Some(OrgContext::from(&access))),
        None => {
            store::set_org(&app.db, &session.id, None).await?;
            Ok(None)
        }
    }
}

/// Checks that `user_id` may work in `org_id` (a member); `404` otherwise.
pub async fn ensure_member(app: &App, user_id: &str, org_id: &str) -> Result<()> {
    let mut tx = app.db.scoped(Scope::Organization(org_id), false).await?;
    let member = crate::orgs::store::find_membership(&mut tx, org_id, user_id)
        .await?
        .is_some();
    tx.commit().await?;
    if member {
        Ok(())
    } else {
        Err(Error::NotFound("organization"))
    }
}

/// Makes `org_id` (or none) the session's organization.
pub async fn set_org(app: &App, session: &mut Session, org_id: Option<&str>) -> Result<()> {
    store::set_org(&app.db, &session.id, org_id).await?;
    session.org_id = org_id.map(str::to_owned);
    Ok(())
}

async fn respond(
    app: &App,
    user: &User,
    session: &Session,
    refresh: IssuedRefresh,
) -> Result<TokenResponse> {
    let org = org_context(app, session).await?;
    let (access_token, expires_in) = crate::tokens::issue(app, user, session, org.as_ref())?;
    Ok(TokenResponse {
        user: user.view(app.clock.now()),
        access_token,
        refresh_token: refresh.0.expose_secret().to_owned(),
        token_type: "Bearer",
        expires_in,
    })
}

/// Starts a session for `user` authenticated by `amr`, working in `org_id` (already checked to
/// be one of the user's organizations), and returns its first tokens.
pub async fn start(
    app: &App,
    user: &User,
    amr: &[&str],
    client: &Client,
    org_id: Option<&str>,
) -> Result<TokenResponse> {
    let (session, refresh) = create(app, user, amr, client, org_id).await?;
    let user = User {
        last_login_at: Some(session.created_at),
        ..user.clone()
    };
    respond(app, &user, &session, refresh).await
}

/// Starts a session for `user` authenticated by `amr` without handing out tokens: the hosted
/// sign-in's browser session, from which OpenID Connect clients get theirs.
pub async fn begin(app: &App, user: &User, amr: &[&str], client: &Client) -> Result<Session> {
    Ok(create(app, user, amr, client, None).await?.0)
}

async fn create(
    app: &App,
    user: &User,
    amr: &[&str],
    client: &Client,
    org_id: Option<&str>,
) -> Result<(Session, IssuedRefresh)> {
    let now = app.clock.now();
    let session = Session {
        id: new_id(),
        user_id: user.id.clone(),
        amr: amr.iter().map(|s| (*s).to_owned()).collect(),
        ip: client.ip.map(|ip| ip.to_string()),
        user_agent: client.user_agent.clone(),
        created_at: now,
        last_active_at: now,
        expires_at: now + app.config.load().tokens.session_lifetime_secs as i64,
        revoked_at: None,
        org_id: org_id.map(str::to_owned),
        grant: None,
    };
    let (refresh, hash) = new_refresh_token();
    store::insert(&app.db, &session, &hash).await?;
    users::record_login(&app.db, &user.id, now).await?;
    Ok((session, refresh))
}

/// Starts the grant `client_id` holds under the sign-in `parent` for `scope`, working in
/// `org_id` (checked by the caller): a session with the id `id`, the sign-in's methods and
/// expiry, and a refresh family of its own.
pub async fn grant(
    app: &App,
    parent: &Session,
    id: &str,
    client_id: &str,
    scope: &str,
    org_id: Option<&str>,
) -> Result<(Session, IssuedRefresh)> {
    let now = app.clock.now();
    let session = Session {
        id: id.to_owned(),
        user_id: parent.user_id.clone(),
        amr: parent.amr.clone(),
        ip: parent.ip.clone(),
        user_agent: parent.user_agent.clone(),
        created_at: now,
        last_active_at: now,
        expires_at: parent.expires_at,
        revoked_at: None,
        org_id: org_id.map(str::to_owned),
        grant: Some(Grant {
            parent_id: parent.id.clone(),
            client_id: client_id.to_owned(),
            scope: scope.to_owned(),
        }),
    };
    let (refresh, hash) = new_refresh_token();
    store::insert(&app.db, &session, &hash).await?;
    Ok((session, refresh))
}

/// A refresh token redeemed: the session (with its organization switched if asked), its
/// user, and the token that replaces the one presented.
pub struct Rotated {
    pub session: Session,
    pub user: User,
    pub refresh: IssuedRefresh,
}

/// Exchanges a refresh token for a new access token and a new refresh token, optionally
/// switching the session to `org_id`.
pub async fn refresh(
    app: &App,
    presented: &str,
    client: &Client,
    org_id: Option<&str>,
) -> Result<TokenResponse> {
    let rotated = rotate(app, presented, Holder::FirstParty, client, org_id).await?;
    respond(app, &rotated.user, &rotated.session, rotated.refresh).await
}

/// Redeems a refresh token of `holder`: checks the session (live, not idle, user not banned),
/// detects reuse (a rotated token presented again past the leeway revokes the family), and
/// rotates it. Every refusal is the same `invalid_grant`, except a banned user's.
pub async fn rotate(
    app: &App,
    presented: &str,
    holder: Holder<'_>,
    client: &Client,
    org_id: Option<&str>,
) -> Result<Rotated> {
    const INVALID: Error = Error::InvalidGrant("the refresh token is invalid, expired or revoked");
    if !presented.starts_with(REFRESH_TOKEN_PREFIX) || presented.len() > 128 {
        return Err(INVALID);
    }
    let now = app.clock.now();
    let hash = sha256_hex(presented);
    let Some((mut session, used_at)) = store::find_by_refresh(&app.db, &hash).await? else {
        return Err(INVALID);
    };
    // Another holder's token is unknown to this one: refused without touching it.
    if !holder.holds(&session) || !session.is_live(now) {
        return Err(INVALID);
    }
    let idle_timeout = app.config.load().tokens.session_idle_timeout_secs;
    if let Some(idle) = idle_timeout
        && now - session.last_active_at > idle as i64
    {
        store::revoke(&app.db, &session.id, "idle_timeout", now).await?;
        return Err(INVALID);
    }
    if let Some(used_at) = used_at {
        let leeway = app.config.load().tokens.refresh_reuse_leeway_secs as i64;
        // Within the leeway a replay is refused quietly (a client's double submit); past it,
        // the token was stolen or leaked and the family dies.
        if now - used_at >= leeway {
            reuse_detected(app, &session, client).await?;
        }
        return Err(INVALID);
    }
    let Some(user) = users::find(&app.db, &session.user_id).await? else {
        return Err(INVALID);
    };
    if user.is_banned(now) {
        store::revoke(&app.db, &session.id, "user_banned", now).await?;
        return Err(Error::UserBanned);
    }
    // Checked before rotating, so that a wrong organization does not use up the token.
    if let Some(org_id) = org_id {
        ensure_member(app, &user.id, org_id).await?;
    }
    let (next, next_hash) = new_refresh_token();
    if !store::rotate(
        &app.db,
        &hash,
        &next_hash,
        (&session.id, session.last_active_at),
        now,
    )
    .await?
    {
        // Another request rotated this token a moment ago: it wins, this one gets nothing. A
        // later replay of the token is reuse and revokes the family.
        return Err(INVALID);
    }
    if let Some(org_id) = org_id {
        set_org(app, &mut session, Some(org_id)).await?;
    }
    Ok(Rotated {
        session,
        user,
        refresh: next,
    })
}

async fn reuse_detected(app: &App, session: &Session, client: &Client) -> Result<()> {
    let now = app.clock.now();
    store::revoke(&app.db, &session.id, "refresh_token_reuse", now).await?;
    tracing::warn!(session_id = %session.id, user_id = %session.user_id, "refresh token reuse; session revoked");
    audit::record(
        app,
        now,
        AuditEvent::new("auth.refresh_token_reused")
            .actor(&session.user_id)
            .target(&session.id)
            .client(client),
    )
    .await
}

/// The session of `holder` a refresh token belongs to, without consuming it (for revocation
/// and introspection), with whether the token is still the family's current one.
pub async fn find_by_refresh_token(
    app: &App,
    presented: &str,
    holder: Holder<'_>,
) -> Result<Option<(Session, bool)>> {
    if !presented.starts_with(REFRESH_TOKEN_PREFIX) || presented.len() > 128 {
        return Ok(None);
    }
    Ok(store::find_by_refresh(&app.db, &sha256_hex(presented))
        .await?
        .filter(|(s, _)| holder.holds(s))
        .map(|(s, used_at)| (s, used_at.is_none())))
}

pub async fn find(app: &App, id: &str) -> Result<Option<Session>> {
    Ok(store::find(&app.db, id).await?)
}

/// A session as its owner sees it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub id: String,
    pub current: bool,
    pub amr: Vec<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub last_active_at: String,
    #[schema(format = DateTime)]
    pub expires_at: String,
}

impl Session {
    pub fn view(&self, current_sid: &str) -> SessionView {
        SessionView {
            id: self.id.clone(),
            current: self.id == current_sid,
            amr: self.amr.clone(),
            ip: self.ip.clone(),
            user_agent: self.user_agent.clone(),
            created_at: rfc3339(self.created_at),
            last_active_at: rfc3339(self.last_active_at),
            expires_at: rfc3339(self.expires_at),
        }
    }
}
