//! The API-key gateway.
