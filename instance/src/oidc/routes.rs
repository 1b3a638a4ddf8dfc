//! `/.well-known/openid-configuration`, `GET /oauth2/authorize`, `GET|POST /oauth2/userinfo`
//! (and, from [`super::token`] and [`super::login`], the token endpoint and hosted sign-in page;
//! CORS on token, revoke and userinfo from [`super::cors`]).

use std::collections::HashMap;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::cors;
use super::error::OAuthError;
use super::{AuthorizationRequest, SCOPES, UserClaims, is_pkce_value, issuer};
use crate::AppState;
use crate::applications::{self, Application};
use crate::pages::{Language, Look, error};
use crate::sessions::browser;
use crate::users::store as users;

/// The documented routes (the discovery document).
pub fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openid_configuration))
}

/// The protocol endpoints and the hosted sign-in page, which speak OAuth's form and redirect
/// conventions (and HTML) rather than the JSON API's.
pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/oauth2/authorize", get(authorize))
        .route(
            "/oauth2/token",
            post(super::token::token).options(cors::preflight),
        )
        .route(
            "/oauth2/userinfo",
            get(userinfo).post(userinfo).options(cors::preflight),
        )
        .route(
            "/oauth2/revoke",
            post(super::revocation::revoke).options(cors::preflight),
        )
        .route("/oauth2/introspect", post(super::revocation::introspect))
        .route(
            "/oauth2/logout",
            get(super::logout::get).post(super::logout::post),
        )
        .route("/login", get(super::login::show).post(super::login::submit))
        .route(
            "/signup",
            get(super::signup::show).post(super::signup::submit),
        )
        .route(
            "/forgot-password",
            get(super::forgot::show).post(super::forgot::submit),
        )
        .route(
            "/consent",
            get(super::consent::show).post(super::consent::submit),
        )
        .route(
            "/choose-organization",
            get(super::choose_organization::show).post(super::choose_organization::submit),
        )
}

/// OpenID Provider metadata (OpenID Connect Discovery 1.0, RFC 8414): only what is implemented.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProviderMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    pub jwks_uri: String,
    pub revocation_endpoint: String,
    pub introspection_endpoint: String,
    pub end_session_endpoint: String,
    pub scopes_supported: Vec<&'static str>,
    pub response_types_supported: Vec<&'static str>,
    pub response_modes_supported: Vec<&'static str>,
    pub grant_types_supported: Vec<&'static str>,
    pub code_challenge_methods_supported: Vec<&'static str>,
    pub token_endpoint_auth_methods_supported: Vec<&'static str>,
    pub revocation_endpoint_auth_methods_supported: Vec<&'static str>,
    pub introspection_endpoint_auth_methods_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub prompt_values_supported: Vec<&'static str>,
    pub claims_supported: Vec<&'static str>,
    /// The languages the hosted pages speak here (`ui_locales`).
    pub ui_locales_supported: Vec<&'static str>,
    pub authorization_response_iss_parameter_supported: bool,
    /// OpenID Connect Back-Channel Logout 1.0: applications with a `backchannel_logout_uri`
    /// get a logout token when a sign-in ends, and it carries `sid`.
    pub backchannel_logout_supported: bool,
    pub backchannel_logout_session_supported: bool,
}

/// OpenID discovery document.
#[utoipa::path(get, path = "/.well-known/openid-configuration", tag = "discovery",
    responses((status = 200, body = ProviderMetadata)))]
