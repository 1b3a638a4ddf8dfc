//! What a new customer meets in the first hour: nothing claims a setting works that the
//! instance does not act on; the dev mailbox; the SDK served as tarballs; the platform token
//! from `authstack login`; clear errors for a token without an organization and unknown paths.
//!
//! - `no_customization_result_claims_an_unenforced_setting_is_active`
//! - `a_follow_up_prompt_refines_the_proposal_it_follows`
//! - `capabilities_are_public_and_unknown_paths_are_json`
//! - `the_dev_mailbox_shows_every_outbox_and_the_sdk_is_served`
//! - `login_stores_a_session_and_token_prints_a_working_access_token`

use std::sync::Arc;

use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::{
    Owner, PASSWORD, TestPlatform, spawn_platform, spawn_platform_with, test_config,
};

fn customizations(owner: &Owner) -> String {
    format!(
        "/v1/accounts/{}/instances/live/customizations",
        owner.account_id
    )
}

async fn propose(platform: &TestPlatform, owner: &Owner, prompt: &str) -> Value {
    let proposed = platform
        .post(
            &customizations(owner),
            &owner.token,
            json!({ "prompt": prompt }),
        )
        .await;
    proposed.assert_ok(201);
    assert_eq!(
        proposed.body["status"], "proposed",
        "{prompt}: {}",
        proposed.body
    );
    proposed.body
}

async fn approve(platform: &TestPlatform, owner: &Owner, id: &str) -> Value {
    let approved = platform
        .post_empty(
            &format!("{}/{id}/approve", customizations(owner)),
            &owner.token,
        )
        .await;
    approved.assert_ok(200);
    approved.body
}

/// A control-plane GET without a token, as JSON.
async fn public_json(platform: &TestPlatform, path: &str) -> Value {
    let reply = platform
        .send(platform.client.get(format!("{}{path}", platform.cp)))
        .await;
    reply.assert_ok(200);
    reply.body
}

/// Words that would claim an effect.
const CLAIMS: [&str; 3] = ["in effect", "is visible", "is now active"];

#[tokio::test]
async fn no_customization_result_claims_an_unenforced_setting_is_active() {
    let platform = spawn_platform().await;
    let (owner, _, _) = platform.live_customer("claims@example.com", "pro").await;
    for (prompt, label) in [
        (
            "Enable two-factor authentication",
            "Multi-factor authentication",
        ),
        ("Add Google login", "Social sign-in (Google, GitHub)"),
        ("enable magic links", "Magic links"),
        ("turn on passkeys", "Passkeys"),
        ("protect signup with a captcha", "CAPTCHA"),
        ("Enable SAML for enterprise tenants", "SAML single sign-on"),
    ] {
        let proposal = propose(&platform, &owner, prompt).await;
        let not_active: Vec<&str> = proposal["not_active"]
            .as_array()
            .expect("not_active")
            .iter()
            .filter_map(|s| s["label"].as_str())
            .collect();
        assert!(not_active.contains(&label), "{prompt}: {proposal}");
        // A hosted customer is never told to set an environment variable of the instance.
        let summary = proposal["summary"].as_str().expect("summary");
        assert!(!summary.contains("AUTHSTACK_"), "{prompt}: {summary}");
        let id = proposal["id"].as_str().expect("id");
        let approved = approve(&platform, &owner, id).await;
        assert_eq!(approved["status"], "deployed", "{prompt}: {approved}");
        let result = approved["result"].as_str().expect("result");
        for claim in CLAIMS {
            assert!(!result.contains(claim), "{prompt}: {result}");
        }
        assert!(result.contains(label), "{prompt}: {result}");
        assert!(result.contains("does not act on"), "{prompt}: {result}");
    }

    // An enforced setting is said to be in effect: the hosted pages follow the branding.
    let proposal = propose(&platform, &owner, "switch the sign-in page to dark mode").await;
    assert_eq!(proposal["not_active"], json!([]), "{proposal}");
    let proposal = propose(&platform, &owner, "set the minimum password length to 12").await;
    assert_eq!(proposal["not_active"], json!([]));
    let id = proposal["id"].as_str().expect("id");
    let result = approve(&platform, &owner, id).await["result"]
        .as_str()
        .expect("result")
        .to_owned();
    assert!(result.contains("in effect"), "{result}");

    // The theme rule warns when white button text would miss WCAG AA.
    let proposal = propose(&platform, &owner, "set the primary color to #6366f1").await;
    let summary = proposal["summary"].as_str().expect("summary");
    assert!(
        summary.contains("4.46:1") && summary.contains("WCAG AA"),
        "{summary}"
    );
}

