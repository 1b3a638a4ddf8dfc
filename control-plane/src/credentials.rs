//! The command line's platform sign-in: `authstack login` signs in on the platform instance
//! (email and password, as the dashboard does), enters the account's organization and keeps the
//! session's refresh token in a private file; `authstack token` turns it into a fresh platform
//! access token for the control-plane API (`curl -H "authorization: Bearer $(authstack token)"`).
//!
//! The file (`$AUTHSTACK_CONFIG_DIR/credentials.json`, else `~/.config/authstack/`) is mode
//! 0600 and holds a rotating refresh token: each `token` call rotates it, and `authstack login`
//! again (or signing out everywhere in the dashboard) replaces or ends it.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use authstack_instance::crypto::write_private_file;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// What `credentials.json` holds.
#[derive(Serialize, Deserialize)]
pub struct Stored {
    pub control_plane_url: String,
    pub gateway_url: String,
    /// The platform's publishable key (browser-safe).
    pub publishable_key: String,
    pub email: String,
    pub organization_id: String,
    refresh_token: String,
}

impl std::fmt::Debug for Stored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stored")
            .field("control_plane_url", &self.control_plane_url)
            .field("email", &self.email)
            .field("organization_id", &self.organization_id)
            .finish_non_exhaustive()
    }
}

/// Where the credentials live.
pub fn path() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("AUTHSTACK_CONFIG_DIR") {
        return Ok(PathBuf::from(dir).join("credentials.json"));
    }
    let base = match std::env::var_os("XDG_CONFIG_HOME") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(std::env::var_os("HOME").context("HOME is not set")?).join(".config"),
    };
    Ok(base.join("authstack").join("credentials.json"))
}

/// The platform's public details, from the control plane.
async fn platform(http: &reqwest::Client, control_plane: &str) -> anyhow::Result<(String, String)> {
    let url = format!("{control_plane}/v1/platform");
    let body: Value = http
        .get(&url)
        .send()
        .await
        .with_context(|| format!("reaching the control plane at {control_plane}"))?
        .error_for_status()
        .with_context(|| format!("GET {url}"))?
        .json()
        .await?;
    match (
        body["gateway_url"].as_str(),
        body["publishable_key"].as_str(),
    ) {
        (Some(gateway), Some(key)) => {
            Ok((gateway.trim_end_matches('/').to_owned(), key.to_owned()))
        }
        _ => bail!("{url} did not describe the platform"),
    }
}

/// A call to the platform instance through the gateway; non-2xx answers become the API's
/// own message.
async fn call(request: reqwest::RequestBuilder, what: &str) -> anyhow::Result<Value> {
    let response = request
        .send()
        .await
        .with_context(|| format!("{what}: no answer"))?;
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let message = body["message"].as_str().unwrap_or("no details");
        bail!("{what} failed ({status}): {message}");
    }
    Ok(body)
}

/// `authstack login`: signs in, enters `organization` (or the only organization of the user)
/// and stores the session. Returns what was stored, for the confirmation line.
pub async fn login(
    file: &Path,
    control_plane: &str,
    email: &str,
    password: &SecretString,
    organization: Option<&str>,
) -> anyhow::Result<(Stored, Vec<String>)> {
    let control_plane = control_plane.trim_end_matches('/');
    let http = reqwest::Client::new();
    let (gateway, key) = platform(&http, control_plane).await?;
    let session = call(
        http.post(format!("{gateway}/v1/auth/login"))
            .header("x-authstack-key", &key)
            .json(&json!({ "email": email, "password": password.expose_secret() })),
        "signing in",
    )
    .await?;
    let access = session["access_token"]
        .as_str()
        .context("no access token")?;
    let organizations = call(
        http.get(format!("{gateway}/v1/organizations"))
            .header("x-authstack-key", &key)
            .bearer_auth(access),
        "listing your organizations",
    )
    .await?;
    let listed: Vec<(String, String)> = organizations["data"]
        .as_array()
        .map(|orgs| {
            orgs.iter()
                .filter_map(|o| {
                    Some((o["id"].as_str()?.to_owned(), o["name"].as_str()?.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default();
    let chosen = match (organization, listed.as_slice()) {
        (Some(wanted), _) => listed
            .iter()
            .find(|(id, name)| id == wanted || name == wanted)
            .with_context(|| {
                format!(
                    "you are not a member of an organization {wanted:?}; yours: {}",
                    names(&listed)
                )
            })?
            .0
            .clone(),
        (None, [(id, _)]) => id.clone(),
        (None, []) => bail!(
            "{email} belongs to no organization yet: create an account in the dashboard first"
        ),
        (None, _) => bail!(
            "{email} belongs to several organizations; choose one with --organization: {}",
            names(&listed)
        ),
    };
    let entered = call(
        http.post(format!("{gateway}/v1/auth/refresh"))
            .header("x-authstack-key", &key)
            .json(&json!({ "refresh_token": session["refresh_token"], "org_id": chosen })),
        "entering the organization",
    )
    .await?;
    let stored = Stored {
        control_plane_url: control_plane.to_owned(),
        gateway_url: gateway,
        publishable_key: key,
        email: email.to_owned(),
        organization_id: chosen,
        refresh_token: entered["refresh_token"]
            .as_str()
            .context("no refresh token")?
            .to_owned(),
    };
    save(file, &stored)?;
    let accounts = accounts(
        &http,
        &stored,
        entered["access_token"].as_str().unwrap_or_default(),
    )
    .await
    .unwrap_or_default();
    Ok((stored, accounts))
}

fn names(listed: &[(String, String)]) -> String {
    listed
        .iter()
        .map(|(id, name)| format!("{name} ({id})"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn accounts(
    http: &reqwest::Client,
    stored: &Stored,
    access: &str,
) -> anyhow::Result<Vec<String>> {
    let body = call(
        http.get(format!("{}/v1/accounts", stored.control_plane_url))
            .bearer_auth(access),
        "listing the accounts",
    )
    .await?;
    Ok(body["data"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|a| a["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

fn save(path: &Path, stored: &Stored) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let _ = std::fs::remove_file(path);
    write_private_file(path, &serde_json::to_vec_pretty(stored)?)
}

/// `authstack token`: a fresh access token of the stored session (rotating its refresh token).
pub async fn token(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| {
        format!(
            "no stored sign-in at {}: run `authstack login` first",
            path.display()
        )
    })?;
    let mut stored: Stored = serde_json::from_slice(&bytes).with_context(|| {
        format!(
            "{} is not a stored sign-in: run `authstack login`",
            path.display()
        )
    })?;
    let http = reqwest::Client::new();
    let refreshed = call(
        http.post(format!("{}/v1/auth/refresh", stored.gateway_url))
            .header("x-authstack-key", &stored.publishable_key)
            .json(&json!({ "refresh_token": stored.refresh_token })),
        "refreshing the stored sign-in (run `authstack login` again if it ended)",
    )
    .await?;
    stored.refresh_token = refreshed["refresh_token"]
        .as_str()
        .context("no refresh token")?
        .to_owned();
    save(path, &stored)?;
    Ok(refreshed["access_token"]
        .as_str()
        .context("no access token")?
        .to_owned())
}
