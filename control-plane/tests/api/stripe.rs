//! Tests: stripe.
