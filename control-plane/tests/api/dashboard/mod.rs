//! The dashboard's side of the control plane. One file each:
//!
//! - `site`: the dashboard's files served at `/` (with `index.html` for the app's own routes),
//!   API paths as JSON, the platform instance open to the dashboard's origin, its mails linking
//!   to the dashboard, the account a user finds, and the operators' pages.
//! - `usage`: an instance's own counts against the plan.
//! - `audit`: the audit log's filters, pages and exports.

mod audit;
mod site;
mod usage;

use std::sync::Arc;

use crate::helpers::{TestPlatform, spawn_platform_with, test_config};

/// A platform serving a dashboard (an `index.html` and one asset) from its data directory.
async fn with_dashboard() -> TestPlatform {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let site = dir.path().join("dashboard");
    std::fs::create_dir_all(site.join("assets")).expect("dirs");
    std::fs::write(
        site.join("index.html"),
        "<!doctype html><title>AuthStack</title>",
    )
    .expect("index");
    std::fs::write(site.join("assets/app.js"), "console.log('app')").expect("asset");
    let mut config = test_config(dir.path());
    config.dashboard_dir = Some(site);
    spawn_platform_with(dir, config).await
}
