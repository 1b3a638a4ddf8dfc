//! Sliding-window limits for abuse (failed logins, signups, mails), shared by every replica of
//! the instance: kept in its database, or in Redis when `AUTHSTACK_REDIS_URL` is set.
//!
//! A key is limited while `max` of its events fall within the window. An attempt is counted
//! before the work it limits (a password check), in one step with the check, so that parallel
//! attempts — on one replica or several — cannot all pass a check made before any is counted;
//! a successful login takes its attempt back.

mod redis;
mod store;

use std::time::Duration;

use crate::clock::Clock;
use crate::config::Limit;
use crate::db::Db;
use crate::error::{Error, Result};

pub use self::redis::RedisLimits;

/// Events older than this are outside every window and are swept.
const KEEP: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug)]
pub struct Limits {
    backend: Shared,
    clock: Clock,
}

#[derive(Debug)]
enum Shared {
    Database(Db),
    Redis(RedisLimits),
}

/// One key and the limit it is counted against.
#[derive(Debug, Clone, Copy)]
pub struct Slot<'a> {
    pub key: &'a str,
    pub limit: Limit,
}

impl Slot<'_> {
    fn window_ms(&self) -> i64 {
        i64::try_from(self.limit.window().as_millis()).unwrap_or(i64::MAX / 4)
    }
}

/// What a backend made of a reservation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Counted,
    /// Nothing was counted; the fullest key frees a place in this many milliseconds.
    Limited {
        wait_ms: i64,
    },
}

/// An attempt counted by [`Limits::reserve`]; dropping it keeps it counted (a failure).
#[derive(Debug)]
#[must_use = "release the reservation on success, or drop it to count a failure"]
pub struct Reservation {
    keys: Vec<String>,
    at_ms: i64,
    attempt: String,
}

impl Limits {
    /// Limits kept in the instance's database.
    pub fn database(db: Db, clock: Clock) -> Limits {
        Limits {
            backend: Shared::Database(db),
            clock,
        }
    }

    /// Limits kept in Redis, under keys of this instance's own.
    pub fn redis(redis: RedisLimits, clock: Clock) -> Limits {
        Limits {
            backend: Shared::Redis(redis),
            clock,
        }
    }

    /// Where the counters live, for the start-up log.
    pub fn kind(&self) -> &'static str {
        match self.backend {
            Shared::Database(_) => "database",
            Shared::Redis(_) => "redis",
        }
    }

    /// Checks every `(key, limit)` and, when none is at its limit, counts one event for each, in
    /// one step: fails with `rate_limited` (and how long to wait) otherwise, counting nothing.
    pub async fn reserve(&self, slots: &[(&str, Limit)]) -> Result<Reservation> {
        let slots: Vec<Slot<'_>> = slots
            .iter()
            .map(|&(key, limit)| Slot { key, limit })
            .collect();
        if let Some(closed) = slots.iter().find(|s| s.limit.max == 0) {
            return Err(limited(closed.window_ms()));
        }
        let at_ms = self.now_ms();
        let attempt = uuid::Uuid::new_v4().simple().to_string();
        let verdict = match &self.backend {
            Shared::Database(db) => store::reserve(db, &slots, at_ms, &attempt).await?,
            Shared::Redis(redis) => redis
                .reserve(&slots, at_ms, &attempt)
                .await
                .map_err(redis_error)?,
        };
        match verdict {
            Verdict::Counted => Ok(Reservation {
                keys: slots.iter().map(|s| s.key.to_owned()).collect(),
                at_ms,
                attempt,
            }),
            Verdict::Limited { wait_ms } => Err(limited(wait_ms)),
        }
    }

    /// Checks and counts one event (for events limited whether or not they succeed).
    pub async fn hit(&self, key: &str, limit: Limit) -> Result<()> {
        let counted = self.reserve(&[(key, limit)]).await?;
        drop(counted);
        Ok(())
    }

    /// Takes back a reserved attempt (it succeeded). A failure to do so leaves the attempt
    /// counted, as a failed one would be; it is logged, not the caller's error.
    pub async fn release(&self, reservation: Reservation) {
        let Reservation {
            keys,
            at_ms,
            attempt,
        } = reservation;
        let released = match &self.backend {
            Shared::Database(db) => store::release(db, &keys, at_ms, &attempt)
                .await
                .map_err(|e| e.to_string()),
            Shared::Redis(redis) => redis
                .release(&keys, &attempt)
                .await
                .map_err(|e| e.to_string()),
        };
        if let Err(err) = released {
            tracing::warn!(error = %err, "could not take back a successful attempt; it stays counted");
        }
    }

    /// Forgets `key`'s events (the per-account failures after a successful login).
    pub async fn clear(&self, key: &str) -> Result<()> {
        match &self.backend {
            Shared::Database(db) => store::clear(db, key).await?,
            Shared::Redis(redis) => redis.clear(key).await.map_err(redis_error)?,
        }
        Ok(())
    }

    /// Drops events outside every window (Redis expires them itself).
    pub async fn sweep(&self) -> Result<()> {
        if let Shared::Database(db) = &self.backend {
            let before = self.now_ms() - i64::try_from(KEEP.as_millis()).unwrap_or(i64::MAX);
            store::sweep(db, before).await?;
        }
        Ok(())
    }

    fn now_ms(&self) -> i64 {
        self.clock.now_millis()
    }
}

