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

use super::login::{FlowQuery, expired, finish, flow_fields, submitted_flow, with_csrf};
use crate::AppState;
use crate::auth::signup::{self, SignUp};
use crate::config::FieldRule;
use crate::error::Error;
use crate::flow::{self, Flow, SignUpStep, State as FlowState};
use crate::http::{Client, Query};
use crate::pages::{Language, Look, error, escape, fill, new_password_field, sentence};

/// What the form keeps when it is shown again after a refusal (never the password).
#[derive(Default)]
struct Entered {
    email: String,
    name: String,
    phone: String,
}

pub async fn show(State(app): State<AppState>, look: Look, Query(q): Query<FlowQuery>) -> Response {
    match flow::load(&app, q.flow()).await {
        Ok(Some(mut flow)) if matches!(flow.state, FlowState::FirstFactor { .. }) => {
            let look = look.for_request(&app, &flow.request);
            let entered = Entered {
                email: flow.login_hint().unwrap_or_default().to_owned(),
                ..Entered::default()
            };
            render(
                &app,
                &look,
                q.flow(),
                &mut flow,
                StatusCode::OK,
                None,
                &entered,
            )
            .await
        }
        Ok(_) => expired(&look),
        Err(err) => err.into_response(),
    }
}

/// The page when sign-up is closed: the way back to signing in.
fn closed(look: &Look, flow_id: &str) -> Response {
    let text = look.text();
    look.page(
        StatusCode::FORBIDDEN,
        text.sign_up,
        &format!(
            "{}<p>{}</p>",
            error(text.signup_closed),
            fill(text.signup_closed_link, &[("flow", flow_id)])
        ),
    )
}

async fn render(
    app: &AppState,
    look: &Look,
    flow_id: &str,
    flow: &mut Flow,
    status: StatusCode,
    problem: Option<&str>,
    entered: &Entered,
) -> Response {
    let config = app.config.load_full();
    if !signup::available(&config) {
        return closed(look, flow_id);
    }
    let fields = &config.auth.signup.fields;
    let text = look.text();
    with_csrf(app, look, flow_id, flow, status, text.sign_up, |csrf| {
        let invalid = if problem.is_some() {
            " aria-invalid=\"true\""
        } else {
            ""
        };
        let mut form = format!(
            "{problem}<form method=\"post\" action=\"signup\">{hidden}\
             <label for=\"email\">{label}</label>\
             <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" required \
             autofocus value=\"{email}\"{invalid}>",
            problem = problem.map(error).unwrap_or_default(),
            hidden = flow_fields(flow_id, csrf),
            email = escape(&entered.email),
            label = text.email,
        );
        let optional = |name, label, kind, autocomplete, rule, value: &str| {
            optional_field(look, name, label, kind, autocomplete, rule, value)
        };
        form.push_str(&optional(
            "name",
            text.name,
            "text",
            "name",
            fields.name,
            &entered.name,
        ));
        form.push_str(&optional(
            "phone",
            text.phone,
            "tel",
            "tel",
            fields.phone,
            &entered.phone,
        ));
        form.push_str(&new_password_field(
            &config.passwords,
            text,
            text.password,
            problem.is_some(),
        ));
        form.push_str(&format!(
            "<button type=\"submit\">{}</button></form><p>{}</p>",
            text.create_account,
            fill(text.have_account, &[("flow", flow_id)]),
        ));
        form
    })
}

/// A sign-up field the instance asks for (optional or required); nothing when it is off.
fn optional_field(
    look: &Look,
    name: &str,
    label: &str,
    kind: &str,
    autocomplete: &str,
    rule: FieldRule,
    value: &str,
) -> String {
    let (label, required) = match rule {
        FieldRule::Off => return String::new(),
        FieldRule::Optional => (
            crate::pages::plain(look.text().optional, &[("label", label)]),
            "",
        ),
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
    look: Look,
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
    let (mut flow, look) =
        match submitted_flow(&app, look, &headers, &flow_id, &csrf, |t| t.sign_up).await {
            Ok(submitted) => submitted,
            Err(page) => return page,
        };
    let text = look.text();
    let given = |text: &str| (!text.trim().is_empty()).then(|| text.to_owned());
    let request = SignUp {
        email: entered.email.clone(),
        password: SecretString::from(password),
        name: given(&entered.name),
        phone: given(&entered.phone),
    };
    let again = async |flow: &mut Flow, status: StatusCode, message: &str| {
        render(&app, &look, &flow_id, flow, status, Some(message), &entered).await
    };
    match flow::submit_sign_up(&app, &mut flow, &request, &client).await {
        Ok(SignUpStep::Completed(done)) => finish(&app, *done).await,
        Ok(SignUpStep::VerificationSent { email }) => check_inbox(&look, &flow_id, email.as_str()),
        // The reason as the error gives it in English; in the other languages, the catalogue's.
        Err(err @ (Error::InvalidRequest(_) | Error::WeakPassword(_))) => {
            let message = match (&err, look.language()) {
                (_, Language::English) => sentence(&err.to_string()),
                (Error::WeakPassword(_), _) => look.weak_password(&app.config.load().passwords),
                _ => text.check_fields.to_owned(),
            };
            again(&mut flow, StatusCode::BAD_REQUEST, &message).await
        }
        Err(Error::Conflict(_)) => look.page(
            StatusCode::CONFLICT,
            text.sign_up,
            &format!(
                "{}<p>{}</p>",
                error(text.account_exists),
                fill(text.account_exists_link, &[("flow", &flow_id)])
            ),
        ),
        Err(Error::RateLimited { .. }) => {
            let message = text.sign_up_rate_limited;
            again(&mut flow, StatusCode::TOO_MANY_REQUESTS, message).await
        }
        Err(Error::Refused("signup_disabled" | "method_disabled", _)) => closed(&look, &flow_id),
        Err(err) => err.into_response(),
    }
}

/// After a sign-up that needs the address verified: the same page whether or not the address
/// already had an account (its owner got a mail saying so).
fn check_inbox(look: &Look, flow_id: &str, email: &str) -> Response {
    let text = look.text();
    look.page(
        StatusCode::OK,
        text.check_inbox,
        &format!(
            "<p role=\"status\">{sent}</p>\
             <p><a href=\"login?flow={flow}\">{next}</a></p><p class=\"hint\">{hint}</p>",
            sent = fill(text.verification_sent, &[("email", email)]),
            flow = escape(flow_id),
            next = text.continue_sign_in,
            hint = text.no_mail,
        ),
    )
}
