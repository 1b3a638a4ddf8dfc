//! `POST /v1/billing/stripe/webhook`: verifies `Stripe-Signature`, records the event id in a
//! ledger (each event is applied exactly once), and applies it to the subscription.
//!
//! Stripe does not promise delivery order. Events that change a subscription's status carry
//! their `created` time; the newest applied is remembered per subscription and older ones are
//! recorded but change nothing. Ids (customer, subscription) are filled in whatever the order.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde::Serialize;

use super::stripe::events::{self, Event, EventKind, SubscriptionStatus};
use super::stripe::signature;
use crate::AppState;
use crate::accounts::{self, Subscription, SubscriptionStatus as Status};
use crate::audit::{self, Actor};
use crate::config::BillingConfig;
use crate::error::{Error, Result};
use crate::gateway::changes;
use crate::instances;

#[derive(Serialize, utoipa::ToSchema)]
pub struct Received {
    received: bool,
    duplicate: bool,
}

/// Stripe's webhook: events signed with the endpoint's secret (`Stripe-Signature`). 404 when
/// billing is not through Stripe.
#[utoipa::path(post, path = "/v1/billing/stripe/webhook", tag = "billing",
    request_body(content = Object, description = "A Stripe event, as Stripe sends it.", content_type = "application/json"),
    params(("Stripe-Signature" = String, Header, description = "Stripe's signature of the body: `t=…,v1=…`.")),
    responses((status = 200, body = Received),
        (status = 400, description = "A missing or wrong signature (`invalid_signature`), or a body that is not an event (`invalid_request`).", body = crate::error::ErrorBody),
        (status = 404, description = "Billing is not through Stripe (`not_found`).", body = crate::error::ErrorBody),
        (status = 413, description = "The body is larger than the endpoint accepts (`payload_too_large`).", body = crate::error::ErrorBody)))]
