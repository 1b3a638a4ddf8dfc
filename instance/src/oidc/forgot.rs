//! `GET|POST /forgot-password?flow=…`: asking for a password-reset link from the hosted sign-in
//! page. Every address gets the same answer in the same time (the lookup and the mail run
//! after the answer is sent); the mailed link opens the instance's reset page.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::login::{FlowQuery, expired, flow_fields, product, submitted_flow, with_csrf};
use crate::AppState;
use crate::error::Error;
use crate::flow::{self, Flow, State as FlowState};
use crate::http::{Client, Query};
use crate::pages::{error, escape, page};
use crate::users::EmailAddress;

const TITLE: &str = "Reset your password";

pub async fn show(State(app): State<AppState>, Query(q): Query<FlowQuery>) -> Response {
    match flow::load(&app, q.flow()).await {
        Ok(Some(mut flow)) if matches!(flow.state, FlowState::FirstFactor { .. }) => {
            let hint = flow.login_hint().unwrap_or_default().to_owned();
            render(&app, q.flow(), &mut flow, StatusCode::OK, None, &hint).await
        }
        Ok(_) => expired(&app),
        Err(err) => err.into_response(),
    }
}

async fn render(
    app: &AppState,
    flow_id: &str,
    flow: &mut Flow,
    status: StatusCode,
    problem: Option<&str>,
    email: &str,
) -> Response {
    if !app.config.load().auth.methods.password {
        return page(
            StatusCode::FORBIDDEN,
            &product(app),
            TITLE,
            &error("This application does not use passwords."),
        );
    }
    with_csrf(app, flow_id, flow, status, TITLE, |csrf| {
        format!(
            "{problem}<p>Enter the address of your account: we mail you a link to choose a new \
             password.</p><form method=\"post\" action=\"forgot-password\">{hidden}\
             <label for=\"email\">Email address</label>\
             <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"username\" required \
             autofocus value=\"{email}\"{invalid}>\
             <button type=\"submit\">Send reset link</button></form>\
             <p><a href=\"login?flow={flow}\">Back to sign in</a></p>",
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
    let mut flow = match submitted_flow(&app, &headers, &flow_id, &csrf, TITLE).await {
        Ok(flow) => flow,
        Err(page) => return page,
    };
    let address = match EmailAddress::parse(&email) {
        Ok(address) => address,
        Err(_) => {
            let message = "Enter an email address like name@example.com.";
            return render(
                &app,
                &flow_id,
                &mut flow,
                StatusCode::BAD_REQUEST,
                Some(message),
                &email,
            )
            .await;
        }
    };
    let mut response = page(
        StatusCode::OK,
        &product(&app),
        "Check your inbox",
        &format!(
            "<p role=\"status\">If an account exists for <strong>{email}</strong>, a link to choose \
             a new password is on its way.</p>\
             <p><a href=\"login?flow={flow}\">Back to sign in</a></p>",
            email = escape(address.as_str()),
            flow = escape(&flow_id),
        ),
    );
    match crate::auth::request_password_reset(&app, address, &client, &mut response).await {
        Ok(()) => response,
        Err(Error::RateLimited { .. }) => {
            let message = "Too many reset requests from here. Wait a few minutes, then try again.";
            render(
                &app,
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
