//! `GET|POST /login?flow=…`: the hosted sign-in page that drives a sign-in flow. Works without
//! JavaScript under the pages' strict CSP. The form is protected against cross-site request
//! forgery by a per-flow token that travels both in an `HttpOnly; SameSite=Lax` cookie and in a
//! hidden field; both must match the flow's stored hash.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::AuthorizationRequest;
use crate::AppState;
use crate::error::Error;
use crate::flow::factors::{self, FieldKind, FirstFactor, Submission};
use crate::flow::{self, Flow, State as FlowState};
use crate::http::{Query, cookies};
use crate::pages::{Look, Text, error, escape, fill};
use crate::sessions::browser;

pub(super) const CSRF_COOKIE: &str = "authstack_flow";

#[derive(Deserialize)]
pub struct FlowQuery {
    #[serde(default)]
    flow: String,
}

impl FlowQuery {
    pub fn flow(&self) -> &str {
        &self.flow
    }
}

pub(super) fn expired(look: &Look) -> Response {
    look.page(
        StatusCode::BAD_REQUEST,
        look.text().sign_in,
        &error(look.text().expired),
    )
}

pub async fn show(State(app): State<AppState>, look: Look, Query(q): Query<FlowQuery>) -> Response {
    match flow::load(&app, &q.flow).await {
        Ok(Some(mut flow)) if matches!(flow.state, FlowState::FirstFactor { .. }) => {
            let look = look.for_request(&app, &flow.request);
            render(&app, &look, &q.flow, &mut flow, StatusCode::OK, None).await
        }
        Ok(_) => expired(&look),
        Err(err) => err.into_response(),
    }
}

/// The sign-in form, with a fresh CSRF token set in the cookie and the hidden field.
async fn render(
    app: &AppState,
    look: &Look,
    flow_id: &str,
    flow: &mut Flow,
    status: StatusCode,
    problem: Option<&str>,
) -> Response {
    let hint = flow.login_hint().map(str::to_owned);
    let enabled = factors::enabled(app);
    let text = look.text();
    with_csrf(app, look, flow_id, flow, status, text.sign_in, |csrf| {
        let mut body = problem.map(error).unwrap_or_default();
        if enabled.is_empty() {
            body.push_str(&error(text.no_method));
        }
        for factor in &enabled {
            body.push_str(&factor_form(
                *factor,
                look,
                flow_id,
                csrf,
                hint.as_deref(),
                problem.is_some(),
            ));
        }
        body.push_str(&other_ways(app, look, flow_id));
        body
    })
}

/// Links from the sign-in page to the flow's other pages that this instance offers.
fn other_ways(app: &AppState, look: &Look, flow_id: &str) -> String {
    let config = app.config.load();
    let text = look.text();
    let mut links = String::new();
    if config.auth.methods.password {
        links.push_str(&format!(
            "<p><a href=\"forgot-password?flow={}\">{}</a></p>",
            escape(flow_id),
            text.forgot_link
        ));
    }
    if crate::auth::signup::available(&config) {
        links.push_str(&format!(
            "<p>{}</p>",
            fill(text.new_here, &[("flow", flow_id)])
        ));
    }
    links
}

/// A page of a flow with a form: the flow's CSRF token goes into the cookie, and `body` gets it
/// for the form's hidden field. The form may lead back to the application (its redirect URI).
pub(super) fn with_csrf(
    app: &AppState,
    look: &Look,
    flow_id: &str,
    flow: &Flow,
    status: StatusCode,
    title: &str,
    body: impl FnOnce(&str) -> String,
) -> Response {
    let csrf = flow::csrf_token(flow_id);
    let mut look = look.clone();
    if let Some(uri) = flow
        .request
        .get("redirect_uri")
        .and_then(|uri| uri.as_str())
    {
        look.allow_form_target(uri);
    }
    let mut response = look.page(status, title, &body(csrf.expose_secret()));
    let max_age = flow.expires_at - app.clock.now();
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::set(app, CSRF_COOKIE, csrf.expose_secret(), max_age),
    );
    response
}

/// The hidden fields every form of a flow carries.
pub(super) fn flow_fields(flow_id: &str, csrf: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"flow\" value=\"{}\">\
         <input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(flow_id),
        escape(csrf)
    )
}

/// The live flow a form was submitted for, if the form carries its CSRF token in both the
/// cookie and the field; otherwise the page that answers the submission.
/// The look it answers in is the flow's (`ui_locales`).
pub(super) async fn submitted_flow(
    app: &AppState,
    look: Look,
    headers: &HeaderMap,
    flow_id: &str,
    csrf: &str,
    title: fn(&Text) -> &'static str,
) -> Result<(Flow, Look), Response> {
    let flow = match flow::load(app, flow_id).await {
        Ok(Some(flow)) => flow,
        Ok(None) => return Err(expired(&look)),
        Err(err) => return Err(err.into_response()),
    };
    let look = look.for_request(app, &flow.request);
    let text = look.text();
    let cookie = cookies::read(app, headers, CSRF_COOKIE);
    if !flow::csrf_matches(flow_id, cookie.as_deref(), csrf) {
        return Err(look.page(
            StatusCode::FORBIDDEN,
            title(text),
            &format!(
                "{}<p>{}</p>",
                error(text.form_unverified),
                fill(text.reload_sign_in, &[("flow", flow_id)])
            ),
        ));
    }
    Ok((flow, look))
}

