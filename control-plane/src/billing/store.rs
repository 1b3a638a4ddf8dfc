//! The `subscriptions` and `stripe_events` tables: the only place they are read or written.
//! Statuses and providers are bound from their enums ([`SubscriptionStatus::as_str`],
//! [`ProviderKind::as_str`]), never written as literals.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{ProviderKind, Subscription, SubscriptionStatus as Status};
use crate::ids::AccountId;

const COLUMNS: &str = "plan, region, status, provider, current_period_end, \
    cancel_at_period_end, grace_until, delete_after, stripe_subscription_id, stripe_event_created";

fn from_row(row: &AnyRow) -> sqlx::Result<Subscription> {
    Ok(Subscription {
        plan: row.try_get("plan")?,
        region: row.try_get("region")?,
        status: Status::decode(&row.try_get::<String, _>("status")?)?,
        provider: ProviderKind::decode(&row.try_get::<String, _>("provider")?)?,
        current_period_end: row.try_get("current_period_end")?,
        cancel_at_period_end: row.try_get::<i64, _>("cancel_at_period_end")? != 0,
        grace_until: row.try_get("grace_until")?,
        delete_after: row.try_get("delete_after")?,
        stripe_subscription_id: row.try_get("stripe_subscription_id")?,
        stripe_event_created: row.try_get("stripe_event_created")?,
    })
}

/// The account's subscription, whatever its status.
pub async fn find<'c, E>(executor: E, account_id: &AccountId) -> sqlx::Result<Option<Subscription>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM subscriptions WHERE account_id = $1"
    ))
    .bind(account_id)
    .fetch_optional(executor)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The account whose Stripe subscription is `subscription_id`.
pub async fn account_of_stripe_subscription<'c, E>(
    executor: E,
    subscription_id: &str,
) -> sqlx::Result<Option<AccountId>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query("SELECT account_id FROM subscriptions WHERE stripe_subscription_id = $1")
        .bind(subscription_id)
        .fetch_optional(executor)
        .await?;
    row.map(|row| row.try_get("account_id")).transpose()
}

/// Subscriptions the billing clock must act on at `now`, with their status: past due beyond
/// the grace period, active but cancelled at a period end that has passed, or suspended or
/// cancelled beyond retention.
pub async fn due<'c, E>(executor: E, now: i64) -> sqlx::Result<Vec<(AccountId, Status)>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT account_id, status FROM subscriptions WHERE \
         (status = $2 AND grace_until <= $1) \
         OR (status = $3 AND cancel_at_period_end = 1 AND current_period_end <= $1) \
         OR (status IN ($4, $5) AND delete_after <= $1)",
    )
    .bind(now)
    .bind(Status::PastDue.as_str())
    .bind(Status::Active.as_str())
    .bind(Status::Suspended.as_str())
    .bind(Status::Canceled.as_str())
    .fetch_all(executor)
    .await?
    .iter()
    .map(|row| {
        let status: String = row.try_get("status")?;
        Ok((row.try_get("account_id")?, Status::decode(&status)?))
    })
    .collect()
}

/// Makes the subscription active on `plan` in `region` through `provider`, creating it if
/// needed; a grace period or deletion date is forgotten.
pub async fn activate<'c, E>(
    executor: E,
    account_id: &AccountId,
    plan: &str,
    region: &str,
    provider: ProviderKind,
    now: i64,
) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO subscriptions (account_id, plan, region, status, provider, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) \
         ON CONFLICT (account_id) DO UPDATE SET plan = excluded.plan, region = excluded.region, \
         status = excluded.status, provider = excluded.provider, grace_until = NULL, delete_after = NULL, \
         updated_at = excluded.updated_at",
    )
    .bind(account_id)
    .bind(plan)
    .bind(region)
    .bind(Status::Active.as_str())
    .bind(provider.as_str())
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}

/// Records a Checkout session started for `plan` in `region`: a new subscription is pending, an
/// active or past-due one keeps its status until Stripe says otherwise.
pub async fn start_checkout<'c, E>(
    executor: E,
    account_id: &AccountId,
    plan: &str,
    region: &str,
    session_id: &str,
    now: i64,
) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO subscriptions (account_id, plan, region, status, provider, stripe_checkout_session_id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
         ON CONFLICT (account_id) DO UPDATE SET plan = excluded.plan, region = excluded.region, \
         status = CASE WHEN subscriptions.status IN ($8, $9) THEN subscriptions.status ELSE excluded.status END, \
         provider = excluded.provider, stripe_checkout_session_id = excluded.stripe_checkout_session_id, \
         updated_at = excluded.updated_at",
    )
    .bind(account_id)
    .bind(plan)
    .bind(region)
    .bind(Status::Pending.as_str())
    .bind(ProviderKind::Stripe.as_str())
    .bind(session_id)
    .bind(now)
    .bind(Status::Active.as_str())
    .bind(Status::PastDue.as_str())
    .execute(executor)
    .await?;
    Ok(())
}

