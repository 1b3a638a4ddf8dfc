//! `/v1/auth/*`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::signup::{SignUp, SignedUp};
use super::{LinkRequest, ensure_password_method, limit_link_requests, queue_link_mail};
use crate::AppState;
use crate::audit::{self, AuditEvent};
use crate::error::{Error, ErrorBody, Result};
use crate::http::{Authenticated, Client, Form, Json};
use crate::passwords::Verdict;
use crate::sessions::{self, TokenResponse};

use crate::users::{EmailAddress, store as users};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(signup))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(revoke))
        .routes(routes!(forgot_password))
        .routes(routes!(reset_password))
        .routes(routes!(change_password))
        .routes(routes!(verify_email))
        .routes(routes!(resend_verification))
}

/// Answer to requests whose outcome must not reveal whether an account exists.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    pub status: &'static str,
    pub message: &'static str,
}

fn accepted(status: &'static str, message: &'static str) -> Response {
    (
        StatusCode::ACCEPTED,
        axum::Json(Accepted { status, message }),
    )
        .into_response()
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignupRequest {
    #[schema(format = Email, max_length = 254)]
    email: String,
    /// Checked against the password policy (`GET /v1/config/public`; 8 to 256 characters by
    /// default, not a common password, not the email address).
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 256)]
    password: SecretString,
    /// Required or refused per `auth.signup.fields.name`.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    name: Option<String>,
    /// E.164 (`+4915112345678`); required or refused per `auth.signup.fields.phone`.
    #[schema(pattern = r"^\+[1-9][0-9]{7,14}$")]
    phone: Option<String>,
}

