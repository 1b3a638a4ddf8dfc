//! The control plane's integration tests: one binary (link time), one module per capability.

mod gateway;
mod local_provisioner;
mod stripe;
