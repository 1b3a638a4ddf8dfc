//! Webhooks: the endpoints a customer instance's configuration lists, seen and operated from the
//! dashboard with a platform access token instead of the instance's admin key. The instance owns
//! them (its `/v1/admin/webhooks`: standing, delivery log, secrets, test events, replay); the
//! control plane authorizes the member, forwards the request with the instance's admin key and
//! audits what changes. Endpoints are added and removed by configuration revisions, not here.

pub mod routes;

use reqwest::Method;
use secrecy::SecretString;
use serde::Deserialize;

use crate::App;
use crate::error::{Error, Result};
use crate::instances::Instance;

pub use authstack_instance::webhooks::routes::{
    Replayed as WebhookReplayed, TestQueued as WebhookTestQueued, WebhookEndpoint,
};
pub use authstack_instance::webhooks::store::Delivery as WebhookDelivery;

/// A new signing secret: the only answer with it.
#[derive(Deserialize)]
pub struct RotatedSecret {
    pub id: String,
    pub secret: SecretString,
    pub previous_secret_expires_at: Option<String>,
}

impl std::fmt::Debug for RotatedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotatedSecret")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct List<T> {
    data: Vec<T>,
}

/// An endpoint id as the instance makes them; anything else is absent (it goes into the
/// instance's URL, so it must never be a path of its own).
pub fn parse_id(raw: &str) -> Result<&str> {
    hex_after(raw, "whe_", 24)
        .then_some(raw)
        .ok_or(Error::NotFound(ENDPOINT))
}

/// An event id as the instance makes them (`evt_` and 32 hex digits).
pub fn parse_event_id(raw: &str) -> Result<&str> {
    hex_after(raw, "evt_", 32)
        .then_some(raw)
        .ok_or(Error::NotFound(EVENT))
}

fn hex_after(raw: &str, prefix: &str, len: usize) -> bool {
    raw.strip_prefix(prefix).is_some_and(|hex| {
        hex.len() == len && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

const PATH: &str = "/v1/admin/webhooks";
const ENDPOINT: &str = "webhook";
const EVENT: &str = "webhook_event";

pub async fn list(app: &App, instance: &Instance) -> Result<Vec<WebhookEndpoint>> {
    let list: List<WebhookEndpoint> =
        read(instance, instance.admin(app, Method::GET, PATH)?, ENDPOINT).await?;
    Ok(list.data)
}

pub async fn deliveries(
    app: &App,
    instance: &Instance,
    id: &str,
    limit: u32,
) -> Result<Vec<WebhookDelivery>> {
    let path = format!("{PATH}/{}/deliveries?limit={limit}", parse_id(id)?);
    let list: List<WebhookDelivery> =
        read(instance, instance.admin(app, Method::GET, &path)?, ENDPOINT).await?;
    Ok(list.data)
}

pub async fn rotate_secret(app: &App, instance: &Instance, id: &str) -> Result<RotatedSecret> {
    let path = format!("{PATH}/{}/rotate-secret", parse_id(id)?);
    read(
        instance,
        instance.admin(app, Method::POST, &path)?,
        ENDPOINT,
    )
    .await
}

pub async fn test(app: &App, instance: &Instance, id: &str) -> Result<WebhookTestQueued> {
    let path = format!("{PATH}/{}/test", parse_id(id)?);
    read(
        instance,
        instance.admin(app, Method::POST, &path)?,
        ENDPOINT,
    )
    .await
}

pub async fn enable(app: &App, instance: &Instance, id: &str) -> Result<WebhookEndpoint> {
    let path = format!("{PATH}/{}/enable", parse_id(id)?);
    read(
        instance,
        instance.admin(app, Method::POST, &path)?,
        ENDPOINT,
    )
    .await
}

pub async fn replay(app: &App, instance: &Instance, event_id: &str) -> Result<WebhookReplayed> {
    let path = format!("{PATH}/deliveries/{}/replay", parse_event_id(event_id)?);
    read(instance, instance.admin(app, Method::POST, &path)?, EVENT).await
}

/// Sends `request` to the instance; a `404` is `missing` (no such endpoint or event), any other
/// refusal a fault of the instance or of our call to it.
async fn read<T: serde::de::DeserializeOwned>(
    instance: &Instance,
    request: reqwest::RequestBuilder,
    missing: &'static str,
) -> Result<T> {
    let response = request.send().await.map_err(|err| {
        tracing::warn!(instance_id = %instance.id, error = %err, "webhooks: the instance did not answer");
        Error::InstanceUnavailable
    })?;
    let status = response.status();
    if status.is_success() {
        return response.json().await.map_err(|err| {
            Error::Internal(anyhow::anyhow!(
                "the webhooks of instance {} are not readable: {err}",
                instance.id
            ))
        });
    }
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    let message = body["message"].as_str().unwrap_or_default().to_owned();
    Err(match status.as_u16() {
        404 => Error::NotFound(missing),
        401 | 403 => Error::Internal(anyhow::anyhow!(
            "instance {} refused the control plane's admin key: {status} {message}",
            instance.id
        )),
        _ => {
            tracing::warn!(instance_id = %instance.id, %status, %message, "webhooks: the instance refused");
            Error::InstanceUnavailable
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_webhook_ids_reach_the_instance() {
        assert!(parse_id("whe_0123456789abcdef01234567").is_ok());
        assert!(parse_event_id("evt_0123456789abcdef0123456789abcdef").is_ok());
        for bad in [
            "",
            "whe_",
            "whe_0123456789ABCDEF01234567",
            "whe_0123456789abcdef0123456",
            "../applications",
            "whe_0123456789abcdef01234567/../../users",
        ] {
            assert!(
                matches!(parse_id(bad), Err(Error::NotFound("webhook"))),
                "{bad}"
            );
        }
        assert!(parse_event_id("evt_x/../../users").is_err());
    }
}
