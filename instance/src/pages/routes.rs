//! `GET|POST /verify-email`, `/reset-password`, `/accept-invitation`: the pages mailed links
//! open (`?token=…`). Each `GET` shows what the link is for; the form's `POST` does it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use secrecy::SecretString;
use serde::Deserialize;

use super::{error, escape, form, new_password_field, page, sentence};
use crate::AppState;
use crate::error::Error;
use crate::http::{Client, Form, Query};

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route("/verify-email", get(verify_page).post(verify))
        .route("/reset-password", get(reset_page).post(reset))
        .route(
            "/accept-invitation",
            get(invitation_page).post(accept_invitation),
        )
}

#[derive(Deserialize)]
struct TokenQuery {
    #[serde(default)]
    token: String,
}

fn product(app: &AppState) -> String {
    app.config.load().mail.product_name.clone()
}

/// The page for a link that cannot be used (no token, or the action refused it).
fn problem(app: &AppState, title: &str, err: &Error) -> Response {
    let status = match err.status() {
        status if status.is_server_error() => status,
        StatusCode::TOO_MANY_REQUESTS => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::BAD_REQUEST,
    };
    let message = match err {
        Error::Internal(_) => {
            "Something went wrong on our side. Try the link again in a moment.".to_owned()
        }
        other => sentence(&other.to_string()),
    };
    page(status, &product(app), title, &error(&message))
}

fn missing_token(app: &AppState, title: &str) -> Response {
    problem(
        app,
        title,
        &Error::InvalidGrant("this link is incomplete: open it from the mail again"),
    )
}

async fn verify_page(State(app): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    const TITLE: &str = "Verify your email address";
    if q.token.is_empty() {
        return missing_token(&app, TITLE);
    }
    let body = format!(
        "<p>Confirm that this address is yours to finish setting up your {} account.</p>{}",
        escape(&product(&app)),
        form("verify-email", &q.token, "", "Verify email address")
    );
    page(StatusCode::OK, &product(&app), TITLE, &body)
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    token: String,
}

async fn verify(State(app): State<AppState>, client: Client, Form(f): Form<TokenForm>) -> Response {
    const TITLE: &str = "Verify your email address";
    match crate::auth::verify_email(&app, &f.token, &client).await {
        Ok(user) => page(
            StatusCode::OK,
            &product(&app),
            "Email address verified",
            &format!(
                "<p role=\"status\">{} is verified. You can close this page and sign in.</p>",
                escape(user.email.as_str())
            ),
        ),
        Err(err) => problem(&app, TITLE, &err),
    }
}

async fn reset_page(State(app): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    const TITLE: &str = "Choose a new password";
    if q.token.is_empty() {
        return missing_token(&app, TITLE);
    }
    let body = form(
        "reset-password",
        &q.token,
        &new_password_field(&app.config.load().passwords, "New password", false),
        "Set new password",
    );
    page(StatusCode::OK, &product(&app), TITLE, &body)
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    name: String,
}

async fn reset(
    State(app): State<AppState>,
    client: Client,
    Form(f): Form<PasswordForm>,
) -> Response {
    const TITLE: &str = "Choose a new password";
    let password = SecretString::from(f.password);
    match crate::auth::reset_password(&app, &f.token, &password, &client).await {
        Ok(()) => page(
            StatusCode::OK,
            &product(&app),
            "Password changed",
            "<p role=\"status\">Your password has been changed and every other session was \
             signed out. You can close this page and sign in with the new password.</p>",
        ),
        // A password the policy refuses: the same form again, with the reason.
        Err(err @ (Error::WeakPassword(_) | Error::InvalidRequest(_))) => page(
            StatusCode::BAD_REQUEST,
            &product(&app),
            TITLE,
            &format!(
                "{}{}",
                error(&sentence(&err.to_string())),
                form(
                    "reset-password",
                    &f.token,
                    &new_password_field(&app.config.load().passwords, "New password", false),
                    "Set new password"
                )
            ),
        ),
        Err(err) => problem(&app, TITLE, &err),
    }
}

fn invitation_title(org: &str, role: &str) -> String {
    format!("Join {org} as {}", sentence(role).trim_end_matches('.'))
}

async fn invitation_page(State(app): State<AppState>, Query(q): Query<TokenQuery>) -> Response {
    const TITLE: &str = "Accept the invitation";
    if q.token.is_empty() {
        return missing_token(&app, TITLE);
    }
    let preview = match crate::invitations::preview(&app, &q.token).await {
        Ok(preview) => preview,
        Err(err) => return problem(&app, TITLE, &err),
    };
    let email = escape(preview.invitation.email.as_str());
    let title = invitation_title(&preview.organization.name, &preview.invitation.role);
    let body = if preview.account_exists {
        format!(
            "<p>{email} already has an account. Sign in to the application as {email} and \
             accept the invitation there; this link stays valid until it expires.</p>"
        )
    } else {
        format!(
            "<p>You were invited as {email}. Create your account to join.</p>{}",
            form(
                "accept-invitation",
                &q.token,
                &format!(
                    "<label for=\"name\">Your name (optional)</label>\
                     <input id=\"name\" name=\"name\" type=\"text\" autocomplete=\"name\" maxlength=\"200\">{}",
                    new_password_field(&app.config.load().passwords, "Choose a password", false)
                ),
                "Create account and join"
            )
        )
    };
    page(StatusCode::OK, &product(&app), &title, &body)
}

async fn accept_invitation(
    State(app): State<AppState>,
    client: Client,
    Form(f): Form<PasswordForm>,
) -> Response {
    const TITLE: &str = "Accept the invitation";
    let password = SecretString::from(f.password);
    let name = Some(f.name.trim()).filter(|n| !n.is_empty());
    match crate::invitations::accept(&app, None, &f.token, Some(&password), name, &client).await {
        Ok(accepted) => page(
            StatusCode::OK,
            &product(&app),
            &format!("You joined {}", accepted.organization.name),
            &format!(
                "<p role=\"status\">Your account {} is ready and a member of {} with the role {}. \
                 You can close this page and sign in.</p>",
                escape(accepted.user.email.as_str()),
                escape(&accepted.organization.name),
                escape(&accepted.role)
            ),
        ),
        Err(err) => problem(&app, TITLE, &err),
    }
}
