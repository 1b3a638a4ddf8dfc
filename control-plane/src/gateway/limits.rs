//! Per-key request rate limits: a token bucket per API key, holding one second of the plan's
//! `api_requests_per_second` and refilled continuously. In memory, per gateway process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

#[derive(Debug, Default)]
pub struct RateLimits {
    buckets: Mutex<HashMap<Arc<str>, Bucket>>,
}

impl RateLimits {
    /// Takes one request from `key_id`'s bucket, or says how long until one is available.
    pub fn take(&self, key_id: &Arc<str>, per_second: u32) -> Result<(), Duration> {
        self.take_at(key_id, per_second, Instant::now())
    }

    fn take_at(&self, key_id: &Arc<str>, per_second: u32, now: Instant) -> Result<(), Duration> {
        let rate = f64::from(per_second.max(1));
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let bucket = buckets.entry(key_id.clone()).or_insert(Bucket {
            tokens: rate,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(rate);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / rate))
        }
    }

    /// Forgets keys idle for longer than `idle` (their buckets are full again anyway).
    pub fn sweep(&self, idle: Duration) {
        let now = Instant::now();
        self.buckets
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .retain(|_, bucket| now.saturating_duration_since(bucket.updated) < idle);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_holds_one_second_and_refills() {
        let limits = RateLimits::default();
        let key: Arc<str> = Arc::from("key_1");
        let start = Instant::now();
        for _ in 0..5 {
            assert!(limits.take_at(&key, 5, start).is_ok());
        }
        let wait = limits.take_at(&key, 5, start).expect_err("limited");
        assert!(wait <= Duration::from_millis(200), "{wait:?}");
        assert!(
            limits
                .take_at(&key, 5, start + Duration::from_millis(200))
                .is_ok()
        );
        let other: Arc<str> = Arc::from("key_2");
        assert!(limits.take_at(&other, 5, start).is_ok());
    }
}
