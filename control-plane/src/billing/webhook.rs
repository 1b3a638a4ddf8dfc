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

use super::store;
use super::stripe::events::{Event, EventKind, SubscriptionStatus};
use super::{Subscription, SubscriptionStatus as Status};
use crate::AppState;
use crate::accounts;
use crate::audit::{self, Actor};
use crate::error::{Error, Result};
use crate::gateway::changes;
use crate::ids::AccountId;
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
    // Billing `none` answers 404, whatever the delivery.
    let event = app.billing.stripe_event(
        headers
            .get("stripe-signature")
            .and_then(|v| v.to_str().ok()),
        &body,
        app.clock.now(),
    )?;
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
    let first = store::record_stripe_event(
        &mut *tx,
        &event.id,
        event.kind.type_name(),
        event.created,
        now,
    )
    .await?;
    if !first {
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
                Some(id) => accounts::find(&app.db, &AccountId::from(id.as_str())).await?,
                None => match customer {
                    Some(c) => accounts::find_by_customer(&mut *tx, c).await?,
                    None => None,
                },
            };
            match account {
                Some(account) => {
                    if let Some(customer) = customer {
                        accounts::set_stripe_customer(&mut *tx, &account.id, customer).await?;
                    }
                    let current = store::find(&mut *tx, &account.id).await?;
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
                    store::insert_pending_stripe(&mut *tx, &account.id, &plan, &region, now)
                        .await?;
                    store::link_checkout(
                        &mut *tx,
                        &account.id,
                        session_id,
                        subscription.as_deref(),
                    )
                    .await?;
                    let current = store::find(&mut *tx, &account.id).await?;
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
            let current = store::find(&mut *tx, &account_id).await?;
            let current = match (current, &plan) {
                (Some(current), _) => current,
                (None, Some(plan)) if !deleted => {
                    // A subscription made outside Checkout (in Stripe's dashboard, by sales)
                    // for a known account: its price names the plan; it runs in the first
                    // region the plan allows that this control plane serves.
                    let Some(region) = default_region(app, plan) else {
                        return commit_ignored(tx, event, now, Some(&account_id)).await;
                    };
                    store::insert_pending_stripe(&mut *tx, &account_id, plan, &region, now).await?;
                    store::find(&mut *tx, &account_id)
                        .await?
                        .ok_or(Error::NotFound("subscription"))?
                }
                (None, _) => {
                    tracing::info!(event_id = %event.id, "subscription event for an unknown plan; recorded");
                    return commit_ignored(tx, event, now, Some(&account_id)).await;
                }
            };
            store::link_stripe_subscription(&mut *tx, &account_id, subscription_id).await?;
            if event.created < current.stripe_event_created {
                tracing::info!(event_id = %event.id, "older than the state already applied; recorded only");
                return commit_ignored(tx, event, now, Some(&account_id)).await;
            }
            store::record_period(
                &mut *tx,
                &account_id,
                *current_period_end,
                *cancel_at_period_end && !deleted,
                event.created,
                now,
            )
            .await?;
            if let Some(plan) = &plan
                && *plan != current.plan
                && !deleted
            {
                store::set_plan(&mut *tx, &account_id, plan).await?;
                instances::change_plan(&mut tx, &account_id, plan, now).await?;
                let data = serde_json::json!({ "status": current.status, "plan": plan, "previous_plan": current.plan });
                crate::account_webhooks::record(
                    &mut tx,
                    now,
                    &account_id,
                    "subscription.updated",
                    data,
                )
                .await?;
            }
            let current = store::find(&mut *tx, &account_id)
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
            if let Some(current) = store::find(&mut *tx, &account_id).await?
                && event.created >= current.stripe_event_created
            {
                match current.status {
                    Status::Pending | Status::PastDue | Status::Suspended if paid => {
                        set_active(app, &mut tx, &account_id, &current, event.created).await?;
                    }
                    Status::Active if !paid => {
                        store::set_event_created(&mut *tx, &account_id, event.created).await?;
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
        account_id.as_ref(),
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
    account_id: Option<&AccountId>,
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
) -> Result<Option<AccountId>> {
    if let Some(subscription) = subscription
        && let Some(account_id) =
            store::account_of_stripe_subscription(&mut **tx, subscription).await?
    {
        return Ok(Some(account_id));
    }
    // The account id in the object's metadata is Stripe's to send: looked up before it is used.
    if let Some(id) = account_id.map(AccountId::from)
        && accounts::find(&app.db, &id).await?.is_some()
    {
        return Ok(Some(id));
    }
    if let Some(customer) = customer {
        return Ok(accounts::find_by_customer(&mut **tx, customer)
            .await?
            .map(|a| a.id));
    }
    Ok(None)
}

async fn set_active(
    app: &AppState,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    account_id: &AccountId,
    current: &Subscription,
    event_created: i64,
) -> Result<()> {
    let now = app.clock.now();
    if current.status != Status::Active {
        let data = serde_json::json!({ "status": "active", "plan": current.plan, "previous_status": current.status });
        crate::account_webhooks::record(tx, now, account_id, "subscription.activated", data)
            .await?;
    }
    store::resume(
        &mut **tx,
        account_id,
        event_created.max(current.stripe_event_created),
        now,
    )
    .await?;
    crate::instances::ensure_running(tx, app, account_id, &current.plan, &current.region).await?;
    Ok(())
}

async fn set_past_due(
    app: &AppState,
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    account_id: &AccountId,
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
    if current.status != Status::PastDue {
        let data = serde_json::json!({ "status": "past_due", "plan": current.plan, "grace_until": authstack_instance::clock::rfc3339(grace_until) });
        crate::account_webhooks::record(tx, now, account_id, "subscription.past_due", data).await?;
    }
    store::set_past_due(&mut **tx, account_id, grace_until, now).await?;
    Ok(())
}

/// This module's routes.
pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(stripe))
}
