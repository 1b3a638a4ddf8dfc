//! Stripe, without an SDK: the API calls billing makes ([`client`]), the webhook signature
//! ([`signature`]) and the events billing reacts to ([`events`]), read from Stripe's current
//! shapes and from localstripe's 2017 ones (the tests' real fake).

pub mod client;
pub mod events;
pub mod signature;

pub use client::{CheckoutRequest, CheckoutSession, STRIPE_VERSION, StripeClient};
pub use events::{Event, EventError, EventKind, SubscriptionStatus};
pub use signature::SignatureError;
