//! The process-wide Prometheus recorder the gateway (and anything else in the control plane)
//! records into.
//!
//! `metrics` admits one global recorder per process, and an instance started in-process (the
//! all-in-one mode, the integration tests) installs its own through
//! [`authstack_instance::ops::metrics_handle`]. Both sides therefore share that one: whichever
//! asks first installs it, and every `/metrics` renders the same registry.

use metrics_exporter_prometheus::PrometheusHandle;

/// The handle of the process-wide recorder, installed on first use.
pub fn handle() -> PrometheusHandle {
    authstack_instance::ops::metrics_handle()
}
