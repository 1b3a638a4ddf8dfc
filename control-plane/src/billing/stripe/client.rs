//! The few Stripe API calls billing makes, built with async-stripe's typed requests
//! (`stripe_core`, `stripe_checkout`, `stripe_billing`: their parameters, paths and form
//! encoding) and sent over the control plane's own HTTP client ([`StripeClient`] implements
//! async-stripe's client trait: bearer key, idempotency key, the crate's pinned API version).
//!
//! The answers are read for the fields billing uses (`id`, `url`) instead of as the crate's
//! full objects: a typed `Customer` or `CheckoutSession` needs every field of the API version
//! the crate was generated for, which localstripe (the tests' Stripe) and accounts pinned to
//! an older version do not send.

use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context, anyhow};
use bytes::Bytes;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::{Digest, Sha256};
use stripe_billing::billing_portal_session::CreateBillingPortalSession;
use stripe_checkout::checkout_session::{
    CreateCheckoutSession, CreateCheckoutSessionLineItems, CreateCheckoutSessionSubscriptionData,
};
use stripe_client_core::{
    CustomizedStripeRequest, IdempotencyKey, RequestStrategy, StripeClientErr, StripeMethod,
    StripeRequest,
};
use stripe_core::customer::CreateCustomer;
use stripe_shared::CheckoutSessionMode;

use crate::config::StripeConfig;
use crate::error::{Error, Result};

/// The API version every request asks for: the one async-stripe's types were generated for
/// (a unit test keeps the two equal). Webhook endpoints should be created with it too.
pub const STRIPE_VERSION: &str = "2026-09-30.endive";

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
        let mut request = CreateCustomer::new()
            .name(name)
            .metadata(metadata(&[("account_id", account_id)]));
        if let Some(email) = email {
            request = request.email(email);
        }
        let customer = self.send(&request, None).await?;
        field(&customer, "id")
    }

    /// `POST /v1/checkout/sessions` in subscription mode. The account, plan and region go into
    /// the session's and the subscription's metadata, so that its webhook events name them.
    pub async fn create_checkout_session(
        &self,
        request: &CheckoutRequest,
    ) -> Result<CheckoutSession> {
        let names = metadata(&[
            ("account_id", &request.account_id),
            ("plan", &request.plan),
            ("region", &request.region),
        ]);
        let mut line_item = CreateCheckoutSessionLineItems::new();
        line_item.price = Some(request.price_id.clone());
        line_item.quantity = Some(1);
        let mut subscription_data = CreateCheckoutSessionSubscriptionData::new();
        subscription_data.metadata = Some(names.clone());
        let checkout = CreateCheckoutSession::new()
            .mode(CheckoutSessionMode::Subscription)
            .customer(request.customer.as_str())
            .client_reference_id(request.account_id.as_str())
            .line_items(vec![line_item])
            .success_url(request.success_url.as_str())
            .cancel_url(request.cancel_url.as_str())
            .metadata(names)
            .subscription_data(subscription_data);
        let session = self
            .send(&checkout, request.idempotency_key.as_deref())
            .await?;
        Ok(CheckoutSession {
            id: field(&session, "id")?,
            url: field(&session, "url")?,
        })
    }

    /// `POST /v1/billing_portal/sessions`; returns the portal's URL.
    pub async fn create_portal_session(&self, customer: &str, return_url: &str) -> Result<String> {
        let request = CreateBillingPortalSession::new()
            .customer(customer)
            .return_url(return_url);
        // A portal session lives minutes: a key derived from the arguments would replay an
        // expired one for 24 hours.
        let key = crate::db::new_id("portal");
        let session = self.send(&request, Some(&key)).await?;
        field(&session, "url")
    }

    /// Sends a typed request once, with `idempotency_key` or one derived from the request, and
    /// reads the answer as JSON.
    async fn send<R: StripeRequest>(
        &self,
        request: &R,
        idempotency_key: Option<&str>,
    ) -> Result<Value> {
        let built = request.build();
        let path = built.path.clone();
        let key = match idempotency_key {
            Some(key) => key.to_owned(),
            None => derived_idempotency_key(&path, built.body.as_deref().unwrap_or_default()),
        };
        let key = IdempotencyKey::new(key)
            .map_err(|err| Error::Internal(anyhow!("an idempotency key for {path}: {err}")))?;
        let answer = built
            .customize::<miniserde::json::Value>()
            .request_strategy(RequestStrategy::Idempotent(key))
            .send(self)
            .await
            .map_err(|err| err.into_error(&path))?;
        serde_json::from_str(&miniserde::json::to_string(&answer)).map_err(|_| {
            Error::BadGateway(format!(
                "Stripe answered {path} with a body that is not JSON"
            ))
        })
    }
}

