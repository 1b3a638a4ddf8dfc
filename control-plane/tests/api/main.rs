//! The control plane's integration tests: one binary (link time), one module per capability.

mod account_webhooks;
mod accounts;
mod application_origins;
mod applications;
mod billing;
mod cli;
mod dashboard;
mod dashboard_session;
mod dev;
mod domains;
#[path = "../support/kubernetes/cluster.rs"]
mod fake_cluster;
mod faults;
mod first_hour;
mod gateway;
mod helpers;
mod kubernetes;
mod lifecycle;
mod live_authorization;
mod local_provisioner;
mod oidc_flow;
mod openapi;
mod revisions;
mod stripe;
mod web_headers;
mod webhooks;
