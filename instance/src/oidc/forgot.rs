//! `GET|POST /forgot-password?flow=…`: asking for a password-reset link from the hosted sign-in
//! page. Every address gets the same answer in the same time (the lookup and the mail run
//! after the answer is sent); the mailed link opens the instance's reset page.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::login::{FlowQuery, expired, flow_fields, submitted_flow, with_csrf};
use crate::AppState;
use crate::error::Error;
use crate::flow::{self, Flow, State as FlowState};
use crate::http::{Client, Query};
use crate::pages::{Look, error, escape, fill};
use crate::users::EmailAddress;

pub async fn show(State(app): State<AppState>, look: Look, Query(q): Query<FlowQuery>) -> Response {
    match flow::load(&app, q.flow()).await {
        Ok(Some(mut flow)) if matches!(flow.state, FlowState::FirstFactor { .. }) => {
            let look = look.for_request(&app, &flow.request);
            let hint = flow.login_hint().unwrap_or_default().to_owned();
            render(
                &app,
                &look,
                q.flow(),
                &mut flow,
                StatusCode::OK,
                None,
                &hint,
            )
            .await
        }
        Ok(_) => expired(&look),
        Err(err) => err.into_response(),
    }
}

async fn render(
    app: &AppState,
    look: &Look,
    flow_id: &str,
    flow: &mut Flow,
    status: StatusCode,
    problem: Option<&str>,
    email: &str,
) -> Response {
    let text = look.text();
    if !app.config.load().auth.methods.password {
        return look.page(
            StatusCode::FORBIDDEN,
            text.forgot,
            &error(text.no_passwords),
        );
    }
    with_csrf(app, look, flow_id, flow, status, text.forgot, |csrf| {
        format!(
            "{problem}<p>{intro}</p><form method=\"post\" action=\"forgot-password\">{hidden}\
             <label for=\"email\">{label}</label>\
             <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required \
             autofocus value=\"{email}\"{invalid}>\
             <button type=\"submit\">{submit}</button></form>\
             <p><a href=\"login?flow={flow}\">{back}</a></p>",
            intro = text.forgot_intro,
            label = text.email,
            submit = text.send_reset,
            back = text.back_to_sign_in,
            problem = problem.map(error).unwrap_or_default(),
            hidden = flow_fields(flow_id, csrf),
            email = escape(email),
            invalid = if problem.is_some() {
                " aria-invalid=\"true\""
            } else {
                ""
            },
            flow = escape(flow_id),
        )
    })
}

pub async fn submit(
    State(app): State<AppState>,
    look: Look,
    client: Client,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (mut flow_id, mut csrf, mut email) = (String::new(), String::new(), String::new());
    for (name, value) in form_urlencoded::parse(&body) {
        match name.as_ref() {
            "flow" => flow_id = value.into_owned(),
            "csrf" => csrf = value.into_owned(),
            "email" => email = value.into_owned(),
            _ => {}
        }
    }
    let (mut flow, look) =
        match submitted_flow(&app, look, &headers, &flow_id, &csrf, |t| t.forgot).await {
            Ok(submitted) => submitted,
            Err(page) => return page,
        };
    let text = look.text();
    let address = match EmailAddress::parse(&email) {
        Ok(address) => address,
        Err(_) => {
            let message = text.enter_email;
            return render(
                &app,
                &look,
                &flow_id,
                &mut flow,
                StatusCode::BAD_REQUEST,
                Some(message),
                &email,
            )
            .await;
        }
    };
    let mut response = look.page(
        StatusCode::OK,
        text.check_inbox,
        &format!(
            "<p role=\"status\">{sent}</p><p><a href=\"login?flow={flow}\">{back}</a></p>",
            sent = fill(text.reset_sent, &[("email", address.as_str())]),
            flow = escape(&flow_id),
            back = text.back_to_sign_in,
        ),
    );
    match crate::auth::request_password_reset(&app, address, &client, &mut response).await {
        Ok(()) => response,
        Err(Error::RateLimited { .. }) => {
            let message = text.reset_rate_limited;
            render(
                &app,
                &look,
                &flow_id,
                &mut flow,
                StatusCode::TOO_MANY_REQUESTS,
                Some(message),
                &email,
            )
            .await
        }
        Err(err) => err.into_response(),
    }
}