/// Create an account with email and password.
///
/// With `auth.require_email_verification` on (the default) the answer is `202` for every
/// address, new or taken; the emailed link completes the signup and starts the session. With it
/// off, a new account gets its tokens at once (`201`) and a taken address `409`.
#[utoipa::path(post, path = "/v1/auth/signup", tag = "auth", request_body = SignupRequest,
    responses((status = 201, body = TokenResponse), (status = 202, body = Accepted),
              (status = 400, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn signup(
    State(app): State<AppState>,
    client: Client,
    Json(req): Json<SignupRequest>,
) -> Result<Response> {
    let request = SignUp {
        email: req.email,
        password: req.password,
        name: req.name,
        phone: req.phone,
    };
    match super::signup::sign_up(&app, &request, &client).await? {
        SignedUp::VerificationPending { .. } => Ok(accepted(
            "verification_required",
            "Check your inbox for a link to finish signing up.",
        )),
        SignedUp::Created(user) => {
            let tokens = sessions::start(&app, &user, &["pwd"], &client, None).await?;
            Ok((StatusCode::CREATED, axum::Json(tokens)).into_response())
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(format = Email, max_length = 254)]
    email: String,
    #[schema(value_type = String, format = Password)]
    password: SecretString,
    /// Start the session in this organization (the user must be a member).
    org_id: Option<String>,
}

/// Log in with email and password.
///
/// An unknown email and a wrong password get the same `401 invalid_credentials` in the same
/// time. `user_banned` and `email_not_verified` are only told to a caller who knew the password.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(app): State<AppState>,
    client: Client,
    Json(req): Json<LoginRequest>,
) -> Result<Response> {
    let config = app.config.load_full();
    ensure_password_method(&config)?;
    let email = EmailAddress::parse(&req.email)?;
    let user = super::password::verify(&app, &email, &req.password, &client).await?;
    super::password::ensure_email_verified(&app, &user)?;
    if let Some(org_id) = &req.org_id {
        sessions::ensure_member(&app, &user.id, org_id).await?;
    }
    super::password::succeeded(&app, &user, &client).await?;
    Ok(
        axum::Json(sessions::start(&app, &user, &["pwd"], &client, req.org_id.as_deref()).await?)
            .into_response(),
    )
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    refresh_token: String,
    /// Switch the session to this organization (the user must be a member).
    org_id: Option<String>,
}

/// Exchange a refresh token for new tokens; the presented token is used up.
///
/// Presenting a token that was already rotated revokes its whole session (the refresh family).
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn refresh(
    State(app): State<AppState>,
    client: Client,
    Json(req): Json<RefreshRequest>,
) -> Result<axum::Json<TokenResponse>> {
    Ok(axum::Json(
        sessions::refresh(&app, &req.refresh_token, &client, req.org_id.as_deref()).await?,
    ))
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LogoutRequest {
    /// `local` (default) ends this session; `global` ends every session of the user.
    #[serde(default)]
    scope: LogoutScope,
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum LogoutScope {
    #[default]
    Local,
    Global,
}

/// End the current session, or with `{"scope":"global"}` all of the user's sessions.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", request_body(content = Option<LogoutRequest>),
    security(("bearer" = [])), responses((status = 204), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
async fn logout(
    State(app): State<AppState>,
    auth: Authenticated,
    client: Client,
    body: Bytes,
) -> Result<StatusCode> {
    let req: LogoutRequest = crate::http::optional_json(&body)?;
    let now = app.clock.now();
    let ended = match req.scope {
        LogoutScope::Local => {
            u64::from(crate::logout::end(&app, &auth.session.id, "logout", now).await?)
        }
        LogoutScope::Global => {
            crate::logout::end_all_for_user(&app, &auth.user.id, None, "logout_global", now).await?
        }
    };
    audit::record(
        &app,
        now,
        AuditEvent::new("auth.logout")
            .actor(&auth.user.id)
            .target(&auth.session.id)
            .client(&client)
            .data(serde_json::json!({ "sessions_ended": ended })),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct RevokeRequest {
    token: String,
    #[allow(dead_code)]
    token_type_hint: Option<String>,
}

/// Revoke a refresh or access token (RFC 7009); either ends the session it belongs to.
///
/// Answers `200` whether or not the token was known, as the RFC requires.
#[utoipa::path(post, path = "/v1/auth/revoke", tag = "auth",
    request_body(content = RevokeRequest, content_type = "application/x-www-form-urlencoded"),
    responses((status = 200), (status = 400, body = ErrorBody), (status = 415, body = ErrorBody)))]
async fn revoke(
    State(app): State<AppState>,
    client: Client,
    Form(req): Form<RevokeRequest>,
) -> Result<StatusCode> {
    let session = if req.token.starts_with("rt_") {
        sessions::find_by_refresh_token(&app, &req.token, sessions::Holder::FirstParty)
            .await?
            .map(|(session, _)| session)
    } else {
        match crate::tokens::verify(&app, &req.token).await {
            Ok(claims) => sessions::find(&app, &claims.sid).await?,
            Err(_) => None,
        }
    };
    if let Some(session) = session {
        let now = app.clock.now();
        if crate::logout::end(&app, &session.id, "revoked", now).await? {
            audit::record(
                &app,
                now,
                AuditEvent::new("auth.token_revoked")
                    .actor(&session.user_id)
                    .target(&session.id)
                    .client(&client),
            )
            .await?;
        }
    }
    Ok(StatusCode::OK)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmailRequest {
    #[schema(format = Email, max_length = 254)]
    email: String,
}

/// Ask for a password-reset link. Always `202`, whether or not the address has an account.
#[utoipa::path(post, path = "/v1/auth/password/forgot", tag = "auth", request_body = EmailRequest,
    responses((status = 202, body = Accepted), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn forgot_password(
    State(app): State<AppState>,
    client: Client,
    Json(req): Json<EmailRequest>,
) -> Result<Response> {
    let email = EmailAddress::parse(&req.email)?;
    let mut response = accepted(
        "ok",
        "If an account exists for this address, a reset link is on its way.",
    );
    super::request_password_reset(&app, email, &client, &mut response).await?;
    Ok(response)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    token: String,
    /// Checked against the password policy, like at sign-up.
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 256)]
    password: SecretString,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Done {
    pub status: &'static str,
}

/// Set a new password with the token from the reset mail. Ends every session of the user.
#[utoipa::path(post, path = "/v1/auth/password/reset", tag = "auth", request_body = ResetPasswordRequest,
    responses((status = 200, body = Done), (status = 400, body = ErrorBody)))]
async fn reset_password(
    State(app): State<AppState>,
    client: Client,
    Json(req): Json<ResetPasswordRequest>,
) -> Result<axum::Json<Done>> {
    super::reset_password(&app, &req.token, &req.password, &client).await?;
    Ok(axum::Json(Done {
        status: "password_reset",
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// Required when the account has a password.
    #[schema(value_type = Option<String>, format = Password)]
    current_password: Option<SecretString>,
    /// Checked against the password policy, like at sign-up.
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 256)]
    new_password: SecretString,
}

/// Change the password of the signed-in user. Ends the user's other sessions.
#[utoipa::path(post, path = "/v1/auth/password/change", tag = "auth", request_body = ChangePasswordRequest,
    security(("bearer" = [])),
    responses((status = 200, body = Done), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn change_password(
    State(app): State<AppState>,
    auth: Authenticated,
    client: Client,
    Json(req): Json<ChangePasswordRequest>,
) -> Result<axum::Json<Done>> {
    let config = app.config.load_full();
    let account_key = format!("login:account:{}", auth.user.email.canonical());
    if let Some(stored) = auth.user.password_hash.as_deref() {
        let current = req
            .current_password
            .as_ref()
            .ok_or_else(|| Error::invalid("current_password is required"))?;
        let attempt = app
            .limits
            .reserve(&[(&account_key, config.rate_limits.failed_logins_per_account)])
            .await?;
        if app.passwords.verify(current, Some(stored)).await? == Verdict::Mismatch {
            drop(attempt);
            return Err(Error::InvalidCredentials);
        }
        app.limits.release(attempt).await;
    }
    app.passwords.check_policy(
        &config.passwords,
        &req.new_password,
        Some(auth.user.email.as_str()),
    )?;
    let hash = app.passwords.hash(&req.new_password).await?;
    let now = app.clock.now();
    users::set_password_hash(&app.db.writer, &auth.user.id, &hash, now).await?;
    crate::logout::end_all_for_user(
        &app,
        &auth.user.id,
        Some(&auth.session.id),
        "password_changed",
        now,
    )
    .await?;
    audit::record(
        &app,
        now,
        AuditEvent::new("auth.password_changed")
            .actor(&auth.user.id)
            .target(&auth.user.id)
            .client(&client),
    )
    .await?;
    Ok(axum::Json(Done {
        status: "password_changed",
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmailRequest {
    token: String,
}

/// Verify an email address with the token from the verification mail; starts a session.
#[utoipa::path(post, path = "/v1/auth/email/verify", tag = "auth", request_body = VerifyEmailRequest,
    responses((status = 200, body = TokenResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn verify_email(
    State(app): State<AppState>,
    client: Client,
    Json(req): Json<VerifyEmailRequest>,
) -> Result<axum::Json<TokenResponse>> {
    let user = super::verify_email(&app, &req.token, &client).await?;
    Ok(axum::Json(
        sessions::start(&app, &user, &["email"], &client, None).await?,
    ))
}

/// Send the verification mail again. Always `202`.
#[utoipa::path(post, path = "/v1/auth/email/verify/resend", tag = "auth", request_body = EmailRequest,
    responses((status = 202, body = Accepted), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn resend_verification(
    State(app): State<AppState>,
    client: Client,
    Json(req): Json<EmailRequest>,
) -> Result<Response> {
    let email = EmailAddress::parse(&req.email)?;
    limit_link_requests(&app, &client).await?;
    let mut response = accepted(
        "ok",
        "If this address awaits verification, a new link is on its way.",
    );
    queue_link_mail(&app, email, LinkRequest::Verification, &mut response);
    Ok(response)
}
