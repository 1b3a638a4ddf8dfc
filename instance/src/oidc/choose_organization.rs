//! `GET|POST /choose-organization?flow=…`: an application whose `organization_selection` is
//! `optional` or `required` asks the signed-in user which of their organizations to sign in
//! to, when its authorization request named none (`organization`). The choice becomes the
//! request's `organization`, so the tokens carry exactly the claims the parameter gives, and it
//! is checked against the live memberships again when the code is issued.
//!
//! The step comes after the policies (only a user who may sign in sees their organizations)
//! and before consent (the user approves a third-party application knowing which organization
//! it gets). Like the consent page, the page belongs to a flow bound to the sign-in it was
//! started for — only the browser holding that sign-in's SSO cookie can answer it — and its
//! form carries the flow's CSRF token in the cookie and a hidden field.
//!
//! Each organization is its own submit button (its name and the user's role in it are the
//! button's accessible name) rather than a radio group and a separate submit: one action per
//! choice, no way to send the form with nothing chosen, and the same from keyboard, pointer
//! and screen reader. The form is named by the page's introduction (`aria-labelledby`).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::login::{CSRF_COOKIE, FlowQuery, expired, flow_fields, with_csrf};
use super::steps::{self, client_of};
use super::{AuthorizationRequest, organization_of};
use crate::AppState;
use crate::applications::OrganizationSelection;
use crate::error::{Error, Result};
use crate::flow::{self, Flow, State as FlowState};
use crate::http::cookies;
use crate::orgs::Organization;
use crate::pages::{Look, Text, error, escape, fill};
use crate::sessions::Session;

/// What the organization step does for a request that names no organization.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Nothing to choose: the request goes on without an organization.
    Skip,
    /// `required` and a single membership: that organization, without a page.
    Only(String),
    /// The page.
    Ask,
    /// `required` and no membership: the sign-in is refused.
    NoMembership,
}

/// The organization step for `request` (which names no organization) in `session`.
pub async fn step(
    app: &AppState,
    request: &AuthorizationRequest,
    session: &Session,
) -> Result<Step> {
    let selection = client_of(app, request).await?.organization_selection;
    let asked = match selection {
        OrganizationSelection::None => return Ok(Step::Skip),
        OrganizationSelection::Optional if request.organization_chosen => return Ok(Step::Skip),
        other => other,
    };
    let mut memberships = crate::orgs::store::list_for_user(&app.db, &session.user_id).await?;
    Ok(match (asked, memberships.len()) {
        (OrganizationSelection::Required, 0) => Step::NoMembership,
        (OrganizationSelection::Required, 1) => Step::Only(memberships.remove(0).0.id),
        (_, 0) => Step::Skip,
        _ => Step::Ask,
    })
}

/// Starts the organization step for `request` in `session`; returns the page's address.
pub async fn ask(
    app: &AppState,
    request: &AuthorizationRequest,
    session: &Session,
) -> Result<String> {
    let step = |session_id| FlowState::ChooseOrganization { session_id };
    steps::ask(app, request, session, step, "choose-organization").await
}

/// The flow at its organization step with its request, if this browser holds the sign-in it
/// is for.
async fn load(
    app: &AppState,
    id: &str,
    headers: &HeaderMap,
) -> Result<Option<(Flow, AuthorizationRequest, Session)>> {
    fn at_choice(state: &FlowState) -> Option<&String> {
        match state {
            FlowState::ChooseOrganization { session_id } => Some(session_id),
            _ => None,
        }
    }
    steps::load(app, id, headers, at_choice).await
}

