//! `GET|POST /signup?flow=…`: the hosted sign-up page, reached from the sign-in page or by
//! `prompt=create`. It asks for what the instance's sign-up rules ask (`auth.signup.fields`)
//! and drives the same flow as the sign-in page: a new account without required verification
//! goes back to the application signed in; otherwise the page says to check the inbox, and the
//! flow waits at the sign-in form with the address filled in.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;

use super::login::{FlowQuery, expired, finish, flow_fields, product, submitted_flow, with_csrf};
use crate::AppState;
use crate::auth::signup::{self, SignUp};
use crate::config::FieldRule;
use crate::error::Error;
use crate::flow::{self, Flow, SignUpStep, State as FlowState};
use crate::http::{Client, Query};
use crate::pages::{error, escape, new_password_field, page, sentence};

const TITLE: &str = "Create your account";

/// What the form keeps when it is shown again after a refusal (never the password).
#[derive(Default)]
struct Entered {
    email: String,
    name: String,
    phone: String,
}

pub async fn show(State(app): State<AppState>, Query(q): Query<FlowQuery>) -> Response {
    match flow::load(&app, q.flow()).await {
        Ok(Some(mut flow)) if matches!(flow.state, FlowState::FirstFactor { .. }) => {
            let entered = Entered {
                email: flow.login_hint().unwrap_or_default().to_owned(),
                ..Entered::default()
            };
            render(&app, q.flow(), &mut flow, StatusCode::OK, None, &entered).await
        }
        Ok(_) => expired(&app),
        Err(err) => err.into_response(),
    }
}

/// The page when sign-up is closed: the way back to signing in.
fn closed(app: &AppState, flow_id: &str) -> Response {
    page(
        StatusCode::FORBIDDEN,
        &product(app),
        TITLE,
        &format!(
            "{}<p><a href=\"login?flow={}\">Sign in</a> with an existing account.</p>",
            error("New accounts cannot be created here: ask for an invitation."),
            escape(flow_id)
        ),
    )
}

async fn render(
    app: &AppState,
    flow_id: &str,
    flow: &mut Flow,
    status: StatusCode,
    problem: Option<&str>,
    entered: &Entered,
) -> Response {
    let config = app.config.load_full();
    if !signup::available(&config) {
        return closed(app, flow_id);
    }
    let fields = &config.auth.signup.fields;
    with_csrf(app, flow_id, flow, status, TITLE, |csrf| {
        let invalid = if problem.is_some() {
            " aria-invalid=\"true\""
        } else {
            ""
        };
        let mut form = format!(
            "{problem}<form method=\"post\" action=\"signup\">{hidden}\
             <label for=\"email\">Email address</label>\
             <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" required \
             autofocus value=\"{email}\"{invalid}>",
            problem = problem.map(error).unwrap_or_default(),
            hidden = flow_fields(flow_id, csrf),
            email = escape(&entered.email),
        );
        form.push_str(&optional_field(
            "name",
            "Name",
            "text",
            "name",
            fields.name,
            &entered.name,
        ));
        form.push_str(&optional_field(
            "phone",
            "Phone number",
            "tel",
            "tel",
            fields.phone,
            &entered.phone,
        ));
        form.push_str(&new_password_field(
            &config.passwords,
            "Password",
            problem.is_some(),
        ));
        form.push_str(&format!(
            "<button type=\"submit\">Create account</button></form>\
             <p>Already have an account? <a href=\"login?flow={flow}\">Sign in</a></p>",
            flow = escape(flow_id),
        ));
        form
    })
}

/// A sign-up field the instance asks for (optional or required); nothing when it is off.
fn optional_field(
    name: &str,
    label: &str,
    kind: &str,
    autocomplete: &str,
    rule: FieldRule,
    value: &str,
) -> String {
    let (label, required) = match rule {
        FieldRule::Off => return String::new(),
        FieldRule::Optional => (format!("{label} (optional)"), ""),
        FieldRule::Required => (label.to_owned(), " required"),
    };
    format!(
        "<label for=\"{name}\">{label}</label>\
         <input id=\"{name}\" name=\"{name}\" type=\"{kind}\" autocomplete=\"{autocomplete}\"{required} \
         value=\"{value}\">",
        label = escape(&label),
        value = escape(value),
    )
}

pub async fn submit(
    State(app): State<AppState>,
    client: Client,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (mut flow_id, mut csrf) = (String::new(), String::new());
    let mut entered = Entered::default();
    let mut password = String::new();
    for (name, value) in form_urlencoded::parse(&body) {
        match name.as_ref() {
            "flow" => flow_id = value.into_owned(),
            "csrf" => csrf = value.into_owned(),
            "email" => entered.email = value.into_owned(),
            "name" => entered.name = value.into_owned(),
            "phone" => entered.phone = value.into_owned(),
            "password" => password = value.into_owned(),
            _ => {}
        }
    }
    let mut flow = match submitted_flow(&app, &headers, &flow_id, &csrf, TITLE).await {
        Ok(flow) => flow,
        Err(page) => return page,
    };
    let given = |text: &str| (!text.trim().is_empty()).then(|| text.to_owned());
    let request = SignUp {
        email: entered.email.clone(),
        password: SecretString::from(password),
        name: given(&entered.name),
        phone: given(&entered.phone),
    };
    let again = async |flow: &mut Flow, status: StatusCode, message: &str| {
        render(&app, &flow_id, flow, status, Some(message), &entered).await
    };
    match flow::submit_sign_up(&app, &mut flow, &request, &client).await {
        Ok(SignUpStep::Completed(done)) => finish(&app, *done).await,
        Ok(SignUpStep::VerificationSent { email }) => check_inbox(&app, &flow_id, email.as_str()),
        Err(Error::InvalidRequest(message) | Error::WeakPassword(message)) => {
            again(&mut flow, StatusCode::BAD_REQUEST, &sentence(&message)).await
        }
        Err(Error::Conflict(_)) => {
            let message = "An account with this email address already exists.";
            page(
                StatusCode::CONFLICT,
                &product(&app),
                TITLE,
                &format!(
                    "{}<p><a href=\"login?flow={}\">Sign in</a> instead, or reset its password from \
                     the sign-in page.</p>",
                    error(message),
                    escape(&flow_id)
                ),
            )
        }
        Err(Error::RateLimited { .. }) => {
            let message = "Too many new accounts from here. Wait a while, then try again.";
            again(&mut flow, StatusCode::TOO_MANY_REQUESTS, message).await
        }
        Err(Error::Refused("signup_disabled" | "method_disabled", _)) => closed(&app, &flow_id),
        Err(err) => err.into_response(),
    }
}

/// After a sign-up that needs the address verified: the same page whether or not the address
/// already had an account (its owner got a mail saying so).
fn check_inbox(app: &AppState, flow_id: &str, email: &str) -> Response {
    page(
        StatusCode::OK,
        &product(app),
        "Check your inbox",
        &format!(
            "<p role=\"status\">We sent a mail to <strong>{email}</strong>. Open the link in it to \
             verify your address, then sign in.</p>\
             <p><a href=\"login?flow={flow}\">Continue to sign in</a></p>\
             <p class=\"hint\">No mail? Check the spam folder, or go back to the application and \
             start again in a few minutes.</p>",
            email = escape(email),
            flow = escape(flow_id),
        ),
    )
}
