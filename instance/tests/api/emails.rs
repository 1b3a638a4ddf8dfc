//! One canonical form per address: look-alike spellings (the Kelvin sign, fullwidth letters,
//! `ß`, IDNA domains) are one account and are mailed at one address; spellings that differ
//! (the Turkish dotless `ı`) stay apart; Latin mixed with Cyrillic look-alikes is refused; rows
//! stored under the old lowercase form are brought to the canonical form at start.
//!
//! - `kelvin_sign_is_the_account_of_its_ascii_spelling`
//! - `look_alike_first_cannot_receive_the_accounts_mail`
//! - `sharp_s_folds_to_ss`
//! - `dotless_i_is_not_i`
//! - `fullwidth_letters_are_their_ascii_form`
//! - `latin_mixed_with_cyrillic_look_alikes_is_refused`
//! - `idna_domains_are_their_punycode_form`
//! - `stored_lookups_are_recomputed_at_start_and_collisions_keep_both`
//! - `a_search_folds_its_query_as_addresses_are_folded`

use std::time::Duration;

use authstack_instance::config::InstanceConfig;
use authstack_instance::db::Scope;
use serde_json::json;
use sqlx::Row;

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_with};

backend_tests!(
    kelvin_sign_is_the_account_of_its_ascii_spelling,
    look_alike_first_cannot_receive_the_accounts_mail,
    sharp_s_folds_to_ss,
    dotless_i_is_not_i,
    fullwidth_letters_are_their_ascii_form,
    latin_mixed_with_cyrillic_look_alikes_is_refused,
    idna_domains_are_their_punycode_form,
    stored_lookups_are_recomputed_at_start_and_collisions_keep_both,
    a_search_folds_its_query_as_addresses_are_folded,
);

/// The admin search over users matches canonical addresses with a query folded the same way:
/// an operator who types the Kelvin sign, fullwidth letters or `SS` finds the account.
async fn a_search_folds_its_query_as_addresses_are_folded(backend: Backend) {
    let app = spawn_app_with(backend, without_verification()).await;
    app.register("kate.strasse@example.com", PASSWORD).await;
    app.register("other@example.com", PASSWORD).await;
    // `K` (Kelvin sign), fullwidth `ｋａｔｅ`, `STRASSE` and `straße` (ß folds to ss).
    for query in [
        "%E2%84%AAate",
        "%EF%BD%8B%EF%BD%81%EF%BD%94%EF%BD%85",
        "STRASSE",
        "stra%C3%9Fe",
    ] {
        let found = app
            .get_as(&format!("/v1/admin/users?search={query}"), &app.admin_key)
            .await;
        assert_eq!(found.status, 200, "{}", found.body);
        let emails: Vec<&str> = found.body["data"]
            .as_array()
            .expect("data")
            .iter()
            .filter_map(|u| u["email"].as_str())
            .collect();
        assert_eq!(emails, ["kate.strasse@example.com"], "search {query}");
    }
}

const KELVIN_KATE: &str = "\u{212a}ate@example.com";
const PASSWORD: &str = "correct horse battery";

fn without_verification() -> InstanceConfig {
    let mut config = InstanceConfig::default();
    config.auth.require_email_verification = false;
    config
}

async fn user_count(app: &TestApp) -> usize {
    let users = app.get_as("/v1/admin/users", &app.admin_key).await;
    users.body["data"].as_array().map_or(0, Vec::len)
}

/// Every recipient in the outbox, once background mail work has settled.
async fn recipients(app: &TestApp) -> Vec<String> {
    tokio::time::sleep(Duration::from_millis(400)).await;
    app.outbox()
        .iter()
        .filter_map(|m| m["to"].as_str().map(str::to_owned))
        .collect()
}

async fn kelvin_sign_is_the_account_of_its_ascii_spelling(backend: Backend) {
    let app = spawn_app(backend).await;
    let kate = app
        .post(
            "/v1/auth/signup",
            json!({ "email": "kate@example.com", "password": PASSWORD }),
        )
        .await;
    let kelvin = app
        .post(
            "/v1/auth/signup",
            json!({ "email": KELVIN_KATE, "password": "another long passphrase" }),
        )
        .await;
    assert_eq!(kate.status, 202, "{}", kate.body);
    assert_eq!((kate.status, &kate.body), (kelvin.status, &kelvin.body));
    // The second signup took the "account exists" path: its mail went to the owner.
    app.mailed_token("kate@example.com", "account_exists", 1)
        .await;
    assert_eq!(user_count(&app).await, 1);

    let forgot = app
        .post("/v1/auth/password/forgot", json!({ "email": KELVIN_KATE }))
        .await;
    assert_eq!(forgot.status, 202);
    app.mailed_token("kate@example.com", "password_reset", 1)
        .await;
    let to = recipients(&app).await;
    assert!(to.iter().all(|t| t == "kate@example.com"), "{to:?}");
    assert_eq!(user_count(&app).await, 1);
}