pub async fn stripe(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: std::result::Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<axum::Json<Received>> {
    // A rejected body (over the limit) is our JSON error, not axum's plain text.
    let body = body.map_err(|rejection| match rejection.status() {
        axum::http::StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
        _ => Error::invalid(rejection.body_text()),
    })?;
    let BillingConfig::Stripe(config) = &app.config.billing else {
        return Err(Error::NotFound("route"));
    };
    let header = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .ok_or(Error::InvalidSignature(
            "the Stripe-Signature header is missing",
        ))?;
    signature::verify(
        header,
        &body,
        &config.webhook_secrets,
        app.clock.now(),
        config.webhook_tolerance,
    )
    .map_err(|e| Error::InvalidSignature(e.message()))?;
    let event = events::parse(&body).map_err(|e| Error::invalid(format!("event: {e}")))?;
    let duplicate = !apply(&app, &event).await?;
    if duplicate {
        tracing::info!(event_id = %event.id, "duplicate Stripe event ignored");
    }
    Ok(axum::Json(Received {
        received: true,
        duplicate,
    }))
}

/// Applies `event` once; false when it had been applied before.
pub async fn apply(app: &AppState, event: &Event) -> Result<bool> {
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    let inserted = sqlx::query(
        "INSERT INTO stripe_events (id, type, created, received_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&event.id)
    .bind(event.kind.type_name())
    .bind(event.created)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(false);
    }
    let account_id = match &event.kind {
        EventKind::CheckoutCompleted {
            session_id,
            customer,
            subscription,
            account_id,
            plan,
            region,
        } => {
            let account = match account_id {
                Some(id) => accounts::find(&app.db, id).await?,
                None => match customer {
                    Some(c) => accounts::find_by_customer(&mut *tx, c).await?,
                    None => None,
                },
            };
            match account {
                Some(account) => {
                    if let Some(customer) = customer {
                        sqlx::query("UPDATE accounts SET stripe_customer_id = $1 WHERE id = $2 AND stripe_customer_id IS NULL")
                            .bind(customer)
                            .bind(&account.id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    let current = accounts::subscription(&mut *tx, &account.id).await?;
                    let plan: Option<String> = plan
                        .clone()
                        .or_else(|| current.as_ref().map(|s| s.plan.clone()));
                    let region: Option<String> = region
                        .clone()
                        .or_else(|| current.as_ref().map(|s| s.region.clone()));
                    let (Some(plan), Some(region)) = (plan, region) else {
                        tracing::warn!(event_id = %event.id, "checkout without plan or region; ignored");
                        return commit_ignored(tx, event, now, Some(&account.id)).await;
                    };
                    if app.config.catalog.plan(&plan).is_none()
                        || app.config.catalog.region(&region).is_none()
                    {
                        tracing::warn!(event_id = %event.id, %plan, %region, "checkout for an unknown plan or region; ignored");
                        return commit_ignored(tx, event, now, Some(&account.id)).await;
                    }
                    upsert_stripe_subscription(&mut tx, &account.id, &plan, &region, now).await?;
                    sqlx::query(
                        "UPDATE subscriptions SET stripe_checkout_session_id = $1, \
                         stripe_subscription_id = COALESCE(stripe_subscription_id, $2) WHERE account_id = $3",
                    )
                    .bind(session_id)
                    .bind(subscription)
                    .bind(&account.id)
                    .execute(&mut *tx)
                    .await?;
                    let current = accounts::subscription(&mut *tx, &account.id).await?;
                    if let Some(current) = current
                        && event.created >= current.stripe_event_created
                        && current.status == Status::Pending
                    {
                        set_active(app, &mut tx, &account.id, &current, event.created).await?;
                    }
                    Some(account.id)
                }
                None => None,
            }
        }
        EventKind::SubscriptionChanged {
            subscription_id,
            customer,
            status,
            price_id,
            current_period_end,
            cancel_at_period_end,
            account_id,
            deleted,
        } => {
            let Some(account_id) = find_account(
                app,
                &mut tx,
                Some(subscription_id),
                account_id.as_deref(),
                customer.as_deref(),
            )
            .await?
            else {
                return commit_ignored(tx, event, now, None).await;
            };
            let plan = price_id
                .as_deref()
                .and_then(|p| app.config.catalog.plan_for_price(p))
                .map(|p| p.id.clone());
            let current = accounts::subscription(&mut *tx, &account_id).await?;
            let current = match (current, &plan) {
                (Some(current), _) => current,
                (None, Some(plan)) if !deleted => {
                    // A subscription made outside Checkout (in Stripe's dashboard, by sales)
                    // for a known account: its price names the plan; it runs in the first
                    // region the plan allows that this control plane serves.
                    let Some(region) = default_region(app, plan) else {
                        return commit_ignored(tx, event, now, Some(&account_id)).await;
                    };
                    upsert_stripe_subscription(&mut tx, &account_id, plan, &region, now).await?;
                    accounts::subscription(&mut *tx, &account_id)
                        .await?
                        .ok_or(Error::NotFound("subscription"))?
                }
                (None, _) => {
                    tracing::info!(event_id = %event.id, "subscription event for an unknown plan; recorded");
                    return commit_ignored(tx, event, now, Some(&account_id)).await;
                }
            };
            sqlx::query("UPDATE subscriptions SET stripe_subscription_id = COALESCE(stripe_subscription_id, $1) WHERE account_id = $2")
                .bind(subscription_id)
                .bind(&account_id)
                .execute(&mut *tx)
                .await?;
            if event.created < current.stripe_event_created {
                tracing::info!(event_id = %event.id, "older than the state already applied; recorded only");
                return commit_ignored(tx, event, now, Some(&account_id)).await;
            }
            sqlx::query(
                "UPDATE subscriptions SET current_period_end = COALESCE($1, current_period_end), \
                 cancel_at_period_end = $2, stripe_event_created = $3, updated_at = $4 WHERE account_id = $5",
            )
            .bind(current_period_end)
            .bind(i64::from(*cancel_at_period_end && !deleted))
            .bind(event.created)
            .bind(now)
            .bind(&account_id)
            .execute(&mut *tx)
            .await?;
            if let Some(plan) = &plan
                && *plan != current.plan
                && !deleted
            {
                sqlx::query("UPDATE subscriptions SET plan = $1 WHERE account_id = $2")
                    .bind(plan)
                    .bind(&account_id)
                    .execute(&mut *tx)
                    .await?;
                instances::change_plan(&mut tx, &account_id, plan, now).await?;
            }
            let current = accounts::subscription(&mut *tx, &account_id)
                .await?
                .ok_or(Error::NotFound("subscription"))?;
            if *deleted {
                super::stop_instances(app, &mut tx, &account_id, Status::Canceled).await?;
            } else {
                match status {
                    SubscriptionStatus::Active | SubscriptionStatus::Trialing => {
                        if !matches!(current.status, Status::Canceled | Status::Deleted) {
                            set_active(app, &mut tx, &account_id, &current, event.created).await?;
                        }
                    }
                    SubscriptionStatus::PastDue | SubscriptionStatus::Unpaid => {
                        set_past_due(app, &mut tx, &account_id, &current).await?;
                    }
                    SubscriptionStatus::Canceled | SubscriptionStatus::IncompleteExpired => {
                        super::stop_instances(app, &mut tx, &account_id, Status::Canceled).await?;
                    }
                    SubscriptionStatus::Paused => {
                        super::stop_instances(app, &mut tx, &account_id, Status::Suspended).await?;
                    }
                    SubscriptionStatus::Incomplete | SubscriptionStatus::Other => {}
                }
            }
            Some(account_id)
        }
        EventKind::InvoicePaid {
            subscription,
            customer,
            ..
        }
        | EventKind::InvoicePaymentFailed {
            subscription,
            customer,
            ..
        } => {
            let Some(account_id) = find_account(
                app,
                &mut tx,
                subscription.as_deref(),
                None,
                customer.as_deref(),
            )
            .await?
            else {
                return commit_ignored(tx, event, now, None).await;
            };
            let paid = matches!(event.kind, EventKind::InvoicePaid { .. });
            if let Some(current) = accounts::subscription(&mut *tx, &account_id).await?
                && event.created >= current.stripe_event_created
            {
                match current.status {
                    Status::Pending | Status::PastDue | Status::Suspended if paid => {
                        set_active(app, &mut tx, &account_id, &current, event.created).await?;
                    }
                    Status::Active if !paid => {
                        sqlx::query(
                            "UPDATE subscriptions SET stripe_event_created = $1 WHERE account_id = $2",
                        )
                        .bind(event.created)
                        .bind(&account_id)
                        .execute(&mut *tx)
                        .await?;
                        set_past_due(app, &mut tx, &account_id, &current).await?;
                    }
                    _ => {}
                }
            }
            Some(account_id)
        }
        EventKind::Other(_) => None,
    };
    audit::record(
        &mut *tx,
        now,
        account_id.as_deref(),
        Actor::Stripe,
        &format!("billing.stripe.{}", event.kind.type_name()),
        Some(&event.id),
        serde_json::Value::Null,
    )
    .await?;
    changes::record(&mut *tx, now).await?;
    tx.commit().await?;
    app.reconciler.wake();
    Ok(true)
}

/// Records an event that changes nothing (unknown account, stale, incomplete).
async fn commit_ignored(
    mut tx: sqlx::Transaction<'static, sqlx::Any>,
    event: &Event,
    now: i64,
    account_id: Option<&str>,
) -> Result<bool> {
    audit::record(
        &mut *tx,
        now,
        account_id,
        Actor::Stripe,
        &format!("billing.stripe.{}", event.kind.type_name()),
        Some(&event.id),
        serde_json::json!({ "applied": false }),
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// The region a subscription made outside Checkout runs in: the platform's own region when the
/// plan allows it, else the first allowed region this control plane can provision.
fn default_region(app: &AppState, plan: &str) -> Option<String> {
    let limits = &app.config.catalog.plan(plan)?.limits;
    std::iter::once(&app.config.platform_region)
        .chain(app.config.catalog.regions.iter().map(|r| &r.id))
        .find(|region| limits.allows_region(region) && app.provisioners.contains_key(*region))
        .cloned()
}

/// The account a Stripe object belongs to: by subscription id, then metadata, then customer.
async fn find_account(
    app: &AppState,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    subscription: Option<&str>,
    account_id: Option<&str>,
    customer: Option<&str>,
) -> Result<Option<String>> {
    use sqlx::Row;
    if let Some(subscription) = subscription {
        let row =
            sqlx::query("SELECT account_id FROM subscriptions WHERE stripe_subscription_id = $1")
                .bind(subscription)
                .fetch_optional(&mut **tx)
                .await?;
        if let Some(row) = row {
            return Ok(Some(row.try_get("account_id")?));
        }
    }
    if let Some(id) = account_id
        && accounts::find(&app.db, id).await?.is_some()
    {
        return Ok(Some(id.to_owned()));
    }
    if let Some(customer) = customer {
        return Ok(accounts::find_by_customer(&mut **tx, customer)
            .await?
            .map(|a| a.id));
    }
    Ok(None)
}

async fn upsert_stripe_subscription(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    account_id: &str,
    plan: &str,
    region: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO subscriptions (account_id, plan, region, status, provider, created_at, updated_at) \
         VALUES ($1, $2, $3, 'pending', 'stripe', $4, $4) ON CONFLICT (account_id) DO NOTHING",
    )
    .bind(account_id)
    .bind(plan)
    .bind(region)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn set_active(
    app: &AppState,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    account_id: &str,
    current: &Subscription,
    event_created: i64,
) -> Result<()> {
    let now = app.clock.now();
    sqlx::query(
        "UPDATE subscriptions SET status = 'active', grace_until = NULL, delete_after = NULL, \
         stripe_event_created = $1, updated_at = $2 WHERE account_id = $3",
    )
    .bind(event_created.max(current.stripe_event_created))
    .bind(now)
    .bind(account_id)
    .execute(&mut **tx)
    .await?;
    super::ensure_instances(app, tx, account_id, &current.plan, &current.region).await?;
    Ok(())
}

async fn set_past_due(
    app: &AppState,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    account_id: &str,
    current: &Subscription,
) -> Result<()> {
    if matches!(
        current.status,
        Status::Suspended | Status::Canceled | Status::Deleted
    ) {
        return Ok(());
    }
    let now = app.clock.now();
    let grace_until = now + app.config.payment_grace.as_secs() as i64;
    sqlx::query(
        "UPDATE subscriptions SET status = 'past_due', grace_until = COALESCE(grace_until, $1), updated_at = $2 \
         WHERE account_id = $3",
    )
    .bind(grace_until)
    .bind(now)
    .bind(account_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// This module's routes.
pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(stripe))
}
