//! Who bills: the provider chosen once at start from `BillingConfig` and kept on the app.
//! [`NoBilling`] grants plans at once and has no portal or webhook; [`StripeBilling`] sends
//! the customer to Checkout, opens Stripe's billing portal and reads Stripe's signed webhook
//! deliveries. Billing's rules ([`super::subscribe`], [`super::webhook::apply`]) and its
//! tables stay the same whichever it is.

use super::stripe::events::Event;
use super::{ProviderKind, Subscription};
use crate::App;
use crate::accounts::Account;
use crate::catalog::{Plan, Region};
use crate::error::{Error, Result};
use crate::platform::Caller;

/// How a subscription starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// At once: the plan is granted.
    Now,
    /// Once the customer has paid at `url`. `session_id` (`cs_…`) comes back in the event that
    /// completes it.
    Checkout { session_id: String, url: String },
}

#[async_trait::async_trait]
pub trait BillingProvider: Send + Sync + std::fmt::Debug {
    /// The `provider` of the subscriptions it bills.
    fn kind(&self) -> ProviderKind;

    /// How the account's subscription to `plan` in `region` starts, given its subscription
    /// now (`current`). The plan and region are valid and allowed.
    async fn start(
        &self,
        app: &App,
        caller: &Caller,
        account: &Account,
        plan: &Plan,
        region: &Region,
        current: Option<&Subscription>,
    ) -> Result<Start>;

    /// Where the account's customer manages payment, changes or cancels a paid plan.
    async fn portal(&self, app: &App, caller: &Caller, account: &Account) -> Result<String>;

    /// Reads a delivery to `POST /v1/billing/stripe/webhook` once its `Stripe-Signature`
    /// header is verified at `now` (unix seconds).
    fn stripe_event(&self, signature: Option<&str>, body: &[u8], now: i64) -> Result<Event>;
}

/// Billing `none`: plans are granted at once (the embedded default, and self-hosting).
#[derive(Debug, Clone, Copy)]
pub struct NoBilling;

#[async_trait::async_trait]
impl BillingProvider for NoBilling {
    fn kind(&self) -> ProviderKind {
        ProviderKind::None
    }

    async fn start(
        &self,
        _app: &App,
        _caller: &Caller,
        _account: &Account,
        _plan: &Plan,
        _region: &Region,
        _current: Option<&Subscription>,
    ) -> Result<Start> {
        Ok(Start::Now)
    }

    async fn portal(&self, _app: &App, _caller: &Caller, _account: &Account) -> Result<String> {
        Err(Error::Conflict(
            "billing is not enabled on this control plane".into(),
        ))
    }

    fn stripe_event(&self, _signature: Option<&str>, _body: &[u8], _now: i64) -> Result<Event> {
        // Stripe's endpoint does not exist without Stripe.
        Err(Error::NotFound("route"))
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use secrecy::SecretString;

    use super::*;
    use crate::billing::from_config;
    use crate::billing::stripe::{EventKind, signature};
    use crate::config::BillingConfig;
    use crate::config::StripeConfig;

    fn stripe_config(api_base: &str) -> StripeConfig {
        StripeConfig {
            api_key: SecretString::from("sk_test_provider"),
            api_base: api_base.into(),
            webhook_secrets: vec![SecretString::from("whsec_provider")],
            webhook_tolerance: Duration::from_secs(300),
            return_url: "https://dashboard.authstack.test/billing".into(),
        }
    }

    const EVENT: &[u8] = br#"{"id":"evt_1","object":"event","created":1745000000,"type":"customer.created","data":{"object":{"id":"cus_1","object":"customer"}}}"#;

    #[test]
    fn billing_none_is_chosen_by_default_and_has_no_stripe_endpoint() {
        let provider = from_config(&BillingConfig::None).expect("a provider");
        assert_eq!(provider.kind(), ProviderKind::None);
        let signed = signature::sign(EVENT, "whsec_provider", 1_745_000_000);
        assert!(matches!(
            provider.stripe_event(Some(&signed), EVENT, 1_745_000_000),
            Err(Error::NotFound("route"))
        ));
    }

    #[test]
    fn stripe_is_chosen_by_its_config_and_verifies_deliveries() {
        let config = BillingConfig::Stripe(stripe_config("http://127.0.0.1:12111"));
        let provider = from_config(&config).expect("a provider");
        assert_eq!(provider.kind(), ProviderKind::Stripe);
        let debug = format!("{provider:?}");
        assert!(!debug.contains("sk_test_provider"), "{debug}");
        assert!(!debug.contains("whsec_provider"), "{debug}");

        let now = 1_745_000_000;
        let signed = signature::sign(EVENT, "whsec_provider", now);
        let event = provider
            .stripe_event(Some(&signed), EVENT, now)
            .expect("a verified event");
        assert_eq!(event.id, "evt_1");
        assert_eq!(event.kind, EventKind::Other("customer.created".into()));
        assert!(matches!(
            provider.stripe_event(None, EVENT, now),
            Err(Error::InvalidSignature(_))
        ));
        let forged = signature::sign(EVENT, "whsec_someone_else", now);
        assert!(matches!(
            provider.stripe_event(Some(&forged), EVENT, now),
            Err(Error::InvalidSignature(_))
        ));
        assert!(matches!(
            provider.stripe_event(Some(&signed), EVENT, now + 301),
            Err(Error::InvalidSignature(_))
        ));
        let garbled = b"{\"id\":\"evt_1\"}";
        let signed = signature::sign(garbled, "whsec_provider", now);
        assert!(matches!(
            provider.stripe_event(Some(&signed), garbled, now),
            Err(Error::InvalidRequest(_))
        ));
    }

    #[test]
    fn stripe_with_an_api_base_that_is_no_url_is_refused_at_start() {
        let config = BillingConfig::Stripe(stripe_config("not a url"));
        assert!(from_config(&config).is_err());
    }
}