/// Creates a pending Stripe subscription unless the account has one (of any status).
pub async fn insert_pending_stripe<'c, E>(
    executor: E,
    account_id: &AccountId,
    plan: &str,
    region: &str,
    now: i64,
) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO subscriptions (account_id, plan, region, status, provider, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (account_id) DO NOTHING",
    )
    .bind(account_id)
    .bind(plan)
    .bind(region)
    .bind(Status::Pending.as_str())
    .bind(ProviderKind::Stripe.as_str())
    .bind(now)
    .execute(executor)
    .await?;
    Ok(())
}

/// Remembers the completed Checkout session and, unless one is known, its Stripe subscription.
pub async fn link_checkout<'c, E>(
    executor: E,
    account_id: &AccountId,
    session_id: &str,
    subscription_id: Option<&str>,
) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "UPDATE subscriptions SET stripe_checkout_session_id = $1, \
         stripe_subscription_id = COALESCE(stripe_subscription_id, $2) WHERE account_id = $3",
    )
    .bind(session_id)
    .bind(subscription_id)
    .bind(account_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// Remembers the Stripe subscription unless one is known.
pub async fn link_stripe_subscription<'c, E>(
    executor: E,
    account_id: &AccountId,
    subscription_id: &str,
) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "UPDATE subscriptions SET stripe_subscription_id = COALESCE(stripe_subscription_id, $1) \
         WHERE account_id = $2",
    )
    .bind(subscription_id)
    .bind(account_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// Applies a Stripe subscription's period (kept when `current_period_end` is unknown) and
/// `cancel_at_period_end`, as of the event created at `event_created`.
pub async fn record_period<'c, E>(
    executor: E,
    account_id: &AccountId,
    current_period_end: Option<i64>,
    cancel_at_period_end: bool,
    event_created: i64,
    now: i64,
) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "UPDATE subscriptions SET current_period_end = COALESCE($1, current_period_end), \
         cancel_at_period_end = $2, stripe_event_created = $3, updated_at = $4 WHERE account_id = $5",
    )
    .bind(current_period_end)
    .bind(i64::from(cancel_at_period_end))
    .bind(event_created)
    .bind(now)
    .bind(account_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// Moves the subscription to `plan` (its instances move separately).
pub async fn set_plan<'c, E>(executor: E, account_id: &AccountId, plan: &str) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query("UPDATE subscriptions SET plan = $1 WHERE account_id = $2")
        .bind(plan)
        .bind(account_id)
        .execute(executor)
        .await?;
    Ok(())
}

/// Remembers the `created` time of the newest Stripe event applied.
pub async fn set_event_created<'c, E>(
    executor: E,
    account_id: &AccountId,
    event_created: i64,
) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query("UPDATE subscriptions SET stripe_event_created = $1 WHERE account_id = $2")
        .bind(event_created)
        .bind(account_id)
        .execute(executor)
        .await?;
    Ok(())
}

/// Makes a Stripe subscription active again as of the event created at `event_created`: the
/// grace period and deletion date are forgotten.
pub async fn resume<'c, E>(
    executor: E,
    account_id: &AccountId,
    event_created: i64,
    now: i64,
) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "UPDATE subscriptions SET status = $1, grace_until = NULL, delete_after = NULL, \
         stripe_event_created = $2, updated_at = $3 WHERE account_id = $4",
    )
    .bind(Status::Active.as_str())
    .bind(event_created)
    .bind(now)
    .bind(account_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// Marks the subscription past due; a grace period already running keeps its end.
pub async fn set_past_due<'c, E>(
    executor: E,
    account_id: &AccountId,
    grace_until: i64,
    now: i64,
) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "UPDATE subscriptions SET status = $1, grace_until = COALESCE(grace_until, $2), updated_at = $3 \
         WHERE account_id = $4",
    )
    .bind(Status::PastDue.as_str())
    .bind(grace_until)
    .bind(now)
    .bind(account_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// Ends the subscription's service with `status` (suspended or canceled): its data is deleted
/// from `delete_after` on, unless an earlier date is already set.
pub async fn stop<'c, E>(
    executor: E,
    account_id: &AccountId,
    status: Status,
    delete_after: i64,
    now: i64,
) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "UPDATE subscriptions SET status = $1, delete_after = COALESCE(delete_after, $2), grace_until = NULL, \
         updated_at = $3 WHERE account_id = $4",
    )
    .bind(status.as_str())
    .bind(delete_after)
    .bind(now)
    .bind(account_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// Marks the subscription deleted (its instances' data is being removed).
pub async fn mark_deleted<'c, E>(executor: E, account_id: &AccountId, now: i64) -> sqlx::Result<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query("UPDATE subscriptions SET status = $1, updated_at = $2 WHERE account_id = $3")
        .bind(Status::Deleted.as_str())
        .bind(now)
        .bind(account_id)
        .execute(executor)
        .await?;
    Ok(())
}

/// Enters a Stripe event in the ledger; false when it was there already (a redelivery).
pub async fn record_stripe_event<'c, E>(
    executor: E,
    id: &str,
    kind: &str,
    created: i64,
    now: i64,
) -> sqlx::Result<bool>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let inserted = sqlx::query(
        "INSERT INTO stripe_events (id, type, created, received_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(id)
    .bind(kind)
    .bind(created)
    .bind(now)
    .execute(executor)
    .await?
    .rows_affected();
    Ok(inserted > 0)
}
