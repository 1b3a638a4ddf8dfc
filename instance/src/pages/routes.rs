//! `GET|POST /verify-email`, `/reset-password`, `/accept-invitation`: the pages mailed links
//! open (`?token=…`). Each `GET` shows what the link is for; the form's `POST` does it.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use secrecy::SecretString;
use serde::Deserialize;

use super::{Look, error, fill, form, new_password_field, plain, sentence};
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

/// The page for a link that cannot be used (no token, or the action refused it). The reason
/// is the error's own in English, and the catalogue's in the other languages.
fn problem(look: &Look, title: &str, err: &Error) -> Response {
    let status = match err.status() {
        status if status.is_server_error() => status,
        StatusCode::TOO_MANY_REQUESTS => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::BAD_REQUEST,
    };
    let text = look.text();
    let message = match err {
        Error::Internal(_) => text.internal.to_owned(),
        Error::RateLimited { .. } => text.link_rate_limited.to_owned(),
        other if look.language() == super::Language::English => sentence(&other.to_string()),
        _ => text.link_unusable.to_owned(),
    };
    look.page(status, title, &error(&message))
}

fn missing_token(look: &Look, title: &str) -> Response {
    look.page(
        StatusCode::BAD_REQUEST,
        title,
        &error(look.text().link_incomplete),
    )
}

async fn verify_page(look: Look, Query(q): Query<TokenQuery>) -> Response {
    let text = look.text();
    if q.token.is_empty() {
        return missing_token(&look, text.verify_title);
    }
    let body = format!(
        "<p>{}</p>{}",
        fill(text.verify_intro, &[("product", look.product())]),
        form("verify-email", &q.token, "", text.verify_submit)
    );
    look.page(StatusCode::OK, text.verify_title, &body)
}

#[derive(Deserialize)]
struct TokenForm {
    #[serde(default)]
    token: String,
}

async fn verify(
    State(app): State<AppState>,
    look: Look,
    client: Client,
    Form(f): Form<TokenForm>,
) -> Response {
    let text = look.text();
    match crate::auth::verify_email(&app, &f.token, &client).await {
        Ok(user) => look.page(
            StatusCode::OK,
            text.verified_title,
            &format!(
                "<p role=\"status\">{}</p>",
                fill(text.verified, &[("email", user.email.as_str())])
            ),
        ),
        Err(err) => problem(&look, text.verify_title, &err),
    }
}

fn reset_form(app: &AppState, look: &Look, token: &str) -> String {
    let text = look.text();
    form(
        "reset-password",
        token,
        &new_password_field(&app.config.load().passwords, text, text.new_password, false),
        text.set_password,
    )
}

async fn reset_page(
    State(app): State<AppState>,
    look: Look,
    Query(q): Query<TokenQuery>,
) -> Response {
    let text = look.text();
    if q.token.is_empty() {
        return missing_token(&look, text.reset_title);
    }
    look.page(
        StatusCode::OK,
        text.reset_title,
        &reset_form(&app, &look, &q.token),
    )
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
    look: Look,
    client: Client,
    Form(f): Form<PasswordForm>,
) -> Response {
    let text = look.text();
    let password = SecretString::from(f.password);
    match crate::auth::reset_password(&app, &f.token, &password, &client).await {
        Ok(()) => look.page(
            StatusCode::OK,
            text.password_changed_title,
            &format!("<p role=\"status\">{}</p>", text.password_changed),
        ),
        // A password the policy refuses: the same form again, with the reason.
        Err(err @ (Error::WeakPassword(_) | Error::InvalidRequest(_))) => {
            let reason = match look.language() {
                super::Language::English => sentence(&err.to_string()),
                _ => look.weak_password(&app.config.load().passwords),
            };
            look.page(
                StatusCode::BAD_REQUEST,
                text.reset_title,
                &format!("{}{}", error(&reason), reset_form(&app, &look, &f.token)),
            )
        }
        Err(err) => problem(&look, text.reset_title, &err),
    }
}

fn invitation_title(look: &Look, org: &str, role: &str) -> String {
    plain(
        look.text().invitation_title,
        &[
            ("organization", org),
            ("role", sentence(role).trim_end_matches('.')),
        ],
    )
}

async fn invitation_page(
    State(app): State<AppState>,
    look: Look,
    Query(q): Query<TokenQuery>,
) -> Response {
    let text = look.text();
    if q.token.is_empty() {
        return missing_token(&look, text.accept_title);
    }
    let preview = match crate::invitations::preview(&app, &q.token).await {
        Ok(preview) => preview,
        Err(err) => return problem(&look, text.accept_title, &err),
    };
    let email = preview.invitation.email.as_str();
    let title = invitation_title(&look, &preview.organization.name, &preview.invitation.role);
    let body = if preview.account_exists {
        format!(
            "<p>{}</p>",
            fill(text.invitation_existing, &[("email", email)])
        )
    } else {
        format!(
            "<p>{}</p>{}",
            fill(text.invitation_new, &[("email", email)]),
            form(
                "accept-invitation",
                &q.token,
                &format!(
                    "<label for=\"name\">{}</label>\
                     <input id=\"name\" name=\"name\" type=\"text\" autocomplete=\"name\" maxlength=\"200\">{}",
                    fill(text.optional, &[("label", text.your_name)]),
                    new_password_field(
                        &app.config.load().passwords,
                        text,
                        text.choose_password,
                        false
                    )
                ),
                text.create_and_join
            )
        )
    };
    look.page(StatusCode::OK, &title, &body)
}

async fn accept_invitation(
    State(app): State<AppState>,
    look: Look,
    client: Client,
    Form(f): Form<PasswordForm>,
) -> Response {
    let text = look.text();
    let password = SecretString::from(f.password);
    let name = Some(f.name.trim()).filter(|n| !n.is_empty());
    match crate::invitations::accept(&app, None, &f.token, Some(&password), name, &client).await {
        Ok(accepted) => {
            let org = accepted.organization.name.as_str();
            let title = plain(text.joined_title, &[("organization", org)]);
            let body = fill(
                text.joined,
                &[
                    ("email", accepted.user.email.as_str()),
                    ("organization", org),
                    ("role", &accepted.role),
                ],
            );
            look.page(
                StatusCode::OK,
                &title,
                &format!("<p role=\"status\">{body}</p>"),
            )
        }
        Err(err) => problem(&look, text.accept_title, &err),
    }
}
