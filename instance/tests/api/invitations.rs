//! Invitations: existing users, new users, expiry, cancellation, wrong email, resend, caps.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, spawn_app};

backend_tests!(
    an_existing_user_accepts_signed_in,
    a_new_user_signs_up_and_joins_in_one_call,
    expired_cancelled_used_and_resent_links,
    invitations_refuse_duplicates_and_bad_input,
);

async fn invite(app: &TestApp, org: &str, token: &str, email: &str, role: &str) -> String {
    // Mail goes to the address's canonical form: for these ASCII addresses, lowercase.
    let to = email.to_ascii_lowercase();
    let before = app
        .outbox()
        .iter()
        .filter(|m| m["to"] == to.as_str() && m["kind"] == "invitation")
        .count();
    let reply = app
        .post_as(
            &format!("/v1/organizations/{org}/invitations"),
            token,
            json!({ "email": email, "role": role }),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert_eq!(reply.body["status"], "pending");
    app.mailed_token(&to, "invitation", before + 1).await
}

async fn an_existing_user_accepts_signed_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app
        .register("uma@example.com", "correct horse battery")
        .await
        .str("access_token");
    let org = app.create_org(&owner, "Joinable").await;
    let invited = app
        .register("eli@example.com", "correct horse battery")
        .await;
    let other = app
        .register("fox@example.com", "correct horse battery")
        .await;
    let token = invite(&app, &org, &owner, "ELI@example.com", "admin").await;
    let mail = app
        .outbox()
        .into_iter()
        .find(|m| m["kind"] == "invitation")
        .expect("mail");
    assert!(
        mail["subject"]
            .as_str()
            .expect("subject")
            .contains("Joinable")
    );
    assert!(
        mail["text"]
            .as_str()
            .expect("text")
            .contains("uma@example.com")
    );

    // Not signed in, though the address has an account: sign in first.
    app.post("/v1/invitations/accept", json!({ "token": token }))
        .await
        .assert_error(401, "unauthorized");
    // Signed in as someone else: refused.
    app.post_as(
        "/v1/invitations/accept",
        &other.str("access_token"),
        json!({ "token": token }),
    )
    .await
    .assert_error(403, "forbidden");
    let accepted = app
        .post_as(
            "/v1/invitations/accept",
            &invited.str("access_token"),
            json!({ "token": token }),
        )
        .await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    assert_eq!(accepted.body["role"], "admin");
    assert_eq!(accepted.body["organization"]["id"], org.as_str());
    assert!(accepted.body["session"].is_null());
    let mine = app
        .get_as("/v1/me/organizations", &invited.str("access_token"))
        .await;
    assert_eq!(mine.body["data"][0]["role"], "admin");
    app.post_as(
        "/v1/invitations/accept",
        &invited.str("access_token"),
        json!({ "token": token }),
    )
    .await
    .assert_error(400, "invalid_grant");

    let audit = app
        .get_as(&format!("/v1/organizations/{org}/audit-logs"), &owner)
        .await;
    let actions: Vec<&str> = audit.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|e| e["action"].as_str().expect("action"))
        .collect();
    for expected in [
        "organization.invitation_sent",
        "organization.invitation_accepted",
        "organization.member_added",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
}

async fn a_new_user_signs_up_and_joins_in_one_call(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app
        .register("vera@example.com", "correct horse battery")
        .await
        .str("access_token");
    let org = app.create_org(&owner, "Newcomers").await;
    let token = invite(&app, &org, &owner, "nia@example.com", "member").await;
    app.post("/v1/invitations/accept", json!({ "token": token }))
        .await
        .assert_error(400, "invalid_request");
    app.post(
        "/v1/invitations/accept",
        json!({ "token": token, "password": "123456" }),
    )
    .await
    .assert_error(400, "weak_password");
    let accepted = app
        .post(
            "/v1/invitations/accept",
            json!({ "token": token, "password": "correct horse battery", "name": "Nia" }),
        )
        .await;
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    let session = &accepted.body["session"];
    assert_eq!(session["user"]["email"], "nia@example.com");
    assert_eq!(
        session["user"]["email_verified"], true,
        "the mailed link proves the address"
    );
    assert_eq!(session["user"]["name"], "Nia");
    let me = app
        .get_as("/v1/me", session["access_token"].as_str().expect("token"))
        .await;
    assert_eq!(me.status, 200);
    // The account works for ordinary login, even with verification required.
    assert_eq!(
        app.login("nia@example.com", "correct horse battery")
            .await
            .status,
        200
    );
}

