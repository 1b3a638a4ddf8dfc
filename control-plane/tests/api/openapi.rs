//! The OpenAPI document: the committed copy (`control-plane/openapi.json`) is current, it has
//! every route of the API, and the control plane serves it at `/openapi.json`.
//!
//! - `the_committed_openapi_document_is_current_and_has_every_route`
//! - `the_control_plane_serves_its_openapi_document`

use std::path::Path;

use crate::helpers::spawn_platform;

/// Every `/v1` route the control plane serves, with its methods (the gateway's proxied
/// instance paths and the dashboard are not part of the API document).
const ROUTES: &[(&str, &[&str])] = &[
    ("/v1/platform", &["get"]),
    ("/v1/capabilities", &["get"]),
    ("/v1/plans", &["get"]),
    ("/v1/regions", &["get"]),
    ("/v1/me", &["get"]),
    ("/v1/dev/mailbox", &["get"]),
    ("/v1/accounts", &["get", "post"]),
    ("/v1/accounts/{id}", &["get"]),
    ("/v1/accounts/{id}/subscription", &["post", "delete"]),
    ("/v1/accounts/{id}/billing-portal", &["post"]),
    ("/v1/accounts/{id}/instances", &["get"]),
    (
        "/v1/accounts/{id}/instances/{env}/allowed-origins",
        &["put"],
    ),
    ("/v1/accounts/{id}/instances/{env}/usage", &["get"]),
    (
        "/v1/accounts/{id}/instances/{env}/domain",
        &["get", "put", "delete"],
    ),
    ("/v1/accounts/{id}/instances/{env}/domain/verify", &["post"]),
    (
        "/v1/accounts/{id}/instances/{env}/revisions",
        &["get", "post"],
    ),
    ("/v1/accounts/{id}/instances/{env}/revisions/diff", &["get"]),
    (
        "/v1/accounts/{id}/instances/{env}/revisions/import",
        &["post"],
    ),
    (
        "/v1/accounts/{id}/instances/{env}/revisions/{number}",
        &["get"],
    ),
    (
        "/v1/accounts/{id}/instances/{env}/revisions/{number}/deploy",
        &["post"],
    ),
    (
        "/v1/accounts/{id}/instances/{env}/revisions/{number}/export",
        &["get"],
    ),
    ("/v1/accounts/{id}/instances/{env}/rollback", &["post"]),
    ("/v1/accounts/{id}/instances/{env}/promote", &["post"]),
    (
        "/v1/accounts/{id}/instances/{env}/customizations",
        &["get", "post"],
    ),
    (
        "/v1/accounts/{id}/instances/{env}/customizations/{customization_id}",
        &["get"],
    ),
    (
        "/v1/accounts/{id}/instances/{env}/customizations/{customization_id}/modify",
        &["post"],
    ),
    (
        "/v1/accounts/{id}/instances/{env}/customizations/{customization_id}/approve",
        &["post"],
    ),
    (
        "/v1/accounts/{id}/instances/{env}/customizations/{customization_id}/cancel",
        &["post"],
    ),
    ("/v1/accounts/{id}/keys", &["get", "post"]),
    (
        "/v1/accounts/{id}/instances/{env}/applications",
        &["get", "post"],
    ),
    (
        "/v1/accounts/{id}/instances/{env}/applications/{app_id}",
        &["get", "patch", "delete"],
    ),
    (
        "/v1/accounts/{id}/instances/{env}/applications/{app_id}/rotate-secret",
        &["post"],
    ),
    ("/v1/accounts/{id}/instances/{env}/webhooks", &["get"]),
    (
        "/v1/accounts/{id}/instances/{env}/webhooks/{webhook_id}/deliveries",
        &["get"],
    ),
    (
        "/v1/accounts/{id}/instances/{env}/webhooks/{webhook_id}/rotate-secret",
        &["post"],
    ),
    (
        "/v1/accounts/{id}/instances/{env}/webhooks/{webhook_id}/test",
        &["post"],
    ),
    (
        "/v1/accounts/{id}/instances/{env}/webhooks/{webhook_id}/enable",
        &["post"],
    ),
    (
        "/v1/accounts/{id}/instances/{env}/webhooks/deliveries/{event_id}/replay",
        &["post"],
    ),
    ("/v1/accounts/{id}/webhooks", &["get", "post"]),
    ("/v1/accounts/{id}/webhooks/{endpoint_id}", &["delete"]),
    (
        "/v1/accounts/{id}/webhooks/{endpoint_id}/rotate-secret",
        &["post"],
    ),
    ("/v1/accounts/{id}/webhooks/{endpoint_id}/test", &["post"]),
    ("/v1/accounts/{id}/webhooks/{endpoint_id}/enable", &["post"]),
    (
        "/v1/accounts/{id}/webhooks/{endpoint_id}/deliveries",
        &["get"],
    ),
    (
        "/v1/accounts/{id}/webhooks/deliveries/{event_id}/replay",
        &["post"],
    ),
    ("/v1/accounts/{id}/keys/{key_id}/rotate", &["post"]),
    ("/v1/accounts/{id}/keys/{key_id}", &["delete"]),
    ("/v1/accounts/{id}/audit-logs", &["get"]),
    ("/v1/ops/instances", &["get"]),
    ("/v1/ops/instances/{id}/reconcile", &["post"]),
    ("/v1/ops/audit-logs", &["get"]),
    ("/v1/billing/stripe/webhook", &["post"]),
];

/// Every `.rs` file under `dir`.
fn sources(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

#[test]
fn the_committed_openapi_document_is_current_and_has_every_route() {
    let generated = authstack_control_plane::openapi::openapi()
        .to_pretty_json()
        .expect("json");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed.trim_end() == generated.trim_end(),
        "{} is stale: run scripts/generate and commit the result",
        path.display()
    );
    let spec: serde_json::Value = serde_json::from_str(&generated).expect("valid JSON");
    let paths = spec["paths"].as_object().expect("paths");
    for (path, methods) in ROUTES {
        for method in *methods {
            assert!(
                spec["paths"][path].get(method).is_some(),
                "{method} {path} is missing from the OpenAPI document"
            );
        }
    }
    let listed: usize = ROUTES.iter().map(|(_, methods)| methods.len()).sum();
    let documented: usize = paths
        .values()
        .map(|item| item.as_object().map_or(0, |o| o.len()))
        .sum();
    assert_eq!(
        documented, listed,
        "operations documented but not listed here"
    );

    // A route added without `#[utoipa::path]` (`Router::route` instead of `routes!`) would be
    // served but not documented: outside the gateway (whose paths are the instances'), none is.
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    for file in files {
        if file.components().any(|c| c.as_os_str() == "gateway") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read source");
        assert!(
            !text.contains(".route(\"/v1"),
            "{} adds a /v1 route that the OpenAPI document does not see: use routes!",
            file.display()
        );
    }
}

#[tokio::test]
async fn the_control_plane_serves_its_openapi_document() {
    let platform = spawn_platform().await;
    let response = platform
        .client
        .get(format!("{}/openapi.json", platform.cp))
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 200);
    let served: serde_json::Value = response.json().await.expect("json");
    let expected = serde_json::to_value(authstack_control_plane::openapi::openapi()).expect("json");
    assert_eq!(served, expected);
    assert!(served["components"]["securitySchemes"]["bearer"].is_object());
}
