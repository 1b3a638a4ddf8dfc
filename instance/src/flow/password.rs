//! The password first factor: the same checks as `POST /v1/auth/login` (rate limits, failed
//! attempts, enumeration-safe answers), through [`crate::auth::password`].

use super::factors::{BoxFuture, Field, FieldKind, FirstFactor, Submission};
use crate::AppState;
use crate::error::Result;
use crate::http::Client;
use crate::pages::Text;
use crate::users::{EmailAddress, User};

pub struct Password;

static FIELDS: [Field; 2] = [
    Field {
        name: "email",
        label: |text| text.email,
        kind: FieldKind::Email,
        takes_hint: true,
    },
    Field {
        name: "password",
        label: |text| text.password,
        kind: FieldKind::Password,
        takes_hint: false,
    },
];

impl FirstFactor for Password {
    fn method(&self) -> &'static str {
        "password"
    }

    fn amr(&self) -> &'static str {
        "pwd"
    }

    fn enabled(&self, app: &AppState) -> bool {
        app.config.load().auth.methods.password
    }

    fn submit_label(&self, text: &Text) -> &'static str {
        text.sign_in
    }

    fn fields(&self) -> &'static [Field] {
        &FIELDS
    }

    fn verify<'a>(
        &'a self,
        app: &'a AppState,
        submission: &'a Submission,
        client: &'a Client,
    ) -> BoxFuture<'a, Result<User>> {
        Box::pin(async move {
            let email = EmailAddress::parse(submission.text("email"))?;
            let empty = secrecy::SecretString::from(String::new());
            let password = submission.get("password").unwrap_or(&empty);
            crate::auth::password::verify(app, &email, password, client).await
        })
    }

    fn completed<'a>(
        &'a self,
        app: &'a AppState,
        user: &'a User,
        client: &'a Client,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(crate::auth::password::succeeded(app, user, client))
    }
}