async fn openid_configuration(State(app): State<AppState>) -> axum::Json<ProviderMetadata> {
    let issuer = issuer(&app);
    axum::Json(ProviderMetadata {
        authorization_endpoint: format!("{issuer}/oauth2/authorize"),
        token_endpoint: format!("{issuer}/oauth2/token"),
        userinfo_endpoint: format!("{issuer}/oauth2/userinfo"),
        jwks_uri: format!("{issuer}/.well-known/jwks.json"),
        revocation_endpoint: format!("{issuer}/oauth2/revoke"),
        introspection_endpoint: format!("{issuer}/oauth2/introspect"),
        end_session_endpoint: format!("{issuer}/oauth2/logout"),
        scopes_supported: SCOPES.to_vec(),
        response_types_supported: vec!["code"],
        response_modes_supported: vec!["query"],
        grant_types_supported: vec!["authorization_code", "refresh_token", "client_credentials"],
        code_challenge_methods_supported: vec!["S256"],
        token_endpoint_auth_methods_supported: vec![
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        revocation_endpoint_auth_methods_supported: vec![
            "client_secret_basic",
            "client_secret_post",
            "none",
        ],
        introspection_endpoint_auth_methods_supported: vec![
            "client_secret_basic",
            "client_secret_post",
        ],
        subject_types_supported: vec!["public"],
        id_token_signing_alg_values_supported: vec!["RS256"],
        prompt_values_supported: prompt_values(&app),
        claims_supported: vec![
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "at_hash",
            "amr",
            "sid",
            "org_id",
            "org_slug",
            "email",
            "email_verified",
            "name",
        ],
        ui_locales_supported: crate::pages::language::offered(&app.config.load().i18n)
            .into_iter()
            .map(Language::tag)
            .collect(),
        authorization_response_iss_parameter_supported: true,
        backchannel_logout_supported: true,
        backchannel_logout_session_supported: true,
        issuer,
    })
}

/// The `prompt` values offered: `create` only where new users may sign up.
fn prompt_values(app: &AppState) -> Vec<&'static str> {
    let mut values = vec!["none", "login", "consent", "select_account"];
    if crate::auth::signup::available(&app.config.load()) {
        values.push("create");
    }
    values
}

/// The page for a request that cannot be sent back to the client: it is not known who sent it
/// or where the answer may go.
/// The reason (`message`) is for the application's developer, in English.
fn refused(look: &Look, message: &str) -> Response {
    let text = look.text();
    look.page(
        StatusCode::BAD_REQUEST,
        text.request_refused,
        &format!("{}<p>{}</p>", error(message), text.request_refused_hint),
    )
}

/// An error answered to the client at its redirect URI.
struct Rejection<'a> {
    redirect_uri: &'a str,
    state: Option<&'a str>,
    iss: String,
}

impl Rejection<'_> {
    fn send(&self, code: &str, description: &str) -> Response {
        let mut params = vec![
            ("error", code),
            ("error_description", description),
            ("iss", self.iss.as_str()),
        ];
        if let Some(state) = self.state {
            params.push(("state", state));
        }
        Redirect::to(&super::redirect_with(self.redirect_uri, &params)).into_response()
    }
}

async fn authorize(
    State(app): State<AppState>,
    look: Look,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let mut params: HashMap<String, String> = HashMap::new();
    let mut repeated = None;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        if params
            .insert(name.to_string(), value.into_owned())
            .is_some()
        {
            repeated.get_or_insert(name.to_string());
        }
    }
    let look = look.with_ui_locales(&app, params.get("ui_locales").map(String::as_str));
    if matches!(repeated.as_deref(), Some("client_id" | "redirect_uri")) {
        return refused(
            &look,
            "The request names its application or return address twice.",
        );
    }
    let client_id = params.get("client_id").map(String::as_str).unwrap_or("");
    let client = match applications::store::find(&app.db, client_id).await {
        Ok(Some(client)) => client,
        Ok(None) => return refused(&look, "The request names no application known here."),
        Err(err) => return crate::error::Error::from(err).into_response(),
    };
    let Some(redirect_uri) = params
        .get("redirect_uri")
        .filter(|uri| client.allows_redirect(&app.config.load(), uri))
    else {
        return refused(
            &look,
            "The request's return address is not one registered for this application.",
        );
    };
    let reject = Rejection {
        redirect_uri,
        state: params.get("state").map(String::as_str),
        iss: issuer(&app),
    };
    if let Some(name) = repeated {
        return reject.send(
            "invalid_request",
            &format!("{name} is given more than once"),
        );
    }
    match validate(&client, redirect_uri, &params) {
        Ok(checked) => match start(&app, &headers, checked).await {
            Ok(Ok(response)) => response,
            Ok(Err((code, description))) => reject.send(code, description),
            Err(err) => err.into_response(),
        },
        Err((code, description)) => reject.send(code, &description),
    }
}