async fn look_alike_first_cannot_receive_the_accounts_mail(backend: Backend) {
    let app = spawn_app(backend).await;
    // A look-alike spelling signs up before the owner does.
    app.post(
        "/v1/auth/signup",
        json!({ "email": KELVIN_KATE, "password": PASSWORD }),
    )
    .await;
    // The verification link goes to the one address the spelling stands for, not to the
    // spelling: only the owner of kate@example.com can complete this signup.
    let token = app
        .mailed_token("kate@example.com", "verify_email", 1)
        .await;
    // The owner's own signup and reset reach the owner, who can take the account over.
    app.post(
        "/v1/auth/signup",
        json!({ "email": "kate@example.com", "password": "another long passphrase" }),
    )
    .await;
    app.mailed_token("kate@example.com", "account_exists", 1)
        .await;
    app.post(
        "/v1/auth/password/forgot",
        json!({ "email": "kate@example.com" }),
    )
    .await;
    let reset = app
        .mailed_token("kate@example.com", "password_reset", 1)
        .await;
    let to = recipients(&app).await;
    assert!(!to.iter().any(|t| t == KELVIN_KATE), "{to:?}");
    assert_eq!(
        app.post(
            "/v1/auth/password/reset",
            json!({ "token": reset, "password": "kate's own passphrase" }),
        )
        .await
        .status,
        200
    );
    assert_eq!(
        app.post("/v1/auth/email/verify", json!({ "token": token }))
            .await
            .status,
        200
    );
    assert_eq!(
        app.login("kate@example.com", "kate's own passphrase")
            .await
            .status,
        200
    );
}

