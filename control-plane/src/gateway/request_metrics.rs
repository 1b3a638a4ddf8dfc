//! The gateway's request metrics: `authstack_gateway_requests_total{instance_id, key_id, status}`
//! and `authstack_gateway_request_duration_seconds{instance_id}`.
//!
//! Each key's route keeps its metric handles, so that a request does not look its labels up in
//! the registry (hashing them, allocating a key) every time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::StatusCode;
use metrics::{Counter, Histogram, SharedString};

const REQUESTS: &str = "authstack_gateway_requests_total";
const DURATION: &str = "authstack_gateway_request_duration_seconds";

/// Registers the descriptions shown on `/_authstack/metrics`.
pub fn describe() {
    metrics::describe_counter!(
        REQUESTS,
        "Requests the gateway answered, by instance, API key and status."
    );
    metrics::describe_histogram!(
        DURATION,
        metrics::Unit::Seconds,
        "Time from a request's arrival at the gateway to its response headers, by instance."
    );
}

/// One key's metric handles.
pub struct KeyMetrics {
    instance_id: SharedString,
    key_id: SharedString,
    duration: Histogram,
    requests: Mutex<Vec<(StatusCode, Counter)>>,
}

impl KeyMetrics {
    pub fn new(instance_id: &Arc<str>, key_id: &Arc<str>) -> KeyMetrics {
        let instance_id = SharedString::from(instance_id.clone());
        KeyMetrics {
            duration: metrics::histogram!(DURATION, "instance_id" => instance_id.clone()),
            key_id: SharedString::from(key_id.clone()),
            instance_id,
            requests: Mutex::new(Vec::new()),
        }
    }

    pub fn record(&self, status: StatusCode, elapsed: Duration) {
        self.duration.record(elapsed.as_secs_f64());
        let mut requests = self
            .requests
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match requests.iter().find(|(s, _)| *s == status) {
            Some((_, counter)) => counter.increment(1),
            None => {
                let counter = metrics::counter!(
                    REQUESTS,
                    "instance_id" => self.instance_id.clone(),
                    "key_id" => self.key_id.clone(),
                    "status" => status.as_str().to_owned(),
                );
                counter.increment(1);
                requests.push((status, counter));
            }
        }
    }
}

/// Records a request that named no valid key (or a preflight, which names none).
pub fn record_keyless(status: StatusCode, elapsed: Duration) {
    let none = SharedString::const_str("none");
    metrics::counter!(
        REQUESTS,
        "instance_id" => none.clone(),
        "key_id" => none.clone(),
        "status" => status.as_str().to_owned(),
    )
    .increment(1);
    metrics::histogram!(DURATION, "instance_id" => none).record(elapsed.as_secs_f64());
}