fn factor_form(
    factor: &dyn FirstFactor,
    look: &Look,
    flow_id: &str,
    csrf: &str,
    hint: Option<&str>,
    failed: bool,
) -> String {
    let mut fields = String::new();
    let mut first = true;
    for field in factor.fields() {
        let (kind, autocomplete) = match field.kind {
            FieldKind::Email => ("email", "username"),
            FieldKind::Password => ("password", "current-password"),
        };
        let value = match (field.takes_hint, hint) {
            (true, Some(hint)) => format!(" value=\"{}\"", escape(hint)),
            _ => String::new(),
        };
        // Focus the first field, or the password when the address is already filled in.
        let focus = if (first && (value.is_empty() || failed))
            || (!first && !value.is_empty() && hint.is_some() && !failed)
        {
            " autofocus"
        } else {
            ""
        };
        first = false;
        let invalid = if failed { " aria-invalid=\"true\"" } else { "" };
        fields.push_str(&format!(
            "<label for=\"{name}\">{label}</label>\
             <input id=\"{name}\" name=\"{name}\" type=\"{kind}\" autocomplete=\"{autocomplete}\" \
             required{value}{focus}{invalid}>",
            name = field.name,
            label = escape((field.label)(look.text())),
        ));
    }
    format!(
        "<form method=\"post\" action=\"login\">{hidden}\
         <input type=\"hidden\" name=\"method\" value=\"{method}\">{fields}\
         <button type=\"submit\">{submit}</button></form>",
        hidden = flow_fields(flow_id, csrf),
        method = factor.method(),
        submit = escape(factor.submit_label(look.text())),
    )
}

pub async fn submit(
    State(app): State<AppState>,
    look: Look,
    client: crate::http::Client,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut submission = Submission::default();
    let (mut flow_id, mut csrf, mut method) = (String::new(), String::new(), String::new());
    for (name, value) in form_urlencoded::parse(&body) {
        match name.as_ref() {
            "flow" => flow_id = value.into_owned(),
            "csrf" => csrf = value.into_owned(),
            "method" => method = value.into_owned(),
            other => submission.insert(other, value.into_owned()),
        }
    }
    let (mut flow, look) =
        match submitted_flow(&app, look, &headers, &flow_id, &csrf, |t| t.sign_in).await {
            Ok(submitted) => submitted,
            Err(page) => return page,
        };
    let text = look.text();
    match flow::submit_first_factor(&app, &mut flow, &method, &submission, &client).await {
        Ok(done) => finish(&app, done).await,
        // The wording for every failed sign-in, whether or not the address has an account.
        Err(Error::InvalidCredentials | Error::InvalidRequest(_)) => {
            let status = StatusCode::UNAUTHORIZED;
            render(
                &app,
                &look,
                &flow_id,
                &mut flow,
                status,
                Some(text.incorrect),
            )
            .await
        }
        Err(Error::RateLimited { .. }) => {
            let status = StatusCode::TOO_MANY_REQUESTS;
            let problem = Some(text.sign_in_rate_limited);
            render(&app, &look, &flow_id, &mut flow, status, problem).await
        }
        Err(err @ (Error::UserBanned | Error::EmailNotVerified | Error::Refused(..))) => {
            let message = match err {
                Error::EmailNotVerified => text.verify_first,
                _ => text.cannot_sign_in,
            };
            look.page(StatusCode::FORBIDDEN, text.sign_in, &error(message))
        }
        Err(err) => err.into_response(),
    }
}

/// The flow is complete: the SSO cookie is set, the CSRF cookie dropped, and the user goes back
/// to the application with a code.
pub(super) async fn finish(app: &AppState, done: flow::Completed) -> Response {
    let result = async {
        let request: AuthorizationRequest =
            serde_json::from_value(done.request).map_err(anyhow::Error::from)?;
        let location = super::authorized(app, &request, &done.session).await?;
        let sso = browser::attach(app, &done.session).await?;
        Ok::<_, Error>((location, sso))
    }
    .await;
    let (location, sso) = match result {
        Ok(parts) => parts,
        Err(err) => return err.into_response(),
    };
    let mut response = Redirect::to(&location).into_response();
    let headers = response.headers_mut();
    headers.append(header::SET_COOKIE, sso);
    headers.append(header::SET_COOKIE, cookies::set(app, CSRF_COOKIE, "", 0));
    response
}
