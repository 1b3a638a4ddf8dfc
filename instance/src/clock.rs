//! Time as the service sees it. Tests drive a manual clock to cross expiry boundaries without
//! sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

/// Seconds since the Unix epoch, the unit every stored timestamp uses.
pub type UnixTime = i64;

#[derive(Clone, Debug, Default)]
pub enum Clock {
    #[default]
    System,
    /// A clock offset from system time by a settable number of seconds.
    Offset(Arc<AtomicI64>),
}

impl Clock {
    pub fn now(&self) -> UnixTime {
        let system = time::OffsetDateTime::now_utc().unix_timestamp();
        match self {
            Clock::System => system,
            Clock::Offset(offset) => system + offset.load(Ordering::Relaxed),
        }
    }

    /// Milliseconds since the Unix epoch, with the same offset as [`Clock::now`].
    pub fn now_millis(&self) -> i64 {
        let system =
            i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
                .unwrap_or(i64::MAX);
        match self {
            Clock::System => system,
            Clock::Offset(offset) => system + offset.load(Ordering::Relaxed) * 1000,
        }
    }

    /// Moves an offset clock forward; a no-op on the system clock.
    pub fn advance(&self, seconds: i64) {
        if let Clock::Offset(offset) = self {
            offset.fetch_add(seconds, Ordering::Relaxed);
        }
    }
}

/// Formats a stored timestamp as RFC 3339 for API responses.
pub fn rfc3339(at: UnixTime) -> String {
    // RFC 3339 has four-digit years: later times (an indefinite ban) show as the last second of
    // 9999, earlier ones as the first of year 0, never as an empty string.
    let at = at.clamp(RFC3339_MIN, RFC3339_MAX);
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z, the range of RFC 3339 timestamps.
const RFC3339_MIN: UnixTime = -62_167_219_200;
const RFC3339_MAX: UnixTime = 253_402_300_799;

/// Reads an RFC 3339 timestamp (API input) as a Unix time.
pub fn parse_rfc3339(text: &str) -> Option<UnixTime> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}
