//! Configuration as a document: export → import round trips and refusals, promotion from the
//! test instance to live, and the plan's retention of old revisions.
//!
//! - `an_edited_export_is_imported_as_a_revision_and_round_trips`
//! - `an_import_that_changes_nothing_or_does_not_parse_is_refused`
//! - `promotion_copies_the_test_configuration_to_live_and_keeps_its_origins`
//! - `old_revisions_are_pruned_after_the_plans_retention_but_not_the_deployed_ones`

use serde_json::{Value, json};

use super::min_length;
use crate::helpers::{Owner, Reply, TestPlatform, spawn_platform};

/// The YAML export of revision `number` of the live instance.
async fn export(platform: &TestPlatform, owner: &Owner, number: i64, query: &str) -> String {
    let path = owner.instance("live", &format!("/revisions/{number}/export{query}"));
    let exported = platform
        .client
        .get(format!("{}{path}", platform.cp))
        .bearer_auth(&owner.token)
        .send()
        .await
        .expect("export");
    assert_eq!(exported.status(), 200);
    assert_eq!(exported.headers()["content-type"], "application/yaml");
    exported.text().await.expect("yaml")
}

/// Imports `yaml` into the live instance (`query`: `?dry_run=true` or empty).
async fn import(platform: &TestPlatform, owner: &Owner, yaml: &str, query: &str) -> Reply {
    let path = owner.instance("live", &format!("/revisions/import{query}"));
    let request = platform
        .client
        .post(format!("{}{path}", platform.cp))
        .bearer_auth(&owner.token)
        .header("content-type", "application/yaml")
        .body(yaml.to_owned());
    platform.send(request).await
}

#[tokio::test]
async fn an_edited_export_is_imported_as_a_revision_and_round_trips() {
    let platform = spawn_platform().await;
    let (owner, _, _) = platform.live_customer("export@example.com", "pro").await;
    let yaml = export(&platform, &owner, 1, "?format=yaml").await;
    assert!(yaml.contains("min_length: 8"), "{yaml}");

    let edited = yaml.replace("min_length: 8", "min_length: 10");
    let preview = import(&platform, &owner, &edited, "?dry_run=true").await;
    preview.assert_ok(200);
    assert_eq!(
        preview.body["diff"]["text"],
        "~ passwords.min_length: 8 -> 10"
    );
    let imported = import(&platform, &owner, &edited, "").await;
    imported.assert_ok(201);
    assert_eq!(imported.body["revision"]["number"], 2);
    assert_eq!(imported.body["revision"]["source"], "import");
    // The exported YAML is the stored configuration.
    let again = export(&platform, &owner, 2, "").await;
    let stored = owner.instance("live", "/revisions/2");
    let stored = platform.get(&stored, &owner.token).await;
    let parsed: Value = serde_yaml::from_str(&again).expect("exported YAML parses");
    assert_eq!(parsed, stored.body["config"]);
}

#[tokio::test]
async fn an_import_that_changes_nothing_or_does_not_parse_is_refused() {
    let platform = spawn_platform().await;
    let (owner, _, _) = platform.live_customer("import@example.com", "pro").await;
    // Importing what the instance already wants changes nothing.
    let yaml = export(&platform, &owner, 1, "?format=yaml").await;
    import(&platform, &owner, &yaml, "")
        .await
        .assert_error(409, "conflict");
    let typo = "passwords:\n  min_lenght: 3\n";
    let typo = import(&platform, &owner, typo, "?dry_run=true").await;
    typo.assert_ok(200);
    assert_eq!(typo.body["valid"], false);
    let path = typo.body["errors"][0]["path"].as_str().unwrap_or_default();
    assert!(path.starts_with("passwords"), "{}", typo.body);
    import(&platform, &owner, "{ not: yaml: at all", "")
        .await
        .assert_error(400, "invalid_request");
}

#[tokio::test]
async fn promotion_copies_the_test_configuration_to_live_and_keeps_its_origins() {
    let platform = spawn_platform().await;
    let (owner, _, key) = platform.live_customer("promote@example.com", "pro").await;
    let origins = json!({ "allowed_origins": ["https://app.example.com"] });
    let origins_path = owner.instance("live", "/allowed-origins");
    let set = platform.put(&origins_path, &owner.token, origins).await;
    set.assert_ok(200);
    let red = json!([{ "op": "replace", "path": "/branding/primary_color", "value": "#ff0000" }]);
    let red = platform.create_revision(&owner, "test", red, "red").await;
    let deployed = platform.deploy(&owner, "test", red).await;
    assert_eq!(deployed.body["outcome"], "deployed");

    let promote = owner.instance("live", "/promote");
    let preview = platform
        .post(&promote, &owner.token, json!({ "dry_run": true }))
        .await;
    preview.assert_ok(200);
    let text = preview.body["diff"]["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("~ branding.primary_color: \"#4f46e5\" -> \"#ff0000\""),
        "{text}"
    );
    assert!(!text.contains("allowed_origins"), "{text}");
    let to_test = owner.instance("test", "/promote");
    let to_test = platform.post_empty(&to_test, &owner.token).await;
    to_test.assert_error(400, "invalid_request");
    let promoted = platform.post_empty(&promote, &owner.token).await;
    promoted.assert_ok(201);
    assert_eq!(promoted.body["revision"]["source"], "promotion");
    let number = promoted.body["revision"]["number"]
        .as_i64()
        .expect("number");
    let settled = platform.deploy(&owner, "live", number).await;
    assert_eq!(settled.body["outcome"], "deployed", "{}", settled.body);
    let public = platform.public_config(&key).await;
    assert_eq!(public.body["branding"]["primary_color"], "#ff0000");
    let live = owner.instance("live", &format!("/revisions/{number}"));
    let live = platform.get(&live, &owner.token).await;
    assert_eq!(
        live.body["config"]["security"]["allowed_origins"],
        json!(["https://app.example.com"])
    );
}

#[tokio::test]
async fn old_revisions_are_pruned_after_the_plans_retention_but_not_the_deployed_ones() {
    let platform = spawn_platform().await;
    // Starter keeps 30 days of history.
    let (owner, _, _) = platform.live_customer("prune@example.com", "starter").await;
    for length in [9, 10, 11] {
        platform
            .create_revision(&owner, "live", min_length(length), "draft")
            .await;
    }
    platform.clock.advance(31 * 24 * 3600);
    let latest = platform
        .create_revision(&owner, "live", min_length(12), "kept")
        .await;
    assert_eq!(latest, 5);
    let deployed = platform.deploy(&owner, "live", latest).await;
    assert_eq!(deployed.body["outcome"], "deployed");
    let listed = platform.revisions(&owner, "live").await;
    let numbers: Vec<i64> = listed.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|r| r["number"].as_i64())
        .collect();
    // 2-4 were never deployed and are past retention; 1 was the deployed revision when 5 went
    // out, 5 is deployed now.
    assert_eq!(numbers, [5, 1], "{}", listed.body);
}
