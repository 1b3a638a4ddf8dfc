//! `GET|POST /oauth2/logout`: RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
//!
//! Ending the sign-in revokes it and every application's grant under it, and drops the SSO
//! cookie: the user is signed out of every application that signed in through this browser.
//! `post_logout_redirect_uri` must be one the application registered, character for character
//! (otherwise an error page, never a redirect: no open redirect). Without an `id_token_hint`
//! naming this browser's sign-in, the user is asked first — a link alone cannot sign anyone out
//! — by a form protected with a double-submit token.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::redirect_with;
use crate::AppState;
use crate::applications::{self, Application};
use crate::crypto::{constant_time_eq, random_secret};
use crate::error::Result;
use crate::http::cookies;
use crate::pages::{Look, error, escape, fill};
use crate::sessions::{self, Session, browser};

const CSRF_COOKIE: &str = "authstack_logout";

type Params = HashMap<String, String>;

/// The claims read from an `id_token_hint`. `at_hash` is required: only ID tokens carry it,
/// so an access token cannot stand in for one.
#[derive(Deserialize)]
struct Hint {
    sub: String,
    aud: String,
    sid: String,
    #[allow(dead_code)]
    at_hash: String,
}

/// A logout request that passed its checks.
struct Request {
    /// Where to send the user afterwards (registered by `client`), with `state`.
    redirect: Option<String>,
    /// The sign-in the hint names, when the hint is valid.
    hinted: Option<Hint>,
    client: Option<Application>,
}

/// The reason (`message`) is for the application's developer, in English.
fn refused(look: &Look, message: &str) -> Response {
    let text = look.text();
    look.page(
        StatusCode::BAD_REQUEST,
        text.sign_out_refused,
        &format!("{}<p>{}</p>", error(message), text.not_signed_out),
    )
}

pub async fn get(
    State(app): State<AppState>,
    look: Look,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params = parse(query.unwrap_or_default().as_bytes());
    respond(&app, &look, &headers, params, false).await
}

pub async fn post(
    State(app): State<AppState>,
    look: Look,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = parse(&body);
    respond(&app, &look, &headers, params, true).await
}

fn parse(bytes: &[u8]) -> Params {
    let mut params = Params::new();
    for (name, value) in form_urlencoded::parse(bytes) {
        params
            .entry(name.into_owned())
            .or_insert(value.into_owned());
    }
    params
}

async fn respond(
    app: &AppState,
    look: &Look,
    headers: &HeaderMap,
    params: Params,
    posted: bool,
) -> Response {
    // `ui_locales` is a parameter of the logout request too (OpenID Connect RP-Initiated
    // Logout §2).
    let ui_locales = params.get("ui_locales").map(String::as_str);
    let look = look.clone().with_ui_locales(app, ui_locales);
    let look = &look;
    let result = async {
        let request = match check(app, &params).await? {
            Ok(request) => request,
            Err(message) => return Ok(refused(look, message)),
        };
        let current = browser::current(app, headers).await?;
        let hint_names_current = match (&request.hinted, &current) {
            (Some(hint), Some(session)) => hint.sid == session.id,
            (Some(_), None) => true,
            (None, _) => false,
        };
        let confirmed = posted
            && params.get("confirm").is_some_and(|v| v == "yes")
            && csrf_matches(app, headers, params.get("csrf").map(String::as_str));
        if current.is_some() && !hint_names_current && !confirmed {
            return Ok(confirm(app, look, &params, &request));
        }
        sign_out(app, current.as_ref(), request.hinted.as_ref()).await?;
        Ok::<_, crate::error::Error>(done(app, look, &request))
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// Checks the client, the hint and the return address; `Err` is the message of the error page.
async fn check(
    app: &AppState,
    params: &Params,
) -> Result<std::result::Result<Request, &'static str>> {
    let get = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let hinted = match get("id_token_hint") {
        Some(token) if token.len() <= 8192 => {
            crate::tokens::verify_signed_ignoring_expiry::<Hint>(app, token, None)
                .await
                .ok()
        }
        _ => None,
    };
    let client_id = match (get("client_id"), &hinted) {
        (Some(id), Some(hint)) if id != hint.aud => {
            return Ok(Err("The request names two different applications."));
        }
        (Some(id), _) => Some(id.to_owned()),
        (None, Some(hint)) => Some(hint.aud.clone()),
        (None, None) => None,
    };
    let client = match &client_id {
        Some(id) => match applications::store::find(&app.db, id).await? {
            Some(client) => Some(client),
            None => return Ok(Err("The request names no application known here.")),
        },
        None => None,
    };
    let state = get("state").filter(|s| s.len() <= 2048).map(str::to_owned);
    let redirect = match get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => match &client {
            Some(client) if client.allows_post_logout_redirect(&app.config.load(), uri) => {
                let mut params = Vec::new();
                if let Some(state) = &state {
                    params.push(("state", state.as_str()));
                }
                Some(redirect_with(uri, &params))
            }
            Some(_) => {
                return Ok(Err(
                    "The address to return to is not one registered for this application.",
                ));
            }
            None => {
                return Ok(Err(
                    "The request has an address to return to but does not say which application it is for.",
                ));
            }
        },
    };
    Ok(Ok(Request {
        redirect,
        hinted,
        client,
    }))
}

