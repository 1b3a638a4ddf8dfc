//! Sliding-window counters for abuse limits (failed logins, signups, mails), kept in memory.
//!
//! Each key remembers the instants of its recent events; a key is limited while `max` of them
//! fall within the window. Counting is separate from checking so that only failures count
//! against a login limit.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::Limit;
use crate::error::{Error, Result};

#[derive(Debug, Default)]
pub struct RateLimiter {
    events: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    /// Fails with `rate_limited` (and how long to wait) if `key` is at its limit.
    pub fn check(&self, key: &str, limit: Limit) -> Result<()> {
        let now = Instant::now();
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        match events.get_mut(key) {
            Some(log) => at_limit(log, now, limit),
            None => Ok(()),
        }
    }

    /// Counts one event for `key`.
    pub fn record(&self, key: &str, limit: Limit) {
        let now = Instant::now();
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        let log = events.entry(key.to_owned()).or_default();
        prune(log, now, limit.window());
        log.push_back(now);
        // Never keep more than the limit needs.
        while log.len() > limit.max as usize {
            log.pop_front();
        }
    }

    /// Checks every `(key, limit)` and, when none is at its limit, counts one event for each, in
    /// one step under one lock: concurrent attempts cannot all pass a check made before any of
    /// them is counted. The attempt stays counted (a failure) unless it is released.
    pub fn reserve(&self, slots: &[(&str, Limit)]) -> Result<Reservation> {
        let now = Instant::now();
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        for (key, limit) in slots {
            if let Some(log) = events.get_mut(*key) {
                at_limit(log, now, *limit)?;
            }
        }
        for (key, _) in slots {
            events.entry((*key).to_owned()).or_default().push_back(now);
        }
        Ok(Reservation {
            keys: slots.iter().map(|(key, _)| (*key).to_owned()).collect(),
            at: now,
        })
    }

    /// Uncounts a reserved attempt (it succeeded).
    pub fn release(&self, reservation: Reservation) {
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        for key in &reservation.keys {
            if let Some(log) = events.get_mut(key)
                && let Some(at) = log.iter().rposition(|&t| t == reservation.at)
            {
                log.remove(at);
            }
        }
    }

    /// Checks and counts in one step (for events limited whether or not they succeed).
    pub fn hit(&self, key: &str, limit: Limit) -> Result<()> {
        self.check(key, limit)?;
        self.record(key, limit);
        Ok(())
    }

    /// Forgets `key` (e.g. the per-account failure count after a successful login).
    pub fn clear(&self, key: &str) {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    /// Drops keys with no event inside `max_window`; run periodically to bound memory.
    pub fn sweep(&self, max_window: Duration) {
        let now = Instant::now();
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|_, log| {
                log.back()
                    .is_some_and(|&last| now.duration_since(last) < max_window)
            });
    }
}

/// An attempt counted by [`RateLimiter::reserve`]; dropping it keeps it counted.
#[derive(Debug)]
#[must_use = "release the reservation on success, or drop it to count a failure"]
pub struct Reservation {
    keys: Vec<String>,
    at: Instant,
}

/// `rate_limited` (with how long to wait) when `log` holds `limit.max` events in the window.
fn at_limit(log: &mut VecDeque<Instant>, now: Instant, limit: Limit) -> Result<()> {
    prune(log, now, limit.window());
    if log.len() >= limit.max as usize {
        let oldest = log.front().copied().unwrap_or(now);
        let retry_after = limit.window().saturating_sub(now.duration_since(oldest));
        return Err(Error::RateLimited {
            retry_after: retry_after.max(Duration::from_secs(1)),
        });
    }
    Ok(())
}

fn prune(log: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while log
        .front()
        .is_some_and(|&t| now.duration_since(t) >= window)
    {
        log.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_after_max_events_and_reports_retry_after() {
        let limiter = RateLimiter::default();
        let limit = Limit {
            max: 3,
            window_secs: 60,
        };
        for _ in 0..3 {
            limiter.check("k", limit).expect("under the limit");
            limiter.record("k", limit);
        }
        match limiter.check("k", limit) {
            Err(Error::RateLimited { retry_after }) => assert!(retry_after.as_secs() >= 59),
            other => panic!("expected rate_limited, got {other:?}"),
        }
        limiter.check("other", limit).expect("keys are independent");
        limiter.clear("k");
        limiter.check("k", limit).expect("cleared");
    }

    #[test]
    fn reservations_count_before_the_work_and_release_on_success() {
        let limiter = RateLimiter::default();
        let limit = Limit {
            max: 2,
            window_secs: 60,
        };
        let first = limiter
            .reserve(&[("ip", limit), ("acct", limit)])
            .expect("1");
        let _second = limiter
            .reserve(&[("ip", limit), ("acct", limit)])
            .expect("2");
        // Two attempts in flight: a third is refused before anything is verified.
        assert!(limiter.reserve(&[("ip", limit), ("acct", limit)]).is_err());
        limiter.release(first);
        let _third = limiter
            .reserve(&[("ip", limit), ("acct", limit)])
            .expect("released");
        assert!(limiter.check("acct", limit).is_err());
    }
}