#[tokio::test]
async fn a_follow_up_prompt_refines_the_proposal_it_follows() {
    let platform = spawn_platform().await;
    let (owner, _, _) = platform.live_customer("follow@example.com", "pro").await;
    let proposal = propose(&platform, &owner, "Enable two-factor authentication").await;
    assert_eq!(proposal["patch"][0]["value"], "optional", "{proposal}");
    let id = proposal["id"].as_str().expect("id");
    let modified = platform
        .post(
            &format!("{}/{id}/modify", customizations(&owner)),
            &owner.token,
            json!({ "prompt": "make it required for all users" }),
        )
        .await;
    modified.assert_ok(200);
    assert_eq!(
        modified.body["patch"],
        json!([{ "op": "replace", "path": "/auth/mfa/mode", "value": "required" }]),
        "{}",
        modified.body
    );
    // A follow-up that cannot be planned says why and leaves the proposal as it was.
    let refused = platform
        .post(
            &format!("{}/{id}/modify", customizations(&owner)),
            &owner.token,
            json!({ "prompt": "and make me a sandwich" }),
        )
        .await;
    refused.assert_error(400, "invalid_request");
    assert!(
        refused.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("the proposal is unchanged")),
        "{}",
        refused.body
    );
}

#[tokio::test]
async fn capabilities_are_public_and_unknown_paths_are_json() {
    let platform = spawn_platform().await;
    let capabilities = public_json(&platform, "/v1/capabilities").await;
    let mfa = capabilities["settings"]
        .as_array()
        .expect("settings")
        .iter()
        .find(|s| s["path"] == "auth.mfa")
        .expect("auth.mfa")
        .clone();
    assert_eq!(mfa["active"], false);
    let sso = capabilities["plan_features"]
        .as_array()
        .expect("plan features")
        .iter()
        .find(|f| f["key"] == "sso")
        .expect("sso")
        .clone();
    assert_eq!(sso["active"], false);
    let domains = capabilities["plan_features"]
        .as_array()
        .expect("plan features")
        .iter()
        .find(|f| f["key"] == "custom_domain")
        .expect("custom_domain")
        .clone();
    assert_eq!(domains["active"], true);

    for path in [
        "/.well-known/nope",
        "/v1/nope",
        "/v1/dev/mailbox",
        "/sdk/authstack-client.tgz",
    ] {
        let reply = platform
            .send(platform.client.get(format!("{}{path}", platform.cp)))
            .await;
        reply.assert_error(404, "not_found");
    }

    // A token that works in no organization is told what to do, whatever the account id.
    let token = platform.sign_up_on_platform("orgless@example.com").await;
    for id in ["acc_nosuchaccount", "acc_x"] {
        let reply = platform.get(&format!("/v1/accounts/{id}"), &token).await;
        reply.assert_error(403, "forbidden");
        assert!(
            reply.body["message"]
                .as_str()
                .is_some_and(|m| m.contains("switch to the account's organization")),
            "{}",
            reply.body
        );
    }
}