fn csrf_matches(app: &AppState, headers: &HeaderMap, field: Option<&str>) -> bool {
    match (cookies::read(app, headers, CSRF_COOKIE), field) {
        (Some(cookie), Some(field)) => {
            cookie.len() > 20 && constant_time_eq(cookie.as_bytes(), field.as_bytes())
        }
        _ => false,
    }
}

/// The question "sign out?", as a form that posts the request back with `confirm=yes`.
fn confirm(app: &AppState, look: &Look, params: &Params, request: &Request) -> Response {
    let token = random_secret("lo_", 32);
    let mut hidden = String::new();
    for name in [
        "id_token_hint",
        "client_id",
        "post_logout_redirect_uri",
        "state",
        "ui_locales",
    ] {
        if let Some(value) = params.get(name) {
            hidden.push_str(&format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                escape(value)
            ));
        }
    }
    let text = look.text();
    let question = match &request.client {
        Some(client) => fill(
            text.sign_out_question_from,
            &[("application", &client.name)],
        ),
        None => text.sign_out_question.to_owned(),
    };
    let body = format!(
        "<p>{question}</p>\
         <form method=\"post\" action=\"logout\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <input type=\"hidden\" name=\"confirm\" value=\"yes\">{hidden}\
         <button type=\"submit\" autofocus>{submit}</button></form>",
        csrf = escape(token.expose_secret()),
        submit = text.sign_out,
    );
    let mut look = look.clone();
    if let Some(uri) = &request.redirect {
        look.allow_form_target(uri);
    }
    let mut response = look.page(StatusCode::OK, text.sign_out, &body);
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(app, CSRF_COOKIE, token.expose_secret(), 600),
    );
    response
}

/// Ends this browser's sign-in and the one the hint names (when it is the same user's).
async fn sign_out(app: &AppState, current: Option<&Session>, hinted: Option<&Hint>) -> Result<()> {
    let now = app.clock.now();
    let mut ended = Vec::new();
    if let Some(session) = current {
        ended.push(session.id.clone());
    }
    if let Some(hint) = hinted
        && !ended.contains(&hint.sid)
        && let Some(session) = sessions::find(app, &hint.sid).await?
        && session.user_id == hint.sub
        && session.grant.is_none()
    {
        ended.push(session.id);
    }
    for id in ended {
        crate::logout::end(app, &id, "signed_out", now).await?;
    }
    Ok(())
}

/// Back to the application, or the "signed out" page; the SSO and CSRF cookies are dropped.
fn done(app: &AppState, look: &Look, request: &Request) -> Response {
    let text = look.text();
    let mut response = match &request.redirect {
        Some(location) => Redirect::to(location).into_response(),
        None => look.page(
            StatusCode::OK,
            text.signed_out_title,
            &format!("<p>{}</p>", text.signed_out),
        ),
    };
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, browser::forget(app));
    headers.append(header::SET_COOKIE, cookies::set(app, CSRF_COOKIE, "", 0));
    response
}