pub async fn show(
    State(app): State<AppState>,
    look: Look,
    headers: HeaderMap,
    crate::http::Query(q): crate::http::Query<FlowQuery>,
) -> Response {
    let result = async {
        let Some((flow, request, session)) = load(&app, q.flow(), &headers).await? else {
            return Ok(expired(&look));
        };
        let look = look.for_request(&app, &flow.request);
        render(&app, &look, q.flow(), &flow, &request, &session, None).await
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

/// The page: the user's organizations (live), each a button, and — for `optional` — the way
/// on without one.
async fn render(
    app: &AppState,
    look: &Look,
    flow_id: &str,
    flow: &Flow,
    request: &AuthorizationRequest,
    session: &Session,
    problem: Option<fn(&Text) -> &'static str>,
) -> Result<Response> {
    // A refused choice is answered with the page again, as a bad request.
    let status = match problem {
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::OK,
    };
    let text = look.text();
    let problem = problem.map(|p| p(text));
    let client = client_of(app, request).await?;
    let memberships = crate::orgs::store::list_for_user(&app.db, &session.user_id).await?;
    let user = crate::users::store::find(&app.db, &session.user_id).await?;
    let optional = client.organization_selection != OrganizationSelection::Required;
    if memberships.is_empty() && !optional {
        return Ok(look.page(
            StatusCode::FORBIDDEN,
            text.choose_org,
            &error(text.org_none_left),
        ));
    }
    let who = user
        .map(|u| {
            format!(
                "<p class=\"hint\">{}</p>",
                fill(text.signed_in_as, &[("email", u.email.as_str())])
            )
        })
        .unwrap_or_default();
    let intro = fill(text.choose_org_intro, &[("application", &client.name)]);
    Ok(with_csrf(
        app,
        look,
        flow_id,
        flow,
        status,
        text.choose_org,
        |csrf| {
            let choices: String = memberships
                .iter()
                .enumerate()
                .map(|(i, (org, role))| choice(text, org, role, i == 0 && problem.is_none()))
                .collect();
            let without = if optional {
                format!(
                    "<p><button type=\"submit\" name=\"continue\" value=\"without\">{}</button></p>",
                    text.continue_without
                )
            } else {
                String::new()
            };
            format!(
                "{problem}<p id=\"organization-intro\">{intro}</p>{who}\
             <form method=\"post\" action=\"choose-organization\" aria-labelledby=\"organization-intro\">\
             {hidden}<ul>{choices}</ul>{without}</form>",
                problem = problem.map(error).unwrap_or_default(),
                hidden = flow_fields(flow_id, csrf),
            )
        },
    ))
}

/// One organization's button: its name and the user's role in it.
fn choice(text: &Text, org: &Organization, role: &str, focus: bool) -> String {
    format!(
        "<li><button type=\"submit\" name=\"organization\" value=\"{id}\"{focus}>{name}\
         <span class=\"hint\"> — {role}</span></button></li>",
        id = escape(&org.id),
        name = escape(&org.name),
        role = fill(text.your_role, &[("role", role)]),
        focus = if focus { " autofocus" } else { "" },
    )
}

/// What the form sent.
#[derive(Default)]
struct Answer {
    flow: String,
    csrf: String,
    organization: Option<String>,
    without: bool,
}

fn parse(body: &[u8]) -> Answer {
    let mut answer = Answer::default();
    for (name, value) in form_urlencoded::parse(body) {
        match name.as_ref() {
            "flow" => answer.flow = value.into_owned(),
            "csrf" => answer.csrf = value.into_owned(),
            "organization" if value.len() <= 100 => answer.organization = Some(value.into_owned()),
            "continue" => answer.without = value == "without",
            _ => {}
        }
    }
    answer
}

pub async fn submit(
    State(app): State<AppState>,
    look: Look,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answer = parse(&body);
    let result = async {
        let Some((mut flow, mut request, session)) = load(&app, &answer.flow, &headers).await?
        else {
            return Ok(expired(&look));
        };
        let look = look.for_request(&app, &flow.request);
        let cookie = cookies::read(&app, &headers, CSRF_COOKIE);
        if !flow::csrf_matches(&answer.flow, cookie.as_deref(), &answer.csrf) {
            let text = look.text();
            let message = error(text.form_unverified_go_back);
            return Ok(look.page(StatusCode::FORBIDDEN, text.choose_org, &message));
        }
        let again = |problem: fn(&Text) -> &'static str| {
            let (app, look, flow, request, session) = (&app, &look, &flow, &request, &session);
            let flow_id = answer.flow.as_str();
            async move { render(app, look, flow_id, flow, request, session, Some(problem)).await }
        };
        let chosen = match (&answer.organization, answer.without) {
            (Some(wanted), _) => match organization_of(&app, &session.user_id, wanted).await? {
                Some(org_id) => Some(org_id),
                None => return again(|t| t.org_not_available).await,
            },
            (None, true) => {
                let selection = client_of(&app, &request).await?.organization_selection;
                if selection == OrganizationSelection::Required {
                    return again(|t| t.org_needed).await;
                }
                None
            }
            (None, false) => return again(|t| t.org_needed).await,
        };
        flow::finish_step(&app, &mut flow).await?;
        request.organization = chosen;
        request.organization_chosen = true;
        let location = super::authorized(&app, &request, &session).await?;
        let mut response = Redirect::to(&location).into_response();
        response
            .headers_mut()
            .append(header::SET_COOKIE, cookies::set(&app, CSRF_COOKIE, "", 0));
        Ok::<_, Error>(response)
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}