/// A validated request and the prompt, max_age and login_hint that steer it.
struct Checked {
    request: AuthorizationRequest,
    prompt_none: bool,
    prompt_login: bool,
    /// `prompt=create` (OpenID Connect Prompt Create): show the sign-up page, even to a
    /// signed-in user.
    prompt_create: bool,
    max_age: Option<i64>,
    login_hint: Option<String>,
}

fn validate(
    client: &Application,
    redirect_uri: &str,
    params: &HashMap<String, String>,
) -> Result<Checked, (&'static str, String)> {
    let get = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let invalid = |description: &str| ("invalid_request", description.to_owned());
    if params.contains_key("request") {
        return Err((
            "request_not_supported",
            "request objects are not supported".into(),
        ));
    }
    if params.contains_key("request_uri") {
        return Err((
            "request_uri_not_supported",
            "request_uri is not supported".into(),
        ));
    }
    match get("response_type") {
        None => return Err(invalid("response_type is required")),
        Some("code") => {}
        Some(_) => {
            return Err((
                "unsupported_response_type",
                "response_type must be code".into(),
            ));
        }
    }
    if get("response_mode").is_some_and(|m| m != "query") {
        return Err(invalid("response_mode must be query"));
    }
    let asked: Vec<&str> = get("scope").unwrap_or("").split(' ').collect();
    if !asked.contains(&"openid") {
        return Err(("invalid_scope", "scope must include openid".into()));
    }
    let scope = SCOPES
        .iter()
        .filter(|s| asked.contains(s))
        .map(|s| (*s).to_owned())
        .collect();
    let code_challenge = match (get("code_challenge"), get("code_challenge_method")) {
        (None, None) if client.kind.is_confidential() => None,
        (None, _) => return Err(invalid("PKCE is required: send code_challenge with S256")),
        (Some(challenge), Some("S256")) if is_pkce_value(challenge) => Some(challenge.to_owned()),
        (Some(_), Some("S256")) => return Err(invalid("code_challenge is malformed")),
        (Some(_), _) => return Err(invalid("code_challenge_method must be S256")),
    };
    let prompts: Vec<&str> = get("prompt")
        .unwrap_or("")
        .split(' ')
        .filter(|p| !p.is_empty())
        .collect();
    if let Some(unknown) = prompts.iter().find(|p| {
        !matches!(
            **p,
            "none" | "login" | "consent" | "select_account" | "create"
        )
    }) {
        return Err(invalid(&format!("prompt value {unknown} is not supported")));
    }
    let prompt_none = prompts.contains(&"none");
    if prompt_none && prompts.len() > 1 {
        return Err(invalid("prompt=none cannot be combined with other values"));
    }
    let max_age = match get("max_age") {
        None => None,
        Some(text) => match text.parse::<u32>() {
            Ok(age) => Some(i64::from(age)),
            Err(_) => return Err(invalid("max_age must be a non-negative integer")),
        },
    };
    let state = get("state").map(str::to_owned);
    let nonce = get("nonce").map(str::to_owned);
    let organization = get("organization").map(str::to_owned);
    if organization.as_ref().is_some_and(|o| o.len() > 100) {
        return Err(invalid("organization is too long"));
    }
    if state.as_ref().is_some_and(|s| s.len() > 2048)
        || nonce.as_ref().is_some_and(|n| n.len() > 512)
    {
        return Err(invalid("state or nonce is too long"));
    }
    Ok(Checked {
        request: AuthorizationRequest {
            client_id: client.id.clone(),
            redirect_uri: redirect_uri.to_owned(),
            scope,
            state,
            nonce,
            code_challenge,
            prompt_consent: prompts.contains(&"consent"),
            organization,
            ui_locales: get("ui_locales")
                .filter(|v| v.len() <= 200)
                .map(str::to_owned),
            organization_chosen: false,
        },
        prompt_none,
        // The sign-in page is where the user picks the account, so both show it.
        prompt_login: prompts.contains(&"login") || prompts.contains(&"select_account"),
        prompt_create: prompts.contains(&"create"),
        max_age,
        login_hint: get("login_hint")
            .filter(|h| h.len() <= 254)
            .map(str::to_owned),
    })
}

