//! Extractors. Each rejects with the crate's [`Error`], so a malformed request gets the same
//! `{ "error", "message" }` body as any other failure.

use std::net::{IpAddr, SocketAddr};

use axum::body::Bytes;
use axum::extract::rejection::{FormRejection, JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::AppState;
use crate::crypto::{constant_time_eq, sha256_hex};
use crate::error::Error;
use crate::org_keys::KeyCaller;
use crate::sessions::Session;
use crate::tokens::AccessClaims;
use crate::users::User;

/// The request body limit for ordinary endpoints.
pub const BODY_LIMIT: usize = 64 * 1024;

fn body_rejection(status: StatusCode, text: String, media: &'static str) -> Error {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => Error::UnsupportedMediaType(media),
        _ => Error::InvalidRequest(text),
    }
}

/// A JSON body: an object, as every request body of the API is. Unknown fields are rejected by
/// the request types themselves.
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !utf8_or_unspecified(req.headers()) || !json_content_type(req.headers()) {
            return Err(Error::UnsupportedMediaType(
                "application/json; charset=utf-8",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            body_rejection(
                rejection.status(),
                rejection.body_text(),
                "application/json",
            )
        })?;
        // serde reads a struct from a JSON array too (`[null, null]` as its fields in order).
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(Error::invalid("the request body must be a JSON object"));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(value)) => Ok(Json(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// An optional JSON body: `None` when the request has no body at all (no `Content-Type`,
/// nothing sent), otherwise as [`Json`].
impl<S: Send + Sync, T: DeserializeOwned> axum::extract::OptionalFromRequest<S> for Json<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        if req.headers().contains_key(header::CONTENT_TYPE) {
            return <Self as FromRequest<S>>::from_request(req, state)
                .await
                .map(Some);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            body_rejection(
                rejection.status(),
                rejection.body_text(),
                "application/json",
            )
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            Ok(None)
        } else {
            Err(Error::UnsupportedMediaType(
                "application/json; charset=utf-8",
            ))
        }
    }
}

/// `application/json` or `application/*+json`, as `axum::Json` accepts.
pub fn json_content_type(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    kind.eq_ignore_ascii_case("application")
        && (subtype.eq_ignore_ascii_case("json") || subtype.to_ascii_lowercase().ends_with("+json"))
}

/// Whether the body's declared charset, if any, is UTF-8: JSON is UTF-8 (RFC 8259), and a body
/// declared otherwise (`charset=utf-16`) must be refused, not read as UTF-8.
pub fn utf8_or_unspecified(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return true;
    };
    let Ok(value) = value.to_str() else {
        return false;
    };
    value
        .split(';')
        .skip(1)
        .all(|param| match param.split_once('=') {
            Some((name, charset)) if name.trim().eq_ignore_ascii_case("charset") => {
                let charset = charset.trim().trim_matches('"');
                charset.eq_ignore_ascii_case("utf-8") || charset.eq_ignore_ascii_case("utf8")
            }
            _ => true,
        })
}

fn json_rejection(rejection: JsonRejection) -> Error {
    body_rejection(
        rejection.status(),
        rejection.body_text(),
        "application/json",
    )
}

/// An `application/x-www-form-urlencoded` body.
pub struct Form<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Form<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(req, state).await {
            Ok(axum::Form(value)) => Ok(Form(value)),
            Err(rejection) => Err(form_rejection(rejection)),
        }
    }
}

fn form_rejection(rejection: FormRejection) -> Error {
    body_rejection(
        rejection.status(),
        rejection.body_text(),
        "application/x-www-form-urlencoded",
    )
}

/// Query-string parameters.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|rejection: QueryRejection| Error::InvalidRequest(rejection.body_text()))
    }
}

/// Who is calling from where: the client IP (the socket peer, or the left-most
/// `X-Forwarded-For` entry when the instance sits behind our gateway) and the user agent.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

impl Client {
    /// The key used for per-IP limits.
    pub fn ip_key(&self) -> String {
        self.ip
            .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
    }
}