async fn expired_cancelled_used_and_resent_links(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app
        .register("wen@example.com", "correct horse battery")
        .await
        .str("access_token");
    let org = app.create_org(&owner, "Lifecycle").await;
    let accept = |token: String| {
        let app = &app;
        async move {
            app.post(
                "/v1/invitations/accept",
                json!({ "token": token, "password": "correct horse battery" }),
            )
            .await
        }
    };

    let cancelled = invite(&app, &org, &owner, "c@example.com", "member").await;
    let list = app
        .get_as(&format!("/v1/organizations/{org}/invitations"), &owner)
        .await;
    let id = list.body["data"][0]["id"].as_str().expect("id").to_owned();
    assert_eq!(
        app.delete_as(&format!("/v1/organizations/{org}/invitations/{id}"), &owner)
            .await
            .status,
        204
    );
    let reply = accept(cancelled).await;
    reply.assert_error(400, "invalid_grant");
    assert!(
        reply.body["message"]
            .as_str()
            .expect("message")
            .contains("cancelled")
    );
    app.delete_as(&format!("/v1/organizations/{org}/invitations/{id}"), &owner)
        .await
        .assert_error(409, "conflict");
    app.delete_as(
        &format!("/v1/organizations/{org}/invitations/invt_missing"),
        &owner,
    )
    .await
    .assert_error(404, "not_found");

    let old = invite(&app, &org, &owner, "e@example.com", "member").await;
    app.clock.advance(7 * 24 * 3600 + 1);
    let reply = accept(old.clone()).await;
    reply.assert_error(400, "invalid_grant");
    assert!(
        reply.body["message"]
            .as_str()
            .expect("message")
            .contains("expired")
    );
    // A week later the owner's access token has long expired too.
    let owner = app
        .login("wen@example.com", "correct horse battery")
        .await
        .str("access_token");
    let listed = app
        .get_as(&format!("/v1/organizations/{org}/invitations"), &owner)
        .await;
    let expired = listed.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .find(|i| i["email"] == "e@example.com")
        .expect("listed")
        .clone();
    assert_eq!(expired["status"], "expired");

    // Resending renews the expiry and replaces the link.
    let resent = app
        .post_as(
            &format!(
                "/v1/organizations/{org}/invitations/{}/resend",
                expired["id"].as_str().expect("id")
            ),
            &owner,
            json!({}),
        )
        .await;
    assert_eq!(resent.status, 200, "{}", resent.body);
    assert_eq!(resent.body["status"], "pending");
    let fresh = app.mailed_token("e@example.com", "invitation", 2).await;
    accept(old).await.assert_error(400, "invalid_grant");
    assert_eq!(accept(fresh.clone()).await.status, 201);
    let reply = accept(fresh).await;
    assert!(
        reply.body["message"]
            .as_str()
            .expect("message")
            .contains("invalid")
            || reply.body["message"]
                .as_str()
                .expect("message")
                .contains("accepted")
    );
    accept("inv_forged".into())
        .await
        .assert_error(400, "invalid_grant");
}

async fn invitations_refuse_duplicates_and_bad_input(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app
        .register("xia@example.com", "correct horse battery")
        .await
        .str("access_token");
    let org = app.create_org(&owner, "Dupes").await;
    let path = format!("/v1/organizations/{org}/invitations");
    app.post_as(&path, &owner, json!({ "email": "xia@example.com" }))
        .await
        .assert_error(409, "conflict");
    assert_eq!(
        app.post_as(&path, &owner, json!({ "email": "yan@example.com" }))
            .await
            .status,
        201
    );
    app.post_as(&path, &owner, json!({ "email": "YAN@example.com" }))
        .await
        .assert_error(409, "conflict");
    for (body, code) in [
        (json!({ "email": "nope" }), "invalid_request"),
        (
            json!({ "email": "a@example.com", "role": "emperor" }),
            "invalid_request",
        ),
        (
            json!({ "email": "a@example.com", "extra": true }),
            "invalid_request",
        ),
        (json!({}), "invalid_request"),
    ] {
        app.post_as(&path, &owner, body)
            .await
            .assert_error(400, code);
    }
    app.post("/v1/invitations/accept", json!({}))
        .await
        .assert_error(400, "invalid_request");
    app.post(
        "/v1/invitations/accept",
        json!({ "token": "x", "password": "correct horse battery" }),
    )
    .await
    .assert_error(400, "invalid_grant");
    app.post_as("/v1/invitations/accept", "garbage", json!({ "token": "x" }))
        .await
        .assert_error(401, "unauthorized");
}