/// How a call failed, before it becomes an [`Error`] naming the call.
#[derive(Debug)]
pub enum CallError {
    /// No answer: a timeout or a connection that failed.
    Unreachable(reqwest::Error),
    /// Stripe answered with an error status.
    Refused { status: u16, body: Bytes },
    /// An answer that is not what was asked for.
    Unreadable(String),
}

impl StripeClientErr for CallError {
    fn deserialize_err(msg: impl fmt::Display) -> Self {
        CallError::Unreadable(msg.to_string())
    }
}

impl CallError {
    fn into_error(self, path: &str) -> Error {
        match self {
            CallError::Unreachable(err) => unreachable_stripe(path, &err),
            CallError::Unreadable(_) => Error::BadGateway(format!(
                "Stripe answered {path} with a body that is not JSON"
            )),
            CallError::Refused { status, body } => {
                let json: Option<Value> = serde_json::from_slice(&body).ok();
                let error = json.as_ref().map(|json| &json["error"]);
                let message = error.and_then(|e| e["message"].as_str());
                tracing::warn!(
                    path,
                    status,
                    error_type = error.and_then(|e| e["type"].as_str()),
                    code = error.and_then(|e| e["code"].as_str()),
                    message,
                    "Stripe refused a request"
                );
                Error::BadGateway(match message {
                    Some(message) => format!("Stripe refused the request: {message}"),
                    None => format!("Stripe answered {path} with HTTP {status}"),
                })
            }
        }
    }
}

/// The transport under async-stripe's typed requests: the process's shared HTTP client (rustls
/// on aws-lc-rs, like every other outgoing call of the control plane). One attempt per call;
/// callers retry with the same idempotency key.
impl stripe_client_core::StripeClient for StripeClient {
    type Err = CallError;

    async fn execute(&self, request: CustomizedStripeRequest) -> Result<Bytes, CallError> {
        let (request, config) = request.into_pieces();
        let mut url = format!("{}v1{}", self.api_base, request.path);
        if let Some(query) = &request.query {
            url.push('?');
            url.push_str(query);
        }
        let method = match request.method {
            StripeMethod::Get => reqwest::Method::GET,
            StripeMethod::Post => reqwest::Method::POST,
            StripeMethod::Delete => reqwest::Method::DELETE,
        };
        let mut builder = self
            .http
            .request(method, url)
            .bearer_auth(self.api_key.expose_secret())
            .header("Stripe-Version", STRIPE_VERSION);
        if let Some(key) = config
            .request_strategy
            .as_ref()
            .and_then(RequestStrategy::get_key)
        {
            builder = builder.header("Idempotency-Key", key.as_str());
        }
        if let Some(timeout) = config.timeout {
            builder = builder.timeout(timeout);
        }
        if let Some(body) = request.body {
            builder = builder
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body);
        }
        let response = builder.send().await.map_err(CallError::Unreachable)?;
        let status = response.status();
        let body = response.bytes().await.map_err(CallError::Unreachable)?;
        if status.is_success() {
            Ok(body)
        } else {
            Err(CallError::Refused {
                status: status.as_u16(),
                body,
            })
        }
    }
}

fn metadata(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

/// A hash of the request, so that retrying the same request is recognised by Stripe. The form's
/// fields are sorted first: metadata is a map, which encodes in no fixed order.
fn derived_idempotency_key(path: &str, form: &str) -> String {
    let mut fields: Vec<&str> = form.split('&').collect();
    fields.sort_unstable();
    let mut hash = Sha256::new();
    hash.update(path.as_bytes());
    for field in fields {
        hash.update(b"\n");
        hash.update(field.as_bytes());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_ask_for_the_version_the_types_were_generated_for() {
        assert_eq!(STRIPE_VERSION, stripe_client_core::VERSION.as_str());
    }

    #[test]
    fn the_same_request_gets_the_same_idempotency_key() {
        let request = CreateCustomer::new()
            .name("Acme")
            .metadata(metadata(&[("account_id", "acc_1")]));
        let key = |request: &CreateCustomer| {
            let built = request.build();
            derived_idempotency_key(&built.path, built.body.as_deref().unwrap_or_default())
        };
        assert_eq!(key(&request), key(&request.clone()));
        assert_ne!(key(&request), key(&request.clone().name("Other")));
        // Maps encode in any order; the key does not depend on it.
        let mut names = HashMap::new();
        let many =
            |names: &HashMap<String, String>| key(&CreateCustomer::new().metadata(names.clone()));
        for i in 0..16 {
            names.insert(format!("key{i}"), format!("value{i}"));
        }
        let first = many(&names);
        assert!((0..8).all(|_| many(&names.clone().into_iter().collect()) == first));
    }
}
