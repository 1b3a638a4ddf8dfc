//! Billing: how a subscription becomes active and what happens when payment stops.
//!
//! Subscription statuses: `pending` (awaiting Checkout) → `active` ⇄ `past_due` (payment
//! failed; instances keep running until the grace period ends) → `suspended` (instances
//! stopped, data kept) ; `canceled` (instances stopped) ; both → `deleted` after the retention
//! period (instances and their data deleted). Provider `none` activates at once; provider
//! `stripe` activates from signed webhook events, each applied exactly once and in any order.

pub mod stripe;
pub mod webhook;

use sqlx::Row;

use crate::AppState;
use crate::accounts::{self, Account, SubscriptionStatus as Status};
use crate::audit::{self, Actor};
use crate::config::BillingConfig;
use crate::error::{Error, Result};
use crate::gateway::changes;
use crate::instances::{self, Desired};
use crate::platform::Caller;
use crate::provisioner::Environment;

pub enum SubscribeOutcome {
    /// The plan is active (billing `none`, or a plan change).
    Active,
    /// The customer must pay first.
    Checkout { url: String },
}

/// Subscribes the account to `plan` in `region`, or changes its plan.
pub async fn subscribe(
    app: &AppState,
    caller: &Caller,
    account: &Account,
    plan_id: &str,
    region_id: &str,
) -> Result<SubscribeOutcome> {
    let plan = app.config.catalog.plan(plan_id).ok_or_else(|| {
        Error::invalid(format!(
            "plan: unknown plan '{plan_id}' (see GET /v1/plans)"
        ))
    })?;
    let region = app.config.catalog.region(region_id).ok_or_else(|| {
        Error::invalid(format!(
            "region: unknown region '{region_id}' (see GET /v1/regions)"
        ))
    })?;
    if !plan.limits.allows_region(&region.id) {
        return Err(Error::Forbidden(format!(
            "the {} plan does not include the region '{}'",
            plan.name, region.id
        )));
    }
    if !app.provisioners.contains_key(&region.id) {
        return Err(Error::RegionUnavailable(format!(
            "the region '{}' is not available on this control plane",
            region.id
        )));
    }
    let existing = accounts::subscription(&app.db.pool, &account.id).await?;
    if let Some(current) = &existing {
        let live = current.status != Status::Deleted;
        if live && current.region != region.id && current.status != Status::Pending {
            return Err(Error::Conflict(format!(
                "the account's instances run in '{}'; data never leaves its region, so the region cannot change",
                current.region
            )));
        }
    }
    match &app.config.billing {
        BillingConfig::None => {
            activate(
                app,
                Actor::User(&caller.user_id),
                &account.id,
                &plan.id,
                &region.id,
                "none",
            )
            .await?;
            Ok(SubscribeOutcome::Active)
        }
        BillingConfig::Stripe(config) => {
            if existing
                .as_ref()
                .is_some_and(|s| matches!(s.status, Status::Active | Status::PastDue))
            {
                return Err(Error::Conflict(
                    "change or cancel a paid plan in the billing portal (POST /v1/accounts/{id}/billing-portal)".into(),
                ));
            }
            let client = stripe::StripeClient::new(config)?;
            let customer = ensure_customer(app, &client, account, caller).await?;
            let session = client
                .create_checkout_session(&stripe::CheckoutRequest {
                    customer: customer.clone(),
                    price_id: plan.stripe_price_id.clone(),
                    account_id: account.id.clone(),
                    plan: plan.id.clone(),
                    region: region.id.clone(),
                    success_url: format!("{}?checkout=success", config.return_url),
                    cancel_url: format!("{}?checkout=cancelled", config.return_url),
                    idempotency_key: Some(crate::db::new_id("checkout")),
                })
                .await?;
            let now = app.clock.now();
            let mut tx = app.db.begin_write().await?;
            sqlx::query(
                "INSERT INTO subscriptions (account_id, plan, region, status, provider, stripe_checkout_session_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, 'pending', 'stripe', $4, $5, $5) \
                 ON CONFLICT (account_id) DO UPDATE SET plan = excluded.plan, region = excluded.region, \
                 status = CASE WHEN subscriptions.status IN ('active', 'past_due') THEN subscriptions.status ELSE 'pending' END, \
                 provider = 'stripe', stripe_checkout_session_id = excluded.stripe_checkout_session_id, updated_at = excluded.updated_at",
            )
            .bind(&account.id)
            .bind(&plan.id)
            .bind(&region.id)
            .bind(&session.id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            audit::record(
                &mut *tx,
                now,
                Some(&account.id),
                Actor::User(&caller.user_id),
                "billing.checkout_started",
                Some(&session.id),
                serde_json::json!({ "plan": plan.id, "region": region.id }),
            )
            .await?;
            tx.commit().await?;
            Ok(SubscribeOutcome::Checkout { url: session.url })
        }
    }
}

async fn ensure_customer(
    app: &AppState,
    client: &stripe::StripeClient,
    account: &Account,
    caller: &Caller,
) -> Result<String> {
    if let Some(customer) = &account.stripe_customer_id {
        return Ok(customer.clone());
    }
    let email = (!caller.email.is_empty()).then_some(caller.email.as_str());
    let customer = client
        .create_customer(&account.id, &account.name, email)
        .await?;
    sqlx::query(
        "UPDATE accounts SET stripe_customer_id = $1 WHERE id = $2 AND stripe_customer_id IS NULL",
    )
    .bind(&customer)
    .bind(&account.id)
    .execute(&app.db.writer)
    .await?;
    // A concurrent request may have won; use whatever is stored.
    Ok(accounts::find(&app.db, &account.id)
        .await?
        .and_then(|a| a.stripe_customer_id)
        .unwrap_or(customer))
}

/// Makes the account's subscription active on `plan` in `region`: creates its two instances the
/// first time, changes their plan, or resumes them.
pub async fn activate(
    app: &AppState,
    actor: Actor<'_>,
    account_id: &str,
    plan: &str,
    region: &str,
    provider: &str,
) -> Result<()> {
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    app.db
        .lock(&mut tx, &format!("subscription:{account_id}"))
        .await?;
    let previous = accounts::subscription(&mut *tx, account_id).await?;
    sqlx::query(
        "INSERT INTO subscriptions (account_id, plan, region, status, provider, created_at, updated_at) \
         VALUES ($1, $2, $3, 'active', $4, $5, $5) \
         ON CONFLICT (account_id) DO UPDATE SET plan = excluded.plan, region = excluded.region, \
         status = 'active', provider = excluded.provider, grace_until = NULL, delete_after = NULL, \
         updated_at = excluded.updated_at",
    )
    .bind(account_id)
    .bind(plan)
    .bind(region)
    .bind(provider)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    ensure_instances(app, &mut tx, account_id, plan, region).await?;
    let action = match &previous {
        None => "subscription.activated",
        Some(p) if p.status == Status::Active && p.plan != plan => "subscription.plan_changed",
        Some(p) if p.status == Status::Active => "subscription.unchanged",
        Some(_) => "subscription.activated",
    };
    if action != "subscription.unchanged" {
        audit::record(
            &mut *tx,
            now,
            Some(account_id),
            actor,
            action,
            Some(account_id),
            serde_json::json!({ "plan": plan, "region": region, "provider": provider,
                                "previous_plan": previous.as_ref().map(|p| p.plan.clone()) }),
        )
        .await?;
    }
    changes::record(&mut *tx, now).await?;
    tx.commit().await?;
    app.reconciler.wake();
    Ok(())
}

/// Creates the live and test instances if missing, moves them to `plan`, and wants them running.
async fn ensure_instances(
    app: &AppState,
    conn: &mut sqlx::AnyConnection,
    account_id: &str,
    plan: &str,
    region: &str,
) -> Result<()> {
    let now = app.clock.now();
    let existing: Vec<String> = sqlx::query(
        "SELECT environment FROM instances WHERE account_id = $1 AND state <> 'deleted'",
    )
    .bind(account_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|row| row.try_get("environment"))
    .collect::<sqlx::Result<_>>()?;
    for environment in [Environment::Live, Environment::Test] {
        if !existing.iter().any(|e| e == environment.as_str()) {
            instances::create(conn, app, Some(account_id), environment, region, plan).await?;
        }
    }
    instances::change_plan(conn, account_id, plan, now).await?;
    instances::set_desired(conn, account_id, Desired::Running, now).await?;
    Ok(())
}

/// Stops the account's instances, keeping data until `delete_after`.
async fn stop_instances(
    app: &AppState,
    conn: &mut sqlx::AnyConnection,
    account_id: &str,
    status: Status,
) -> Result<()> {
    let now = app.clock.now();
    let delete_after = now + app.config.data_retention.as_secs() as i64;
    sqlx::query(
        "UPDATE subscriptions SET status = $1, delete_after = COALESCE(delete_after, $2), grace_until = NULL, \
         updated_at = $3 WHERE account_id = $4",
    )
    .bind(status.as_str())
    .bind(delete_after)
    .bind(now)
    .bind(account_id)
    .execute(&mut *conn)
    .await?;
    instances::set_desired(conn, account_id, Desired::Suspended, now).await?;
    changes::record(&mut *conn, now).await?;
    Ok(())
}

/// Cancels a billing-`none` subscription now: instances stop, data is deleted after retention.
pub async fn cancel(app: &AppState, caller: &Caller, account: &Account) -> Result<()> {
    let current = accounts::subscription(&app.db.pool, &account.id)
        .await?
        .ok_or(Error::NotFound("subscription"))?;
    if current.provider == "stripe" {
        return Err(Error::Conflict(
            "cancel a paid plan in the billing portal (POST /v1/accounts/{id}/billing-portal)"
                .into(),
        ));
    }
    if matches!(current.status, Status::Canceled | Status::Deleted) {
        return Ok(());
    }
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    stop_instances(app, &mut tx, &account.id, Status::Canceled).await?;
    audit::record(
        &mut *tx,
        now,
        Some(&account.id),
        Actor::User(&caller.user_id),
        "subscription.canceled",
        Some(&account.id),
        serde_json::json!({ "plan": current.plan }),
    )
    .await?;
    tx.commit().await?;
    app.reconciler.wake();
    Ok(())
}

/// A Stripe billing-portal session for the account.
pub async fn portal(app: &AppState, caller: &Caller, account: &Account) -> Result<String> {
    let BillingConfig::Stripe(config) = &app.config.billing else {
        return Err(Error::Conflict(
            "billing is not enabled on this control plane".into(),
        ));
    };
    let client = stripe::StripeClient::new(config)?;
    let customer = ensure_customer(app, &client, account, caller).await?;
    let url = client
        .create_portal_session(&customer, &config.return_url)
        .await?;
    audit::record(
        &app.db.writer,
        app.clock.now(),
        Some(&account.id),
        Actor::User(&caller.user_id),
        "billing.portal_opened",
        None,
        serde_json::Value::Null,
    )
    .await?;
    Ok(url)
}

/// The billing clock: suspends past-due accounts whose grace period ended, ends subscriptions
/// cancelled at period end, and deletes what is past retention. Runs every minute.
pub async fn tick(app: &AppState) -> Result<()> {
    let now = app.clock.now();
    let due: Vec<(String, Status)> = sqlx::query(
        "SELECT account_id, status FROM subscriptions WHERE \
         (status = 'past_due' AND grace_until <= $1) \
         OR (status = 'active' AND cancel_at_period_end = 1 AND current_period_end <= $1) \
         OR (status IN ('suspended', 'canceled') AND delete_after <= $1)",
    )
    .bind(now)
    .fetch_all(&app.db.pool)
    .await?
    .iter()
    .map(|row| {
        let status: String = row.try_get("status")?;
        Ok((row.try_get("account_id")?, Status::decode(&status)?))
    })
    .collect::<sqlx::Result<_>>()?;
    for (account_id, status) in due {
        let mut tx = app.db.begin_write().await?;
        let action = match status {
            Status::PastDue => {
                stop_instances(app, &mut tx, &account_id, Status::Suspended).await?;
                "subscription.suspended"
            }
            Status::Active => {
                stop_instances(app, &mut tx, &account_id, Status::Canceled).await?;
                "subscription.ended"
            }
            _ => {
                sqlx::query("UPDATE subscriptions SET status = 'deleted', updated_at = $1 WHERE account_id = $2")
                    .bind(now)
                    .bind(&account_id)
                    .execute(&mut *tx)
                    .await?;
                instances::set_desired(&mut tx, &account_id, Desired::Deleted, now).await?;
                changes::record(&mut *tx, now).await?;
                "subscription.data_deleted"
            }
        };
        audit::record(
            &mut *tx,
            now,
            Some(&account_id),
            Actor::System,
            action,
            Some(&account_id),
            serde_json::Value::Null,
        )
        .await?;
        tx.commit().await?;
        tracing::info!(%account_id, action, "billing clock");
        app.reconciler.wake();
    }
    Ok(())
}

/// Runs [`tick`] every `interval`.
pub fn spawn_clock(app: AppState, interval: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut timer = tokio::time::interval(interval);
        loop {
            timer.tick().await;
            if let Err(err) = tick(&app).await {
                tracing::warn!(error = %err, "billing clock failed");
            }
        }
    })
}
