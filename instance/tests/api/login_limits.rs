//! Failed-login limits under concurrency: a burst of parallel guesses on one account is limited
//! before the passwords are verified, not after.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{Backend, post_all_at_once, spawn_app};

backend_tests!(parallel_guesses_are_counted_before_they_are_verified);

async fn parallel_guesses_are_counted_before_they_are_verified(backend: Backend) {
    let app = spawn_app(backend).await;
    app.register("kim@example.com", "correct horse battery")
        .await;
    let limit = app
        .app
        .config
        .load()
        .rate_limits
        .failed_logins_per_account
        .max as usize;
    // 60 parallel attempts, the 21st with the right password (as an attacker who guesses it),
    // each on its own connection, released together.
    let statuses = post_all_at_once(
        (0..60)
            .map(|i| {
                let password = if i == 20 {
                    "correct horse battery".to_owned()
                } else {
                    format!("wrong guess {i}")
                };
                let body = json!({ "email": "kim@example.com", "password": password });
                (app.url("/v1/auth/login"), body)
            })
            .collect(),
    )
    .await;
    let verified = statuses.iter().filter(|&&s| s == 401 || s == 200).count();
    let limited = statuses.iter().filter(|&&s| s == 429).count();
    assert_eq!(verified + limited, 60, "{statuses:?}");
    // At most the limit's worth of attempts reached the password check. If the right password
    // was among them, its success cleared the account's failures (whoever sent it knows the
    // password already), and the guesses still in flight after it count afresh: at most the
    // limit again.
    let bound = if statuses.contains(&200) {
        2 * limit + 1
    } else {
        limit
    };
    assert!(verified <= bound, "{verified} verified: {statuses:?}");
    // The account is locked for further guesses now, unless the right password was among the
    // attempts that got through: a successful sign-in clears the account's failures.
    if !statuses.contains(&200) {
        app.login("kim@example.com", "another guess")
            .await
            .assert_error(429, "rate_limited");
    }
}
