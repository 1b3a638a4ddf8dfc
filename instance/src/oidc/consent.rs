//! `GET|POST /consent?flow=…`: a third-party application (`first_party: false`) gets a code
//! only once the user allowed it the scopes it asks for. What they allowed is kept per user and
//! application, so they are asked again only for more scopes or with `prompt=consent`.
//! First-party applications are the instance owner's own and never ask.
//!
//! The page belongs to a flow at its consent step, bound to the sign-in it was started for: only
//! the browser holding that sign-in's SSO cookie can answer it, and the form carries the flow's
//! CSRF token (cookie and hidden field) as the sign-in page does.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::ExposeSecret;

use super::login::{CSRF_COOKIE, FlowQuery, expired};
use super::steps::{self, client_of};
use super::{AuthorizationRequest, store};
use crate::AppState;
use crate::error::{Error, Result};
use crate::flow::{self, Flow, State as FlowState};
use crate::http::cookies;
use crate::pages::{Look, Text, error, escape, fill};
use crate::sessions::Session;

/// Whether the user of `session` must be asked before `request`'s application gets a code.
pub async fn needed(
    app: &AppState,
    request: &AuthorizationRequest,
    session: &Session,
) -> Result<bool> {
    let client = client_of(app, request).await?;
    if client.first_party {
        return Ok(false);
    }
    if request.prompt_consent {
        return Ok(true);
    }
    let allowed = store::consented_scope(&app.db, &session.user_id, &client.id)
        .await?
        .unwrap_or_default();
    let allowed: Vec<&str> = allowed.split(' ').collect();
    Ok(!request.scope.iter().all(|s| allowed.contains(&s.as_str())))
}

/// Starts the consent step for `request` in `session`; returns the page's address.
pub async fn ask(
    app: &AppState,
    request: &AuthorizationRequest,
    session: &Session,
) -> Result<String> {
    let step = |session_id| FlowState::Consent { session_id };
    steps::ask(app, request, session, step, "consent").await
}

/// The flow at its consent step with its request, if this browser holds the sign-in it is for.
async fn load(
    app: &AppState,
    id: &str,
    headers: &HeaderMap,
) -> Result<Option<(Flow, AuthorizationRequest, Session)>> {
    fn at_consent(state: &FlowState) -> Option<&String> {
        match state {
            FlowState::Consent { session_id } => Some(session_id),
            _ => None,
        }
    }
    steps::load(app, id, headers, at_consent).await
}

fn describe(text: &Text, scope: &str) -> Option<&'static str> {
    match scope {
        "openid" => Some(text.scope_openid),
        "email" => Some(text.scope_email),
        "profile" => Some(text.scope_profile),
        _ => None,
    }
}

pub async fn show(
    State(app): State<AppState>,
    look: Look,
    headers: HeaderMap,
    crate::http::Query(q): crate::http::Query<FlowQuery>,
) -> Response {
    let result = async {
        let Some((mut flow, request, session)) = load(&app, q.flow(), &headers).await? else {
            return Ok(expired(&look));
        };
        let look = look.for_request(&app, &flow.request);
        render(&app, &look, q.flow(), &mut flow, &request, &session).await
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn render(
    app: &AppState,
    look: &Look,
    flow_id: &str,
    flow: &mut Flow,
    request: &AuthorizationRequest,
    session: &Session,
) -> Result<Response> {
    let client = client_of(app, request).await?;
    let user = crate::users::store::find(&app.db, &session.user_id).await?;
    let csrf = flow::csrf_token(flow_id);
    let text = look.text();
    let items: String = request
        .scope
        .iter()
        .filter_map(|s| describe(text, s))
        .map(|text| format!("<li>{}</li>", escape(text)))
        .collect();
    let who = user
        .map(|u| {
            format!(
                "<p class=\"hint\">{}</p>",
                fill(text.signed_in_as, &[("email", u.email.as_str())])
            )
        })
        .unwrap_or_default();
    let intro = fill(
        text.consent_intro,
        &[("application", &client.name), ("product", look.product())],
    );
    let body = format!(
        "<p>{intro}</p><ul>{items}</ul>{who}\
         <form method=\"post\" action=\"consent\">\
         <input type=\"hidden\" name=\"flow\" value=\"{flow}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\" name=\"decision\" value=\"allow\" autofocus>{allow}</button> \
         <button type=\"submit\" name=\"decision\" value=\"deny\">{deny}</button></form>",
        flow = escape(flow_id),
        csrf = escape(csrf.expose_secret()),
        allow = text.allow,
        deny = text.deny,
    );
    let mut look = look.clone();
    look.allow_form_target(&request.redirect_uri);
    let mut response = look.page(StatusCode::OK, text.consent, &body);
    let max_age = flow.expires_at - app.clock.now();
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(app, CSRF_COOKIE, csrf.expose_secret(), max_age),
    );
    Ok(response)
}

pub async fn submit(
    State(app): State<AppState>,
    look: Look,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (mut flow_id, mut csrf, mut decision) = (String::new(), String::new(), String::new());
    for (name, value) in form_urlencoded::parse(&body) {
        match name.as_ref() {
            "flow" => flow_id = value.into_owned(),
            "csrf" => csrf = value.into_owned(),
            "decision" => decision = value.into_owned(),
            _ => {}
        }
    }
    let result = async {
        let Some((mut flow, request, session)) = load(&app, &flow_id, &headers).await? else {
            return Ok(expired(&look));
        };
        let look = look.for_request(&app, &flow.request);
        let cookie = cookies::read(&app, &headers, CSRF_COOKIE);
        if !flow::csrf_matches(&flow_id, cookie.as_deref(), &csrf) {
            let text = look.text();
            let message = error(text.form_unverified_go_back);
            return Ok(look.page(StatusCode::FORBIDDEN, text.consent, &message));
        }
        let location = match decision.as_str() {
            "allow" => {
                flow::finish_step(&app, &mut flow).await?;
                let scope = request.scope.join(" ");
                let now = app.clock.now();
                store::record_consent(&app.db, &session.user_id, &request.client_id, &scope, now)
                    .await?;
                super::issue_code(&app, &request, &session).await?
            }
            "deny" => {
                flow::finish_step(&app, &mut flow).await?;
                super::denied(&app, &request, "the user did not allow the application")
            }
            _ => return render(&app, &look, &flow_id, &mut flow, &request, &session).await,
        };
        let mut response = Redirect::to(&location).into_response();
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookies::set(&app, CSRF_COOKIE, "", 0));
        Ok::<_, Error>(response)
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}
