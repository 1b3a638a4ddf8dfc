//! Tests: gateway.