async fn sharp_s_folds_to_ss(backend: Backend) {
    let app = spawn_app_with(backend, without_verification()).await;
    let first = app
        .post(
            "/v1/auth/signup",
            json!({ "email": "straße@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    // Full case folding: ß is ss, so these are one account.
    app.post(
        "/v1/auth/signup",
        json!({ "email": "strasse@example.com", "password": PASSWORD }),
    )
    .await
    .assert_error(409, "conflict");
    app.post(
        "/v1/auth/signup",
        json!({ "email": "STRASSE@example.com", "password": PASSWORD }),
    )
    .await
    .assert_error(409, "conflict");
    let login = app.login("Strasse@example.com", PASSWORD).await;
    assert_eq!(login.status, 200, "{}", login.body);
    assert_eq!(login.user_id(), first.user_id());
    // Shown as given.
    assert_eq!(login.body["user"]["email"], "straße@example.com");
}

async fn dotless_i_is_not_i(backend: Backend) {
    let app = spawn_app_with(backend, without_verification()).await;
    let dotted = app
        .post(
            "/v1/auth/signup",
            json!({ "email": "ia@example.com", "password": PASSWORD }),
        )
        .await;
    let dotless = app
        .post(
            "/v1/auth/signup",
            json!({ "email": "ıa@example.com", "password": "another long passphrase" }),
        )
        .await;
    assert_eq!(dotted.status, 201, "{}", dotted.body);
    assert_eq!(dotless.status, 201, "{}", dotless.body);
    assert_ne!(dotted.user_id(), dotless.user_id());
    // The ASCII capital I is i (no Turkic folding).
    assert_eq!(
        app.login("IA@example.com", PASSWORD).await.user_id(),
        dotted.user_id()
    );
    assert_eq!(
        app.login("ıa@example.com", "another long passphrase")
            .await
            .user_id(),
        dotless.user_id()
    );
}

async fn fullwidth_letters_are_their_ascii_form(backend: Backend) {
    let app = spawn_app_with(backend, without_verification()).await;
    let fullwidth = app
        .post(
            "/v1/auth/signup",
            json!({ "email": "ｋａｔｅ@example.com", "password": PASSWORD }),
        )
        .await;
    assert_eq!(fullwidth.status, 201, "{}", fullwidth.body);
    app.post(
        "/v1/auth/signup",
        json!({ "email": "kate@example.com", "password": PASSWORD }),
    )
    .await
    .assert_error(409, "conflict");
    assert_eq!(
        app.login("kate@example.com", PASSWORD).await.user_id(),
        fullwidth.user_id()
    );
    app.mailed_token("kate@example.com", "verify_email", 1)
        .await;
}

async fn latin_mixed_with_cyrillic_look_alikes_is_refused(backend: Backend) {
    let app = spawn_app_with(backend, without_verification()).await;
    // "kаte" with a Cyrillic а (U+0430).
    let mixed = app
        .post(
            "/v1/auth/signup",
            json!({ "email": "k\u{430}te@example.com", "password": PASSWORD }),
        )
        .await;
    mixed.assert_error(400, "invalid_request");
    assert!(
        mixed.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("script")),
        "{}",
        mixed.body
    );
    app.post(
        "/v1/auth/password/forgot",
        json!({ "email": "k\u{430}te@example.com" }),
    )
    .await
    .assert_error(400, "invalid_request");
    assert_eq!(user_count(&app).await, 0);
    // One script throughout is accepted: Cyrillic, Greek, or ASCII.
    for email in ["катя@example.com", "σοφία@example.com", "kate@example.com"] {
        let reply = app
            .post(
                "/v1/auth/signup",
                json!({ "email": email, "password": PASSWORD }),
            )
            .await;
        assert_eq!(reply.status, 201, "{email}: {}", reply.body);
    }
}

async fn idna_domains_are_their_punycode_form(backend: Backend) {
    let app = spawn_app_with(backend, without_verification()).await;
    let unicode = app
        .post(
            "/v1/auth/signup",
            json!({ "email": "kate@BÜCHER.example", "password": PASSWORD }),
        )
        .await;
    assert_eq!(unicode.status, 201, "{}", unicode.body);
    app.post(
        "/v1/auth/signup",
        json!({ "email": "kate@xn--bcher-kva.example", "password": PASSWORD }),
    )
    .await
    .assert_error(409, "conflict");
    assert_eq!(
        app.login("kate@xn--bcher-kva.example", PASSWORD)
            .await
            .user_id(),
        unicode.user_id()
    );
    assert_eq!(
        app.login("Kate@bücher.example", PASSWORD).await.user_id(),
        unicode.user_id()
    );
    app.mailed_token("kate@xn--bcher-kva.example", "verify_email", 1)
        .await;
}

/// Sets a user's stored address and lookup as an earlier version wrote them.
async fn store_legacy(app: &TestApp, id: &str, email: &str, lookup: &str, created_at: i64) {
    sqlx::query(
        "UPDATE users SET email = $2, email_normalized = $3, created_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(email)
    .bind(lookup)
    .bind(created_at)
    .execute(&app.app.db.writer)
    .await
    .expect("legacy row");
}

async fn lookup_of(app: &TestApp, id: &str) -> String {
    sqlx::query("SELECT email_normalized FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(&app.app.db.pool)
        .await
        .expect("user")
        .get("email_normalized")
}

async fn stored_lookups_are_recomputed_at_start_and_collisions_keep_both(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut ids = Vec::new();
    for (i, email) in ["a@example.com", "b@example.com", "c@example.com"]
        .into_iter()
        .enumerate()
    {
        let created = app
            .post_as(
                "/v1/admin/users",
                &app.admin_key,
                json!({ "email": email, "password": PASSWORD, "email_verified": true }),
            )
            .await;
        assert_eq!(created.status, 201, "{i}: {}", created.body);
        ids.push(created.str("id"));
    }
    // As the lowercase-only version stored them: a fullwidth address (older) and `straße`
    // (newer) that are now both strasse@example.com, and a Kelvin-sign address.
    store_legacy(
        &app,
        &ids[0],
        "ＳＴＲＡＳＳＥ@example.com",
        "ｓｔｒａｓｓｅ@example.com",
        1,
    )
    .await;
    store_legacy(&app, &ids[1], "Straße@example.com", "straße@example.com", 2).await;
    store_legacy(
        &app,
        &ids[2],
        "Kate@BÜCHER.example",
        "kate@bücher.example",
        3,
    )
    .await;
    let owner = app.register("owner@example.com", PASSWORD).await;
    let org = app.create_org(&owner.access_token(), "Acme").await;
    let invited = app
        .post_as(
            &format!("/v1/organizations/{org}/invitations"),
            &owner.access_token(),
            json!({ "email": "dana@example.com" }),
        )
        .await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    {
        let mut tx = app
            .app
            .db
            .scoped(Scope::AllOrganizations, true)
            .await
            .expect("tx");
        sqlx::query("UPDATE invitations SET email = 'ＤＡＮＡ@example.com', email_normalized = 'ｄａｎａ@example.com'")
            .execute(&mut *tx)
            .await
            .expect("legacy invitation");
        tx.commit().await.expect("commit");
    }
    sqlx::query("DELETE FROM meta WHERE key = 'canonical_email_version'")
        .execute(&app.app.db.writer)
        .await
        .expect("forget the migration");

    // Twice: the second start finds nothing to do.
    let app = app.restart().await.restart().await;
    // The older of the two takes the canonical form; the newer keeps its old lookup.
    assert_eq!(lookup_of(&app, &ids[0]).await, "strasse@example.com");
    assert_eq!(lookup_of(&app, &ids[1]).await, "straße@example.com");
    assert_eq!(lookup_of(&app, &ids[2]).await, "kate@xn--bcher-kva.example");
    assert_eq!(user_count(&app).await, 4, "both colliding users are kept");
    assert_eq!(
        app.login("strasse@example.com", PASSWORD).await.user_id(),
        ids[0]
    );
    assert_eq!(
        app.login("kate@bücher.example", PASSWORD).await.user_id(),
        ids[2]
    );
    // The invitation is found by its canonical form: a second one is refused as pending.
    app.post_as(
        &format!("/v1/organizations/{org}/invitations"),
        &owner.access_token(),
        json!({ "email": "Dana@example.com" }),
    )
    .await
    .assert_error(409, "conflict");
}
