//! Route changes: how the control plane tells every gateway that keys or instances changed,
//! and how gateways say which change they have applied.
//!
//! A writer records a row in `route_changes` in the transaction that changes a route; gateways
//! poll `MAX(id)` and drop their caches when it moves. Each gateway keeps a row in `gateways`
//! with the newest change it applied and when it last said so, so that the control plane can
//! tell a customer "deployed" only once every live gateway sends traffic to the new revision.

use std::time::Duration;

/// A gateway that has not reported for this long is taken to be gone (crashed, partitioned):
/// nobody waits for it.
pub const PRESENCE_TTL_SECONDS: i64 = 10;

/// How often a gateway reports even when nothing changed.
pub const HEARTBEAT: Duration = Duration::from_secs(2);

pub use super::store::{acknowledge, behind, forget, latest, record};