#[tokio::test]
async fn the_dev_mailbox_shows_every_outbox_and_the_sdk_is_served() {
    let dir = Arc::new(tempfile::tempdir().expect("temp dir"));
    let sdk = tempfile::tempdir().expect("sdk dir");
    std::fs::write(sdk.path().join("authstack-client.tgz"), b"client tarball").expect("write");
    std::fs::write(sdk.path().join("authstack-react.tgz"), b"react tarball").expect("write");
    std::fs::write(sdk.path().join("secret.txt"), b"not served").expect("write");
    let mut config = test_config(dir.path());
    config.dev_mailbox = true;
    config.sdk_dir = Some(sdk.path().to_owned());
    let platform = spawn_platform_with(dir, config).await;

    let signup = platform
        .via_key(
            Method::POST,
            "/v1/auth/signup",
            &platform.platform_key,
            None,
            Some(json!({ "email": "mailbox@example.com", "password": PASSWORD })),
        )
        .await;
    assert!(signup.status == 202, "{}", signup.body);
    let platform_id = platform.app().platform.instance_id.clone();
    platform
        .mailed_token(&platform_id, "mailbox@example.com", "verify_email")
        .await;
    let mailbox = platform
        .send(
            platform
                .client
                .get(format!("{}/v1/dev/mailbox", platform.cp)),
        )
        .await;
    mailbox.assert_ok(200);
    let first = &mailbox.body["mailboxes"][0];
    assert_eq!(
        first["instance_id"],
        platform_id.as_str(),
        "{}",
        mailbox.body
    );
    assert!(
        first["outbox"]
            .as_str()
            .is_some_and(|o| o.ends_with("/data/outbox"))
    );
    let message = &first["messages"][0];
    assert_eq!(message["to"], "mailbox@example.com");
    assert_eq!(message["kind"], "verify_email");
    assert!(
        message["link"]
            .as_str()
            .is_some_and(|l| l.contains("token=")),
        "{message}"
    );

    let info = public_json(&platform, "/v1/platform").await;
    let client_url = info["sdk"]["client"].as_str().expect("sdk urls");
    assert!(client_url.ends_with("/sdk/authstack-client.tgz"), "{info}");
    let tarball = platform
        .client
        .get(format!("{}/sdk/authstack-client.tgz", platform.cp))
        .send()
        .await
        .expect("send");
    assert_eq!(tarball.status(), 200);
    assert_eq!(
        tarball.bytes().await.expect("bytes").as_ref(),
        b"client tarball"
    );
    for path in ["/sdk/secret.txt", "/sdk/../dev.json", "/sdk/"] {
        let reply = platform
            .send(platform.client.get(format!("{}{path}", platform.cp)))
            .await;
        assert_eq!(reply.status, 404, "{path}: {}", reply.body);
    }
}

#[tokio::test]
async fn login_stores_a_session_and_token_prints_a_working_access_token() {
    let platform = spawn_platform().await;
    let owner = platform.owner("cli@example.com").await;
    let config_dir = tempfile::tempdir().expect("config dir");
    let file = config_dir.path().join("credentials.json");
    let password = SecretString::from(PASSWORD.to_owned());
    let wrong = authstack_control_plane::credentials::login(
        &file,
        &platform.cp,
        "cli@example.com",
        &SecretString::from("wrong password".to_owned()),
        None,
    )
    .await
    .expect_err("a wrong password fails");
    assert!(
        format!("{wrong:#}").contains("signing in failed"),
        "{wrong:#}"
    );
    let (stored, accounts) = authstack_control_plane::credentials::login(
        &file,
        &platform.cp,
        "cli@example.com",
        &password,
        None,
    )
    .await
    .expect("login");
    assert_eq!(stored.organization_id, owner.organization_id);
    assert_eq!(accounts, std::slice::from_ref(&owner.account_id));
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&file).expect("stored").permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    for _ in 0..2 {
        let token = authstack_control_plane::credentials::token(&file)
            .await
            .expect("token");
        platform
            .get(&format!("/v1/accounts/{}", owner.account_id), &token)
            .await
            .assert_ok(200);
    }
}
