//! Revisions end to end on the local provisioner, one file per concern:
//!
//! - `deploys`: a configuration change reaches the live instance once every gateway routes to
//!   it; dry runs and validation; the diff; a rollback undoes a change; a failing revision is
//!   rolled back by itself; no failed request while deploying and rolling back under load.
//! - `exports`: export → import round trips; promotion from test to live; retention.
//! - `customizations`: a prompt proposed, approved, refused, cancelled, modified by hand, and
//!   limited by the plan.

mod customizations;
mod deploys;
mod exports;

use serde_json::{Value, json};

/// A patch setting the minimum password length.
fn min_length(value: u32) -> Value {
    json!([{ "op": "replace", "path": "/passwords/min_length", "value": value }])
}
