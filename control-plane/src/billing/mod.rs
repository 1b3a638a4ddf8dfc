//! Billing.
pub mod stripe;
