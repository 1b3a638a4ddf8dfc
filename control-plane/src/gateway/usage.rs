//! When each API key was last used: noted in memory per request and written to
//! `api_keys.last_used_at` in one batch every few seconds (and at stop), not per request.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use authstack_instance::clock::UnixTime;

use super::routes::Route;
use crate::db::Db;

#[derive(Debug, Default)]
pub struct KeyUsage {
    pending: Mutex<HashMap<Arc<str>, UnixTime>>,
}

impl KeyUsage {
    /// Notes that `route`'s key was used at `now`.
    pub fn record(&self, route: &Route, now: UnixTime) {
        // Once a second per key is enough for a value stored in seconds.
        if route.last_recorded.swap(now, Ordering::Relaxed) == now {
            return;
        }
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(route.key_id.clone(), now);
    }

    /// Writes what was noted since the last flush.
    pub async fn flush(&self, db: &Db) {
        let pending = std::mem::take(
            &mut *self
                .pending
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        if pending.is_empty() {
            return;
        }
        let count = pending.len();
        let result = async {
            let mut tx = db.begin_write().await?;
            for (key_id, at) in pending {
                crate::keys::store::set_last_used(&mut *tx, key_id.as_ref(), at).await?;
            }
            tx.commit().await
        }
        .await;
        if let Err(err) = result {
            tracing::warn!(error = %err, keys = count, "recording when API keys were last used failed");
        }
    }
}
