//! The few Stripe API calls billing makes, as Stripe documents them: form-encoded POSTs with a
//! bearer key, an idempotency key and a pinned API version.

use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context, anyhow};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::StripeConfig;
use crate::error::{Error, Result};

/// The API version every request asks for; webhook endpoints should be created with it too.
pub const STRIPE_VERSION: &str = "2025-03-31.basil";

const TIMEOUT: Duration = Duration::from_secs(10);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What a Checkout Session subscribes whom to.
#[derive(Debug, Clone)]
pub struct CheckoutRequest {
    /// The `cus_` id.
    pub customer: String,
    pub price_id: String,
    pub account_id: String,
    pub plan: String,
    pub region: String,
    pub success_url: String,
    pub cancel_url: String,
    /// Derived from the request when `None`.
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutSession {
    /// The `cs_` id, echoed by `checkout.session.completed`.
    pub id: String,
    /// Where to send the customer to pay.
    pub url: String,
}

#[derive(Clone)]
pub struct StripeClient {
    http: reqwest::Client,
    /// Ends with `/`.
    api_base: String,
    api_key: SecretString,
}

impl fmt::Debug for StripeClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StripeClient")
            .field("api_base", &self.api_base)
            .field("api_key", &"[redacted]")
            .finish()
    }
}

impl StripeClient {
    /// A client for `config.api_base` (Stripe, or a local fake in tests). Cheap: the HTTP
    /// connection pool is shared by every client of the process.
    pub fn new(config: &StripeConfig) -> Result<StripeClient> {
        let mut api_base = config.api_base.trim().to_owned();
        if !api_base.ends_with('/') {
            api_base.push('/');
        }
        reqwest::Url::parse(&api_base)
            .with_context(|| format!("the Stripe API base '{api_base}' is not a URL"))?;
        Ok(StripeClient {
            http: shared_http()?,
            api_base,
            api_key: config.api_key.clone(),
        })
    }

    /// `POST /v1/customers` for the account; returns the `cus_` id. The idempotency key is
    /// derived from the arguments, so a retry within Stripe's 24 hours gets the same customer.
    pub async fn create_customer(
        &self,
        account_id: &str,
        name: &str,
        email: Option<&str>,
    ) -> Result<String> {
        let mut form = vec![("name", name.to_owned())];
        if let Some(email) = email {
            form.push(("email", email.to_owned()));
        }
        form.push(("metadata[account_id]", account_id.to_owned()));
        let customer = self.post("v1/customers", &form, None).await?;
        field(&customer, "id")
    }

    /// `POST /v1/checkout/sessions` in subscription mode. The account, plan and region go into
    /// the session's and the subscription's metadata, so that its webhook events name them.
    pub async fn create_checkout_session(
        &self,
        request: &CheckoutRequest,
    ) -> Result<CheckoutSession> {
        let form = [
            ("mode", "subscription".to_owned()),
            ("customer", request.customer.clone()),
            ("client_reference_id", request.account_id.clone()),
            ("line_items[0][price]", request.price_id.clone()),
            ("line_items[0][quantity]", "1".to_owned()),
            ("success_url", request.success_url.clone()),
            ("cancel_url", request.cancel_url.clone()),
            ("metadata[account_id]", request.account_id.clone()),
            ("metadata[plan]", request.plan.clone()),
            ("metadata[region]", request.region.clone()),
            (
                "subscription_data[metadata][account_id]",
                request.account_id.clone(),
            ),
            ("subscription_data[metadata][plan]", request.plan.clone()),
            (
                "subscription_data[metadata][region]",
                request.region.clone(),
            ),
        ];
        let session = self
            .post(
                "v1/checkout/sessions",
                &form,
                request.idempotency_key.as_deref(),
            )
            .await?;
        Ok(CheckoutSession {
            id: field(&session, "id")?,
            url: field(&session, "url")?,
        })
    }

    /// `POST /v1/billing_portal/sessions`; returns the portal's URL.
    pub async fn create_portal_session(&self, customer: &str, return_url: &str) -> Result<String> {
        let form = [
            ("customer", customer.to_owned()),
            ("return_url", return_url.to_owned()),
        ];
        // A portal session lives minutes: a key derived from the arguments would replay an
        // expired one for 24 hours.
        let key = crate::db::new_id("portal");
        let session = self
            .post("v1/billing_portal/sessions", &form, Some(&key))
            .await?;
        field(&session, "url")
    }

    async fn post(
        &self,
        path: &str,
        form: &[(&str, String)],
        idempotency_key: Option<&str>,
    ) -> Result<Value> {
        let idempotency_key = match idempotency_key {
            Some(key) => key.to_owned(),
            None => derived_idempotency_key(path, form),
        };
        let url = format!("{}{path}", self.api_base);
        let response = self
            .http
            .post(&url)
            .bearer_auth(self.api_key.expose_secret())
            .header("Idempotency-Key", idempotency_key)
            .header("Stripe-Version", STRIPE_VERSION)
            .form(form)
            .send()
            .await
            .map_err(|err| unreachable_stripe(path, &err))?;
        let status = response.status();
        let body = response
            .bytes()
            .await
            .map_err(|err| unreachable_stripe(path, &err))?;
        let json: Option<Value> = serde_json::from_slice(&body).ok();
        if status.is_success() {
            return json.ok_or_else(|| {
                Error::BadGateway(format!(
                    "Stripe answered {path} with a body that is not JSON"
                ))
            });
        }
        let error = json.as_ref().map(|json| &json["error"]);
        let message = error.and_then(|e| e["message"].as_str());
        tracing::warn!(
            path,
            status = status.as_u16(),
            error_type = error.and_then(|e| e["type"].as_str()),
            code = error.and_then(|e| e["code"].as_str()),
            message,
            "Stripe refused a request"
        );
        Err(Error::BadGateway(match message {
            Some(message) => format!("Stripe refused the request: {message}"),
            None => format!("Stripe answered {path} with HTTP {}", status.as_u16()),
        }))
    }
}

/// A hash of the request, so that retrying the same request is recognised by Stripe.
fn derived_idempotency_key(path: &str, form: &[(&str, String)]) -> String {
    let mut hash = Sha256::new();
    hash.update(path.as_bytes());
    for (key, value) in form {
        hash.update(b"\n");
        hash.update(key.as_bytes());
        hash.update(b"=");
        hash.update(value.as_bytes());
    }
    let digest = hash.finalize();
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("authstack-{hex}")
}

fn unreachable_stripe(path: &str, err: &reqwest::Error) -> Error {
    if err.is_timeout() {
        Error::BadGateway(format!("Stripe did not answer {path} in time"))
    } else {
        tracing::warn!(path, error = %err, "Stripe could not be reached");
        Error::BadGateway(format!("Stripe could not be reached ({path})"))
    }
}

fn field(object: &Value, name: &'static str) -> Result<String> {
    object[name]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::BadGateway(format!("Stripe's answer has no `{name}`")))
}

fn shared_http() -> Result<reqwest::Client> {
    static HTTP: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    HTTP.get_or_init(|| {
        // reqwest is built without a default TLS provider; installing one is a no-op when the
        // process already has one.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!(
                "authstack-control-plane/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(|err| err.to_string())
    })
    .clone()
    .map_err(|err| Error::Internal(anyhow!("the HTTP client for Stripe: {err}")))
}
