//! `GET /v1/admin/usage`: active users from sign-ins and refreshes, organizations, members and
//! pending invitations, against the instance's limits.

use authstack_instance::config::InstanceConfig;
use serde_json::{Value, json};

use crate::backend_tests;
use crate::helpers::{Backend, TestApp, spawn_app, spawn_app_with};

backend_tests!(
    usage_counts_active_users_organizations_and_members,
    an_upgrade_counts_the_sign_ins_recorded_before_it,
);

const DAY: i64 = 24 * 3600;
const PASSWORD: &str = "correct horse battery";

async fn usage(app: &TestApp) -> Value {
    let reply = app.get_as("/v1/admin/usage", &app.admin_key).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

/// Refreshes a session; returns the reply with the next refresh token.
async fn refresh(app: &TestApp, refresh_token: &str) -> crate::helpers::Reply {
    let reply = app
        .post(
            "/v1/auth/refresh",
            json!({ "refresh_token": refresh_token }),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply
}

fn daily(usage: &Value) -> Vec<i64> {
    usage["daily_active_users"]
        .as_array()
        .expect("a daily series")
        .iter()
        .map(|d| d["users"].as_i64().expect("a count"))
        .collect()
}

async fn usage_counts_active_users_organizations_and_members(backend: Backend) {
    let mut config = InstanceConfig::default();
    config.organizations.max_organizations = Some(5);
    config.organizations.max_members_per_organization = Some(10);
    let app = spawn_app_with(backend, config).await;
    // Early on a UTC day, so that the test does not straddle midnight.
    let now = app.clock.now();
    app.clock.advance(DAY - now.rem_euclid(DAY) + 3600);

    app.get_as("/v1/admin/usage", "ask_admin_nope")
        .await
        .assert_error(401, "unauthorized");
    let empty = usage(&app).await;
    assert_eq!(empty["users"], 0);
    assert_eq!(empty["monthly_active_users"], 0);
    assert_eq!(empty["organizations"], 0);
    assert_eq!(
        daily(&empty),
        vec![0; 30],
        "every day of the window, oldest first"
    );
    assert_eq!(
        empty["limits"],
        json!({ "organizations": 5, "members_per_organization": 10 })
    );

    // Ada signs in and creates an organization; Bo accepts an invitation (and so signs in);
    // Cy is invited but has not answered; Dee has an organization of her own.
    let ada = app.register("ada@example.com", PASSWORD).await;
    let ada_token = ada.access_token();
    let acme = app.create_org(&ada_token, "Acme").await;
    let bo = app
        .join_as_new_user(&acme, &ada_token, "bo@example.com", "member")
        .await;
    let invited = app
        .post_as(
            &format!("/v1/organizations/{acme}/invitations"),
            &ada_token,
            json!({ "email": "cy@example.com", "role": "member" }),
        )
        .await;
    assert_eq!(invited.status, 201, "{}", invited.body);
    let dee = app.register("dee@example.com", PASSWORD).await;
    let solo = app.create_org(&dee.access_token(), "Solo").await;

    let today = usage(&app).await;
    assert_eq!(today["users"], 3);
    assert_eq!(today["monthly_active_users"], 3);
    assert_eq!(today["organizations"], 2, "{today}");
    let largest = today["members_per_organization"]
        .as_array()
        .expect("organizations");
    assert_eq!(
        largest
            .iter()
            .map(|o| (
                o["organization_id"].as_str().unwrap_or_default(),
                o["name"].as_str().unwrap_or_default(),
                o["members"].as_i64(),
                o["pending_invitations"].as_i64()
            ))
            .collect::<Vec<_>>(),
        vec![
            (acme.as_str(), "Acme", Some(2), Some(1)),
            (solo.as_str(), "Solo", Some(1), Some(0)),
        ],
        "largest first"
    );
    let series = daily(&today);
    assert_eq!(series.len(), 30);
    assert_eq!(series[29], 3, "today is last: {series:?}");
    assert_eq!(series[..29].iter().sum::<i64>(), 0);

    // Two days later only Ada is back (her session refreshes): a user counts once a day and once
    // a month.
    app.clock.advance(2 * DAY);
    let refreshed = refresh(&app, &ada.str("refresh_token")).await;
    refresh(&app, &refreshed.str("refresh_token")).await;
    let later = usage(&app).await;
    assert_eq!(later["monthly_active_users"], 3);
    let series = daily(&later);
    assert_eq!(
        (series[27], series[28], series[29]),
        (3, 0, 1),
        "{series:?}"
    );

    // A deleted user's activity goes with them.
    let deleted = app
        .delete_as(&format!("/v1/admin/users/{}", bo.user_id()), &app.admin_key)
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    let after_delete = usage(&app).await;
    assert_eq!(after_delete["monthly_active_users"], 2);
    assert_eq!(after_delete["users"], 2);
    assert_eq!(daily(&after_delete)[27], 2);

    // A month after the first sign-ins only Ada's refresh is inside the 30-day window.
    app.clock.advance(28 * DAY);
    let month = usage(&app).await;
    assert_eq!(month["monthly_active_users"], 1);
    assert_eq!(month["users"], 2, "users stay users");
    assert_eq!(daily(&month).iter().sum::<i64>(), 1);
}

/// An instance upgraded from a release without `user_activity`: the migration seeds it from
/// each user's last sign-in and each session's last activity.
async fn an_upgrade_counts_the_sign_ins_recorded_before_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let now = app.clock.now();
    app.clock.advance(DAY - now.rem_euclid(DAY) + 3600);
    let ada = app.register("ada@example.com", PASSWORD).await;
    app.clock.advance(DAY);
    refresh(&app, &ada.str("refresh_token")).await;
    assert_eq!(&daily(&usage(&app).await)[28..], [1, 1]);

    // Back to the schema before migration 4, keeping users and sessions.
    let mut tx = app.app.db.writer.begin().await.expect("transaction");
    for statement in [
        "DROP TABLE user_activity",
        "DELETE FROM _sqlx_migrations WHERE version = 4",
    ] {
        sqlx::query(statement)
            .execute(&mut *tx)
            .await
            .expect(statement);
    }
    tx.commit().await.expect("commit");

    let app = app.restart().await;
    let upgraded = usage(&app).await;
    assert_eq!(upgraded["monthly_active_users"], 1);
    // The sign-in day (last_login_at) and the refresh day (the session's last activity).
    assert_eq!(&daily(&upgraded)[28..], [1, 1]);
}