fn limited(wait_ms: i64) -> Error {
    let wait = Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0));
    Error::RateLimited {
        retry_after: wait.max(Duration::from_secs(1)),
    }
}

fn redis_error(err: ::redis::RedisError) -> Error {
    Error::Internal(anyhow::Error::new(err).context("redis"))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn limits() -> (Limits, Clock, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::connect(None, dir.path()).await.expect("database");
        let clock = Clock::Offset(Default::default());
        (Limits::database(db, clock.clone()), clock, dir)
    }

    const TWO_A_MINUTE: Limit = Limit {
        max: 2,
        window_secs: 60,
    };

    #[tokio::test]
    async fn reservations_count_before_the_work_and_release_on_success() {
        let (limits, _, _dir) = limits().await;
        let both = [("ip", TWO_A_MINUTE), ("acct", TWO_A_MINUTE)];
        let first = limits.reserve(&both).await.expect("1");
        let _second = limits.reserve(&both).await.expect("2");
        // Two attempts in flight: a third is refused before anything is verified.
        assert!(limits.reserve(&both).await.is_err());
        limits.release(first).await;
        let _third = limits.reserve(&both).await.expect("released");
        assert!(limits.hit("acct", TWO_A_MINUTE).await.is_err());
        limits
            .hit("other", TWO_A_MINUTE)
            .await
            .expect("keys are independent");
    }

    #[tokio::test]
    async fn a_refused_attempt_counts_nothing_and_says_how_long_to_wait() {
        let (limits, clock, _dir) = limits().await;
        limits.hit("k", TWO_A_MINUTE).await.expect("1");
        clock.advance(20);
        limits.hit("k", TWO_A_MINUTE).await.expect("2");
        for _ in 0..3 {
            match limits.hit("k", TWO_A_MINUTE).await {
                Err(Error::RateLimited { retry_after }) => {
                    // The oldest event leaves the window 40 s from now.
                    assert!(
                        (39..=40).contains(&retry_after.as_secs()),
                        "{retry_after:?}"
                    );
                }
                other => panic!("expected rate_limited, got {other:?}"),
            }
        }
        // The refusals were not counted: once the oldest event leaves, one place is free.
        clock.advance(41);
        limits.hit("k", TWO_A_MINUTE).await.expect("a place freed");
        assert!(limits.hit("k", TWO_A_MINUTE).await.is_err());
        limits.sweep().await.expect("sweep");
    }
}
