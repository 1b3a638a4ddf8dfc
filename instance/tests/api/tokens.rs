//! Access tokens against the JWKS, refresh rotation and reuse detection, logout, revocation,
//! and signing-key rotation.

use std::collections::HashSet;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, Reply, TestApp, spawn_app};

backend_tests!(
    a_standard_jwt_library_verifies_access_tokens_with_the_jwks,
    bad_expired_and_foreign_access_tokens_are_refused,
    refresh_rotates_and_reuse_revokes_the_family,
    concurrent_refreshes_with_one_token_give_exactly_one_success,
    sessions_end_at_their_lifetime,
    logout_ends_this_session_or_all,
    revocation_follows_rfc_7009,
    rotated_keys_stay_published_until_their_tokens_expire,
);

async fn jwks(app: &TestApp) -> JwkSet {
    app.http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .expect("jwks")
        .json()
        .await
        .expect("jwk set")
}

/// Verifies with the `jsonwebtoken` crate, as a customer's backend would: key by `kid` from the
/// JWKS, RS256 only, issuer and audience pinned.
pub async fn verify_like_a_customer(
    app: &TestApp,
    token: &str,
) -> Result<Value, jsonwebtoken::errors::Error> {
    let header = decode_header(token)?;
    let set = jwks(app).await;
    let jwk = set
        .find(header.kid.as_deref().unwrap_or_default())
        .expect("kid is in the JWKS");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_issuer(&[&app.app.issuer]);
    validation.set_audience(&[&app.app.audience]);
    Ok(decode::<Value>(token, &DecodingKey::from_jwk(jwk)?, &validation)?.claims)
}

