//! The control plane's integration tests: one binary (link time), one module per capability.

mod accounts;
mod billing;
mod gateway;
mod helpers;
mod lifecycle;
mod local_provisioner;
mod stripe;
