//! First factors: the ways a user proves who they are at the start of a sign-in flow. Each is
//! one [`FirstFactor`] in its own file, registered in [`FIRST_FACTORS`]; the hosted page renders
//! the fields a factor declares and hands the submitted values back to it.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use secrecy::{ExposeSecret, SecretString};

use crate::AppState;
use crate::error::Result;
use crate::http::Client;
use crate::pages::Text;
use crate::users::User;

/// A boxed future, so that factors and policies can sit behind `dyn`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The registered first factors, in the order the sign-in page offers them.
pub static FIRST_FACTORS: &[&dyn FirstFactor] = &[&super::password::Password];

/// The factor named `method` (the form's `method` field), if it is registered and enabled.
pub fn find(app: &AppState, method: &str) -> Option<&'static dyn FirstFactor> {
    FIRST_FACTORS
        .iter()
        .copied()
        .find(|f| f.method() == method && f.enabled(app))
}

/// The factors the sign-in page shows on this instance.
pub fn enabled(app: &AppState) -> Vec<&'static dyn FirstFactor> {
    FIRST_FACTORS
        .iter()
        .copied()
        .filter(|f| f.enabled(app))
        .collect()
}

/// What an input of the sign-in form asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Email,
    Password,
}

/// One input a factor needs on the sign-in page.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    /// The input's label, in the page's language.
    pub label: fn(&Text) -> &'static str,
    pub kind: FieldKind,
    /// Prefilled with the flow's login hint (`login_hint`).
    pub takes_hint: bool,
}

/// The values a user submitted for a factor's fields. Every value is kept secret: a
/// password must not reach a log through `Debug`.
#[derive(Default)]
pub struct Submission(HashMap<String, SecretString>);

impl std::fmt::Debug for Submission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Submission {
    pub fn insert(&mut self, name: &str, value: String) {
        self.0.insert(name.to_owned(), SecretString::from(value));
    }

    pub fn get(&self, name: &str) -> Option<&SecretString> {
        self.0.get(name)
    }

    /// A submitted value as text; empty when absent.
    pub fn text(&self, name: &str) -> &str {
        self.0.get(name).map_or("", |v| v.expose_secret())
    }
}

/// A way to authenticate a user at the start of a flow: password today; magic link, one-time
/// code, passkey, social and SAML sign-in are further implementations.
pub trait FirstFactor: Sync {
    /// The form's `method` value, e.g. `password`.
    fn method(&self) -> &'static str;
    /// The RFC 8176 authentication method reference it yields, e.g. `pwd`.
    fn amr(&self) -> &'static str;
    /// Whether the instance's configuration turns it on.
    fn enabled(&self, app: &AppState) -> bool;
    /// The button's text on the sign-in page, in its language.
    fn submit_label(&self, text: &Text) -> &'static str;
    fn fields(&self) -> &'static [Field];
    /// Who the submission proves the user to be. Failures must not tell whether an account
    /// exists (`InvalidCredentials` for both).
    fn verify<'a>(
        &'a self,
        app: &'a AppState,
        submission: &'a Submission,
        client: &'a Client,
    ) -> BoxFuture<'a, Result<User>>;
    /// Called once the whole flow has succeeded (every policy passed).
    fn completed<'a>(
        &'a self,
        app: &'a AppState,
        user: &'a User,
        client: &'a Client,
    ) -> BoxFuture<'a, Result<()>>;
}
