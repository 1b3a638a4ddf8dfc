//! An application's allowed CORS origins through the control plane: kept, normalised and
//! checked by the instance, whose `invalid_cors_origin` comes back as it is.
//!
//! - `a_public_applications_origins_are_kept_and_checked_by_the_instance`

use serde_json::json;

use crate::applications::{applications, customer};
use crate::helpers::spawn_platform;

const REDIRECT: &str = "https://app.example.com/callback";

#[tokio::test]
async fn a_public_applications_origins_are_kept_and_checked_by_the_instance() {
    let platform = spawn_platform().await;
    let (owner, _) = customer(&platform, "origins@example.com", "live").await;
    let apps = applications(&owner, "live");
    let created = platform
        .post(
            &apps,
            &owner.token,
            json!({ "name": "SPA", "kind": "spa", "redirect_uris": [REDIRECT],
                         "allowed_cors_origins": ["HTTPS://App.Example.com/"] }),
        )
        .await;
    created.assert_ok(201);
    assert_eq!(
        created.body["allowed_cors_origins"],
        json!(["https://app.example.com"])
    );
    let one = format!("{apps}/{}", created.str("id"));
    let got = platform.get(&one, &owner.token).await;
    assert_eq!(
        got.body["allowed_cors_origins"],
        json!(["https://app.example.com"])
    );
    let changed = platform
        .patch(
            &one,
            &owner.token,
            json!({ "allowed_cors_origins": ["http://localhost:5173"] }),
        )
        .await;
    changed.assert_ok(200);
    assert_eq!(
        changed.body["allowed_cors_origins"],
        json!(["http://localhost:5173"])
    );

    let bad = platform
        .patch(
            &one,
            &owner.token,
            json!({ "allowed_cors_origins": ["https://*.example.com"] }),
        )
        .await;
    bad.assert_error(400, "invalid_cors_origin");
    assert!(
        bad.str("message").starts_with("allowed_cors_origins[0]:"),
        "{}",
        bad.body
    );
    let web = platform
        .post(
            &apps,
            &owner.token,
            json!({ "name": "Web", "kind": "web", "redirect_uris": [REDIRECT],
                         "allowed_cors_origins": ["https://app.example.com"] }),
        )
        .await;
    web.assert_error(400, "invalid_cors_origin");
    let list = platform.get(&apps, &owner.token).await;
    let names: Vec<&str> = list.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(names, ["SPA"], "{}", list.body);
}