impl FromRequestParts<AppState> for Client {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let forwarded = state
            .trust_forwarded_for
            .then(|| parts.headers.get("x-forwarded-for"))
            .flatten()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse::<IpAddr>().ok());
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let user_agent = parts
            .headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|ua| ua.chars().take(512).collect());
        Ok(Client {
            ip: forwarded.or(peer),
            user_agent,
        })
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// An end user with a valid access token whose session is still live on this instance.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub claims: AccessClaims,
    pub user: User,
    pub session: Session,
}

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(Error::Unauthorized("an access token is required"))?;
        let claims = crate::tokens::verify(app, token).await?;
        let now = app.clock.now();
        let session = crate::sessions::find(app, &claims.sid)
            .await?
            .filter(|s| s.is_live(now) && s.user_id == claims.sub)
            .ok_or(Error::Unauthorized("the session has ended"))?;
        let user = crate::users::store::find(&app.db, &claims.sub)
            .await?
            .ok_or(Error::Unauthorized("the session has ended"))?;
        if user.is_banned(now) {
            return Err(Error::UserBanned);
        }
        Ok(Authenticated {
            claims,
            user,
            session,
        })
    }
}

impl axum::extract::OptionalFromRequestParts<AppState> for Authenticated {
    type Rejection = Error;

    /// No `Authorization` header: `None`. A header that does not authenticate: the error.
    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Option<Self>, Self::Rejection> {
        if !parts.headers.contains_key(header::AUTHORIZATION) {
            return Ok(None);
        }
        <Self as FromRequestParts<AppState>>::from_request_parts(parts, app)
            .await
            .map(Some)
    }
}

/// Who calls an organization-scoped route: a signed-in user, or an organization's API key
/// (`ask_org_…`, or an access token minted for one). Which organizations it may act in is
/// decided by [`crate::orgs::authorize`].
#[derive(Debug, Clone)]
pub enum Caller {
    User(Box<Authenticated>),
    Key(Box<KeyCaller>),
}

impl Caller {
    /// The actor id the audit log records: the user's id or the key's principal id.
    pub fn id(&self) -> &str {
        match self {
            Caller::User(auth) => &auth.user.id,
            Caller::Key(key) => &key.key.id,
        }
    }

    /// The signed-in user, for what only a person can do (leave, switch organization).
    pub fn user(&self) -> Result<&Authenticated, Error> {
        match self {
            Caller::User(auth) => Ok(auth),
            Caller::Key(_) => Err(Error::Forbidden(
                "this needs a signed-in user; an organization API key cannot do it",
            )),
        }
    }

    /// How invitation emails name the inviter: the user's address or the key's name.
    pub fn display_name(&self) -> &str {
        match self {
            Caller::User(auth) => auth.user.email.as_str(),
            Caller::Key(key) => &key.key.name,
        }
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).unwrap_or_default().to_owned();
        let presented_key = token.starts_with(crate::org_keys::ORG_KEY_PREFIX);
        if !presented_key && !crate::org_keys::looks_like_key_token(&token) {
            return Authenticated::from_request_parts(parts, app)
                .await
                .map(|auth| Caller::User(Box::new(auth)));
        }
        let client = Client::from_request_parts(parts, app).await?;
        let use_ = crate::org_keys::KeyUse {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            client: &client,
        };
        let caller = if presented_key {
            crate::org_keys::authenticate_key(app, &token, &use_).await?
        } else {
            crate::org_keys::authenticate_token(app, &token, &use_).await?
        };
        Ok(Caller::Key(Box::new(caller)))
    }
}

/// A caller holding an admin secret key (`Authorization: Bearer ask_admin_...`).
#[derive(Debug, Clone)]
pub struct Admin {
    pub key_id: String,
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &AppState,
    ) -> Result<Self, Self::Rejection> {
        const INVALID: Error = Error::Unauthorized("a valid admin secret key is required");
        let client = Client::from_request_parts(parts, app).await?;
        ensure_admin_ip(&app.config.load().security.admin_ip_allowlist, client.ip)?;
        let key = bearer(parts)
            .filter(|k| k.starts_with(crate::admin::ADMIN_KEY_PREFIX))
            .ok_or(INVALID)?;
        let hash = sha256_hex(key);
        let (id, stored) = crate::admin::find_key(&app.db, &hash)
            .await?
            .ok_or(INVALID)?;
        if !constant_time_eq(stored.as_bytes(), hash.as_bytes()) {
            return Err(INVALID);
        }
        Ok(Admin { key_id: id })
    }
}

/// With an allowlist configured, administration is only answered from its networks.
pub fn ensure_admin_ip(allowlist: &[String], ip: Option<IpAddr>) -> Result<(), Error> {
    if allowlist.is_empty() {
        return Ok(());
    }
    let allowed = ip.is_some_and(|ip| {
        allowlist
            .iter()
            .filter_map(|cidr| crate::config::IpNet::parse(cidr).ok())
            .any(|net| net.contains(ip))
    });
    if allowed {
        Ok(())
    } else {
        Err(Error::Refused(
            "ip_not_allowed",
            "administration is not allowed from this network".into(),
        ))
    }
}
