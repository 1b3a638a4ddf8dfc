//! Stripe: the API client against a recording server (localstripe has no Checkout or portal),
//! and the whole loop against localstripe when `AUTHSTACK_TEST_LOCALSTRIPE_URL` is set
//! (`scripts/localstripe start`). Webhook signatures and events are unit tests next to their
//! code (`billing/stripe/signature.rs`, `billing/stripe/events/tests.rs`). One file each:
//!
//! - `client`: the forms, headers and idempotency keys the client sends, and its errors.
//! - `localstripe`: real API calls and genuinely signed webhook deliveries.

mod client;
mod localstripe;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use authstack_control_plane::config::StripeConfig;
use secrecy::SecretString;

const ACCOUNT: &str = "acc_01936b2e8f4a7c1d9e2b3a4c5d6e7f80";

const TOLERANCE: Duration = Duration::from_secs(300);

fn secrets(values: &[&str]) -> Vec<SecretString> {
    values.iter().map(|s| SecretString::from(*s)).collect()
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64
}

fn config(api_base: &str, api_key: &str) -> StripeConfig {
    StripeConfig {
        api_key: SecretString::from(api_key),
        api_base: api_base.to_owned(),
        webhook_secrets: secrets(&["whsec_test"]),
        webhook_tolerance: TOLERANCE,
        return_url: "https://dashboard.authstack.example/billing".into(),
    }
}
