//! Billing through Stripe: [`StripeBilling`], the provider; the API calls it makes
//! ([`client`]), the webhook signature ([`signature`]) and the events billing reacts to
//! ([`events`]), read from Stripe's current shapes and from localstripe's 2017 ones (the tests'
//! real fake).

pub mod client;
pub mod events;
pub mod signature;

use std::time::Duration;

use secrecy::SecretString;

pub use client::{CheckoutRequest, CheckoutSession, STRIPE_VERSION, StripeClient};
pub use events::{Event, EventError, EventKind, SubscriptionStatus};
pub use signature::SignatureError;

use super::provider::{BillingProvider, Start};
use super::{ProviderKind, Subscription, SubscriptionStatus as Status};
use crate::App;
use crate::accounts::{self, Account};
use crate::catalog::{Plan, Region};
use crate::config::StripeConfig;
use crate::error::{Error, Result};
use crate::platform::Caller;

/// Billing `stripe`: Checkout to subscribe, the billing portal to change, cancel or pay, and
/// signed webhook events to learn what happened.
pub struct StripeBilling {
    client: StripeClient,
    webhook_secrets: Vec<SecretString>,
    webhook_tolerance: Duration,
    /// Where Checkout and the portal send the customer back.
    return_url: String,
}

impl std::fmt::Debug for StripeBilling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeBilling")
            .field("client", &self.client)
            .field("webhook_secrets", &self.webhook_secrets.len())
            .field("return_url", &self.return_url)
            .finish_non_exhaustive()
    }
}

impl StripeBilling {
    pub fn new(config: &StripeConfig) -> Result<StripeBilling> {
        Ok(StripeBilling {
            client: StripeClient::new(config)?,
            webhook_secrets: config.webhook_secrets.clone(),
            webhook_tolerance: config.webhook_tolerance,
            return_url: config.return_url.clone(),
        })
    }

    /// The account's Stripe customer, created the first time.
    async fn ensure_customer(
        &self,
        app: &App,
        account: &Account,
        caller: &Caller,
    ) -> Result<String> {
        if let Some(customer) = &account.stripe_customer_id {
            return Ok(customer.clone());
        }
        let email = (!caller.email.is_empty()).then_some(caller.email.as_str());
        let customer = self
            .client
            .create_customer(&account.id, &account.name, email)
            .await?;
        accounts::set_stripe_customer(&app.db.writer, &account.id, &customer).await?;
        // A concurrent request may have won; use whatever is stored.
        Ok(accounts::find(&app.db, &account.id)
            .await?
            .and_then(|a| a.stripe_customer_id)
            .unwrap_or(customer))
    }
}

#[async_trait::async_trait]
impl BillingProvider for StripeBilling {
    fn kind(&self) -> ProviderKind {
        ProviderKind::Stripe
    }

    async fn start(
        &self,
        app: &App,
        caller: &Caller,
        account: &Account,
        plan: &Plan,
        region: &Region,
        current: Option<&Subscription>,
    ) -> Result<Start> {
        if current.is_some_and(|s| matches!(s.status, Status::Active | Status::PastDue)) {
            return Err(Error::Conflict(
                "change or cancel a paid plan in the billing portal (POST /v1/accounts/{id}/billing-portal)".into(),
            ));
        }
        let customer = self.ensure_customer(app, account, caller).await?;
        let session = self
            .client
            .create_checkout_session(&CheckoutRequest {
                customer,
                price_id: plan.stripe_price_id.clone(),
                account_id: account.id.as_str().to_owned(),
                plan: plan.id.clone(),
                region: region.id.clone(),
                success_url: format!("{}?checkout=success", self.return_url),
                cancel_url: format!("{}?checkout=cancelled", self.return_url),
                idempotency_key: Some(crate::db::new_id("checkout")),
            })
            .await?;
        Ok(Start::Checkout {
            session_id: session.id,
            url: session.url,
        })
    }

    async fn portal(&self, app: &App, caller: &Caller, account: &Account) -> Result<String> {
        let customer = self.ensure_customer(app, account, caller).await?;
        self.client
            .create_portal_session(&customer, &self.return_url)
            .await
    }

    fn stripe_event(&self, signature: Option<&str>, body: &[u8], now: i64) -> Result<Event> {
        let header = signature.ok_or(Error::InvalidSignature(
            "the Stripe-Signature header is missing",
        ))?;
        signature::verify(
            header,
            body,
            &self.webhook_secrets,
            now,
            self.webhook_tolerance,
        )?;
        events::parse(body).map_err(|e| Error::invalid(format!("event: {e}")))
    }
}