async fn a_standard_jwt_library_verifies_access_tokens_with_the_jwks(backend: Backend) {
    let app = spawn_app(backend).await;
    let login = app
        .register("ivy@example.com", "correct horse battery")
        .await;
    let token = login.str("access_token");
    let header = decode_header(&token).expect("header");
    assert_eq!(header.alg, Algorithm::RS256);
    assert!(header.kid.is_some());
    let claims = verify_like_a_customer(&app, &token)
        .await
        .expect("verifies");
    assert_eq!(claims["sub"], login.body["user"]["id"]);
    assert_eq!(claims["email"], "ivy@example.com");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["amr"], json!(["pwd"]));
    // The sign-in time of the session (kept by refreshes), for recent-sign-in checks.
    let auth_time = claims["auth_time"].as_i64().expect("auth_time");
    assert!(auth_time > 0 && auth_time <= claims["iat"].as_i64().expect("iat"));
    let refreshed = app
        .post(
            "/v1/auth/refresh",
            json!({ "refresh_token": login.str("refresh_token") }),
        )
        .await;
    let again = verify_like_a_customer(&app, &refreshed.str("access_token"))
        .await
        .expect("verifies");
    assert_eq!(again["auth_time"], auth_time);
    assert_eq!(claims["iss"], app.app.issuer.as_str());
    assert_eq!(claims["aud"], app.app.audience.as_str());
    assert!(
        claims["sid"]
            .as_str()
            .is_some_and(|s| s.starts_with("ses_"))
    );
    assert!(claims["jti"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(
        claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat"),
        300
    );

    let discovery = app.get("/.well-known/openid-configuration").await;
    assert_eq!(discovery.body["issuer"], app.app.issuer.as_str());
    assert_eq!(
        discovery.body["jwks_uri"],
        format!("{}/.well-known/jwks.json", app.app.issuer)
    );
    assert_eq!(
        discovery.body["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
}

async fn bad_expired_and_foreign_access_tokens_are_refused(backend: Backend) {
    let app = spawn_app(backend.clone()).await;
    let token = app
        .register("jo@example.com", "correct horse battery")
        .await
        .str("access_token");
    let (head, rest) = token.split_once('.').expect("jwt");
    let (payload, signature) = rest.split_once('.').expect("jwt");
    let mut forged_claims: Value = serde_json::from_slice(&base64_decode(payload)).expect("claims");
    forged_claims["sub"] = json!("usr_someone_else");
    let forged = format!(
        "{head}.{}.{signature}",
        base64_encode(forged_claims.to_string().as_bytes())
    );
    let none_alg = format!(
        "{}.{payload}.",
        base64_encode(br#"{"alg":"none","typ":"JWT"}"#)
    );
    for bad in ["", "garbage", "a.b.c", forged.as_str(), none_alg.as_str()] {
        app.get_as("/v1/me", bad)
            .await
            .assert_error(401, "unauthorized");
    }
    let no_auth = Reply::from(app.http.get(app.url("/v1/me")).send().await.expect("send")).await;
    no_auth.assert_error(401, "unauthorized");
    assert_eq!(no_auth.headers["www-authenticate"], "Bearer");
    let basic = Reply::from(
        app.http
            .get(app.url("/v1/me"))
            .basic_auth("a", Some("b"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    basic.assert_error(401, "unauthorized");

    // A token of another instance (its own keys and audience) is refused.
    let other = spawn_app(backend).await;
    let foreign = other
        .register("jo@example.com", "correct horse battery")
        .await
        .str("access_token");
    app.get_as("/v1/me", &foreign)
        .await
        .assert_error(401, "unauthorized");

    assert_eq!(app.get_as("/v1/me", &token).await.status, 200);
    app.clock.advance(301);
    app.get_as("/v1/me", &token)
        .await
        .assert_error(401, "unauthorized");
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s)
        .expect("base64url")
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn refresh_rotates_and_reuse_revokes_the_family(backend: Backend) {
    let app = spawn_app(backend).await;
    let first = app
        .register("kim@example.com", "correct horse battery")
        .await;
    let other_device = app.login("kim@example.com", "correct horse battery").await;
    let r1 = first.str("refresh_token");
    assert!(r1.len() >= 3 + 43, "at least 256 bits");

    let second = app
        .post("/v1/auth/refresh", json!({ "refresh_token": r1 }))
        .await;
    assert_eq!(second.status, 200, "{}", second.body);
    let r2 = second.str("refresh_token");
    assert_ne!(r1, r2, "refresh tokens rotate on every use");
    assert_eq!(second.body["user"]["email"], "kim@example.com");
    let third = app
        .post("/v1/auth/refresh", json!({ "refresh_token": r2 }))
        .await;
    assert_eq!(third.status, 200);
    let r3 = third.str("refresh_token");

    // Replaying r1, already rotated: the whole family (r3 and its access token) dies.
    app.post("/v1/auth/refresh", json!({ "refresh_token": r1 }))
        .await
        .assert_error(400, "invalid_grant");
    app.post("/v1/auth/refresh", json!({ "refresh_token": r3 }))
        .await
        .assert_error(400, "invalid_grant");
    app.get_as("/v1/me", &third.str("access_token"))
        .await
        .assert_error(401, "unauthorized");
    // Another device's session is a different family and lives on.
    assert_eq!(
        app.get_as("/v1/me", &other_device.str("access_token"))
            .await
            .status,
        200
    );

    let audit = app
        .get_as(
            "/v1/admin/audit-logs?action=auth.refresh_token_reused",
            &app.admin_key,
        )
        .await;
    assert_eq!(
        audit.body["data"].as_array().map(Vec::len),
        Some(1),
        "{}",
        audit.body
    );
    assert_eq!(audit.body["data"][0]["actor_id"], first.body["user"]["id"]);

    for bad in [
        json!({ "refresh_token": "rt_unknown" }),
        json!({ "refresh_token": "x".repeat(500) }),
    ] {
        app.post("/v1/auth/refresh", bad)
            .await
            .assert_error(400, "invalid_grant");
    }
    app.post("/v1/auth/refresh", json!({}))
        .await
        .assert_error(400, "invalid_request");
    app.post("/v1/auth/refresh", json!({ "refresh_token": 7 }))
        .await
        .assert_error(400, "invalid_request");
}

async fn concurrent_refreshes_with_one_token_give_exactly_one_success(backend: Backend) {
    let app = spawn_app(backend).await;
    for round in 0..3 {
        let login = app
            .register(&format!("race{round}@example.com"), "correct horse battery")
            .await;
        let token = login.str("refresh_token");
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let request = app
                    .http
                    .post(app.url("/v1/auth/refresh"))
                    .json(&json!({ "refresh_token": token }));
                tokio::spawn(async move { Reply::from(request.send().await.expect("send")).await })
            })
            .collect();
        let mut replies = Vec::new();
        for handle in handles {
            replies.push(handle.await.expect("task"));
        }
        let successes = replies.iter().filter(|r| r.status == 200).count();
        assert_eq!(
            successes,
            1,
            "round {round}: {:?}",
            replies.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        assert!(
            replies
                .iter()
                .filter(|r| r.status != 200)
                .all(|r| r.body["error"] == "invalid_grant")
        );
    }
}

async fn sessions_end_at_their_lifetime(backend: Backend) {
    let app = spawn_app(backend).await;
    let login = app
        .register("lee@example.com", "correct horse battery")
        .await;
    app.clock.advance(30 * 24 * 3600 + 1);
    app.post(
        "/v1/auth/refresh",
        json!({ "refresh_token": login.str("refresh_token") }),
    )
    .await
    .assert_error(400, "invalid_grant");
}

async fn logout_ends_this_session_or_all(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app
        .register("max@example.com", "correct horse battery")
        .await;
    let b = app.login("max@example.com", "correct horse battery").await;
    let c = app.login("max@example.com", "correct horse battery").await;

    let reply = app
        .post_as(
            "/v1/auth/logout",
            &a.str("access_token"),
            json!({ "scope": "sideways" }),
        )
        .await;
    reply.assert_error(400, "invalid_request");
    let reply = Reply::from(
        app.http
            .post(app.url("/v1/auth/logout"))
            .bearer_auth(a.str("access_token"))
            .send()
            .await
            .expect("send"),
    )
    .await;
    assert_eq!(reply.status, 204);
    app.get_as("/v1/me", &a.str("access_token"))
        .await
        .assert_error(401, "unauthorized");
    app.post(
        "/v1/auth/refresh",
        json!({ "refresh_token": a.str("refresh_token") }),
    )
    .await
    .assert_error(400, "invalid_grant");
    assert_eq!(
        app.get_as("/v1/me", &b.str("access_token")).await.status,
        200
    );

    let reply = app
        .post_as(
            "/v1/auth/logout",
            &b.str("access_token"),
            json!({ "scope": "global" }),
        )
        .await;
    assert_eq!(reply.status, 204);
    for session in [&b, &c] {
        app.get_as("/v1/me", &session.str("access_token"))
            .await
            .assert_error(401, "unauthorized");
        app.post(
            "/v1/auth/refresh",
            json!({ "refresh_token": session.str("refresh_token") }),
        )
        .await
        .assert_error(400, "invalid_grant");
    }
    app.post("/v1/auth/logout", json!({}))
        .await
        .assert_error(401, "unauthorized");
}

async fn revocation_follows_rfc_7009(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app
        .register("ned@example.com", "correct horse battery")
        .await;
    let b = app.login("ned@example.com", "correct horse battery").await;
    let revoke = |form: Vec<(&'static str, String)>| {
        let request = app.http.post(app.url("/v1/auth/revoke")).form(&form);
        async move { Reply::from(request.send().await.expect("send")).await }
    };
    assert_eq!(
        revoke(vec![
            ("token", a.str("refresh_token")),
            ("token_type_hint", "refresh_token".into())
        ])
        .await
        .status,
        200
    );
    app.post(
        "/v1/auth/refresh",
        json!({ "refresh_token": a.str("refresh_token") }),
    )
    .await
    .assert_error(400, "invalid_grant");
    app.get_as("/v1/me", &a.str("access_token"))
        .await
        .assert_error(401, "unauthorized");
    // An access token revokes its session too.
    assert_eq!(
        revoke(vec![("token", b.str("access_token"))]).await.status,
        200
    );
    app.post(
        "/v1/auth/refresh",
        json!({ "refresh_token": b.str("refresh_token") }),
    )
    .await
    .assert_error(400, "invalid_grant");
    // Unknown tokens: 200 all the same.
    assert_eq!(
        revoke(vec![("token", "rt_never_issued".into())])
            .await
            .status,
        200
    );
    assert_eq!(revoke(vec![("token", "whatever".into())]).await.status, 200);
    revoke(vec![]).await.assert_error(400, "invalid_request");
    app.post("/v1/auth/revoke", json!({ "token": "x" }))
        .await
        .assert_error(415, "unsupported_media_type");
}

async fn rotated_keys_stay_published_until_their_tokens_expire(backend: Backend) {
    let app = spawn_app(backend).await;
    let before = app
        .register("oz@example.com", "correct horse battery")
        .await;
    let old_kid = decode_header(before.str("access_token"))
        .expect("header")
        .kid
        .expect("kid");

    app.post_as("/v1/admin/keys/rotate", "not-a-key", json!({}))
        .await
        .assert_error(401, "unauthorized");
    let rotated = app
        .post_as("/v1/admin/keys/rotate", &app.admin_key, json!({}))
        .await;
    assert_eq!(rotated.status, 200, "{}", rotated.body);
    let new_kid = rotated.str("kid");
    assert_ne!(new_kid, old_kid);

    let kids: HashSet<_> = jwks(&app)
        .await
        .keys
        .iter()
        .filter_map(|k| k.common.key_id.clone())
        .collect();
    assert_eq!(kids, HashSet::from([old_kid.clone(), new_kid.clone()]));
    // Tokens signed before the rotation still work; new ones carry the new kid.
    assert_eq!(
        app.get_as("/v1/me", &before.str("access_token"))
            .await
            .status,
        200
    );
    verify_like_a_customer(&app, &before.str("access_token"))
        .await
        .expect("old token verifies");
    let after = app.login("oz@example.com", "correct horse battery").await;
    assert_eq!(
        decode_header(after.str("access_token"))
            .expect("header")
            .kid,
        Some(new_kid.clone())
    );

    // Once every token of the old key has expired, it leaves the JWKS.
    app.clock.advance(300 + 61);
    let kids: Vec<_> = jwks(&app)
        .await
        .keys
        .iter()
        .filter_map(|k| k.common.key_id.clone())
        .collect();
    assert_eq!(kids, vec![new_kid]);

    // Keys survive a restart: the current token still verifies.
    let token = app
        .login("oz@example.com", "correct horse battery")
        .await
        .str("access_token");
    let app = app.restart().await;
    assert_eq!(app.get_as("/v1/me", &token).await.status, 200);
}
