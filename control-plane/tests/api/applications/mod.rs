//! Applications (the OpenID Connect clients of a customer's instance) through the control plane:
//! the instance's own admin routes behind a platform access token, with the instance's issuer
//! and discovery URL, audited, for the roles that may manage keys, on real instance processes.
//! One file per concern:
//!
//! - `secrets`: a secret shown once, rotated, kept for a grace period, minted only after a
//!   recent sign-in; changes, deletions and their audit trail.
//! - `validation`: the instance's validation errors, passed through as 400 naming the field.
//! - `access`: who may see and change applications, and in which account and state.
//! - `sign_in`: applications that sign a user in, mint machine tokens and select organizations.

mod access;
mod secrets;
mod sign_in;
mod validation;

use serde_json::{Value, json};

use crate::helpers::{Owner, Reply, TestPlatform};

const REDIRECT: &str = "https://app.example.com/callback";

/// The applications of the owner's `env` instance.
pub(crate) fn applications(owner: &Owner, env: &str) -> String {
    owner.instance(env, "/applications")
}

fn web_app(name: &str) -> Value {
    json!({ "name": name, "kind": "web", "redirect_uris": [REDIRECT] })
}

/// A subscribed owner and the id of their `env` instance.
pub(crate) async fn customer(platform: &TestPlatform, email: &str, env: &str) -> (Owner, String) {
    let owner = platform.owner(email).await;
    let instances = platform.subscribe(&owner, "starter").await;
    let id = instances
        .iter()
        .find(|i| i["environment"] == env)
        .and_then(|i| i["id"].as_str())
        .expect("an instance")
        .to_owned();
    (owner, id)
}

/// Creates an application of the live instance (201) and returns the answer.
async fn create(platform: &TestPlatform, owner: &Owner, body: Value) -> Reply {
    let created = platform
        .post(&applications(owner, "live"), &owner.token, body)
        .await;
    created.assert_ok(201);
    created
}

/// `POST …/rotate-secret` of the application at `one`, with `body` if any.
async fn rotate(platform: &TestPlatform, one: &str, token: &str, body: Option<Value>) -> Reply {
    let path = format!("{one}/rotate-secret");
    match body {
        Some(body) => platform.post(&path, token, body).await,
        None => platform.post_empty(&path, token).await,
    }
}
