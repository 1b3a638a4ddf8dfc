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

    /// Moves an offset clock forward; a no-op on the system clock.
    pub fn advance(&self, seconds: i64) {
        if let Clock::Offset(offset) = self {
            offset.fetch_add(seconds, Ordering::Relaxed);
        }
    }
}

/// Formats a stored timestamp as RFC 3339 for API responses.
pub fn rfc3339(at: UnixTime) -> String {
    time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Reads an RFC 3339 timestamp (API input) as a Unix time.
pub fn parse_rfc3339(text: &str) -> Option<UnixTime> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|t| t.unix_timestamp())
}