/// Answers with a code when the SSO session may be used, else starts a sign-in flow (or, for
/// `prompt=none`, says that sign-in is needed).
async fn start(
    app: &AppState,
    headers: &HeaderMap,
    checked: Checked,
) -> crate::error::Result<Result<Response, (&'static str, &'static str)>> {
    let now = app.clock.now();
    let session = match browser::current(app, headers).await? {
        Some(session) => match users::find(&app.db, &session.user_id).await? {
            Some(user) if !user.is_banned(now) => Some(session),
            _ => None,
        },
        None => None,
    };
    let usable = session.filter(|s| {
        !checked.prompt_login
            && !checked.prompt_create
            && checked.max_age.is_none_or(|age| now - s.created_at <= age)
    });
    if let Some(session) = usable {
        if checked.prompt_none
            && let Some(answer) = super::page_needed(app, &checked.request, &session).await?
        {
            return Ok(Err(answer));
        }
        let location = super::authorized(app, &checked.request, &session).await?;
        return Ok(Ok(Redirect::to(&location).into_response()));
    }
    if checked.prompt_none {
        return Ok(Err(("login_required", "the user must sign in")));
    }
    let request = serde_json::to_value(&checked.request).map_err(anyhow::Error::from)?;
    let flow = crate::flow::start(app, request, checked.login_hint).await?;
    // Where sign-up is closed, `create` is not offered (discovery omits it): the sign-in page.
    let page = if checked.prompt_create && crate::auth::signup::available(&app.config.load()) {
        "signup"
    } else {
        "login"
    };
    let location = format!(
        "{}/{page}?flow={}",
        issuer(app),
        secrecy::ExposeSecret::expose_secret(&flow)
    );
    Ok(Ok(Redirect::to(&location).into_response()))
}

#[derive(Serialize)]
struct UserInfo {
    sub: String,
    #[serde(flatten)]
    claims: UserClaims,
}

async fn userinfo(State(app): State<AppState>, headers: HeaderMap) -> Response {
    match user_info(&app, &headers).await {
        Ok((info, client)) => {
            let mut response = axum::Json(info).into_response();
            super::error::no_store(&mut response);
            cors::allow(&mut response, &headers, client.as_ref());
            response
        }
        Err(err) => err.into_response(),
    }
}

/// The claims, and the application the access token was issued to (whose origins may read
/// them).
async fn user_info(
    app: &AppState,
    headers: &HeaderMap,
) -> Result<(UserInfo, Option<Application>), OAuthError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(OAuthError::invalid_token)?;
    let live = super::live_access_token(app, token)
        .await?
        .filter(|live| live.claims.has_scope("openid"))
        .ok_or_else(OAuthError::invalid_token)?;
    let client = applications::store::find(&app.db, &live.claims.client_id).await?;
    let info = UserInfo {
        sub: live.user.id.clone(),
        claims: UserClaims::for_scopes(&live.user, |s| live.claims.has_scope(s)),
    };
    Ok((info, client))
}
