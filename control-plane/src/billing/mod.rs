//! Billing: how a subscription becomes active and what happens when payment stops.
//!
//! Subscription statuses: `pending` (awaiting Checkout) → `active` ⇄ `past_due` (payment
//! failed; instances keep running until the grace period ends) → `suspended` (instances
//! stopped, data kept) ; `canceled` (instances stopped) ; both → `deleted` after the retention
//! period (instances and their data deleted). Provider `none` activates at once; provider
//! `stripe` activates from signed webhook events, each applied exactly once and in any order.
//! The provider is chosen once at start ([`from_config`]) and asked by
//! [`subscribe`], [`portal`] and the webhook; the rules and the tables ([`store`]) are shared.

pub mod provider;
pub mod store;
pub mod stripe;
pub mod webhook;

use authstack_instance::clock::UnixTime;
use serde::Serialize;

use crate::AppState;
use crate::accounts::Account;
use crate::audit::{self, Actor};
use crate::error::{Error, Result};
use crate::gateway::changes;
use crate::ids::AccountId;
use crate::instances::{self, Desired};
use crate::platform::Caller;
use SubscriptionStatus as Status;

pub use provider::{BillingProvider, NoBilling, Start};
// The lookup other modules make (the account view); the statements are in `store`.
pub use store::find as subscription;
pub use stripe::StripeBilling;

/// Where a subscription stands: `pending` (awaiting Checkout) → `active` ⇄ `past_due` (a
/// payment failed; grace period) → `suspended` (grace over) or `canceled` → `deleted` (its
/// instances' data removed after the retention period).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubscriptionStatus {
    Pending,
    Active,
    PastDue,
    Suspended,
    Canceled,
    Deleted,
}

impl SubscriptionStatus {
    const ALL: [SubscriptionStatus; 6] = [
        SubscriptionStatus::Pending,
        SubscriptionStatus::Active,
        SubscriptionStatus::PastDue,
        SubscriptionStatus::Suspended,
        SubscriptionStatus::Canceled,
        SubscriptionStatus::Deleted,
    ];

    /// The stored and shown form (the `subscriptions.status` column).
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Pending => "pending",
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::PastDue => "past_due",
            SubscriptionStatus::Suspended => "suspended",
            SubscriptionStatus::Canceled => "canceled",
            SubscriptionStatus::Deleted => "deleted",
        }
    }

    /// Reads the stored form; any other value is a corrupt row.
    pub fn decode(raw: &str) -> sqlx::Result<SubscriptionStatus> {
        Self::ALL
            .into_iter()
            .find(|status| status.as_str() == raw)
            .ok_or_else(|| {
                sqlx::Error::Decode(format!("unknown subscription status {raw:?}").into())
            })
    }
}

/// Who bills a subscription: `none` (granted at once) or `stripe`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    None,
    Stripe,
}

impl ProviderKind {
    const ALL: [ProviderKind; 2] = [ProviderKind::None, ProviderKind::Stripe];

    /// The stored and shown form (the `subscriptions.provider` column).
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::None => "none",
            ProviderKind::Stripe => "stripe",
        }
    }

    /// Reads the stored form; any other value is a corrupt row.
    pub fn decode(raw: &str) -> sqlx::Result<ProviderKind> {
        Self::ALL
            .into_iter()
            .find(|provider| provider.as_str() == raw)
            .ok_or_else(|| sqlx::Error::Decode(format!("unknown billing provider {raw:?}").into()))
    }
}

/// The subscription of an account, as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Subscription {
    pub plan: String,
    pub region: String,
    pub status: SubscriptionStatus,
    /// `none` or `stripe`.
    #[schema(value_type = String)]
    pub provider: ProviderKind,
    #[serde(serialize_with = "crate::http::optional_time")]
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub current_period_end: Option<UnixTime>,
    pub cancel_at_period_end: bool,
    #[serde(serialize_with = "crate::http::optional_time")]
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub grace_until: Option<UnixTime>,
    #[serde(serialize_with = "crate::http::optional_time")]
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub delete_after: Option<UnixTime>,
    #[serde(skip)]
    pub stripe_subscription_id: Option<String>,
    #[serde(skip)]
    pub stripe_event_created: i64,
}

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
    let existing = store::find(&app.db.pool, &account.id).await?;
    if let Some(current) = &existing {
        let live = current.status != Status::Deleted;
        if live && current.region != region.id && current.status != Status::Pending {
            return Err(Error::Conflict(format!(
                "the account's instances run in '{}'; data never leaves its region, so the region cannot change",
                current.region
            )));
        }
    }
    match app
        .billing
        .start(app, caller, account, plan, region, existing.as_ref())
        .await?
    {
        Start::Now => {
            activate(
                app,
                Actor::User(&caller.user_id),
                &account.id,
                &plan.id,
                &region.id,
                app.billing.kind(),
            )
            .await?;
            Ok(SubscribeOutcome::Active)
        }
        Start::Checkout { session_id, url } => {
            let now = app.clock.now();
            let mut tx = app.db.begin_write().await?;
            store::start_checkout(
                &mut *tx,
                &account.id,
                &plan.id,
                &region.id,
                &session_id,
                now,
            )
            .await?;
            audit::record(
                &mut *tx,
                now,
                Some(&account.id),
                Actor::User(&caller.user_id),
                "billing.checkout_started",
                Some(&session_id),
                serde_json::json!({ "plan": plan.id, "region": region.id }),
            )
            .await?;
            tx.commit().await?;
            Ok(SubscribeOutcome::Checkout { url })
        }
    }
}

/// Makes the account's subscription active on `plan` in `region`: creates its two instances the
/// first time, changes their plan, or resumes them.
pub async fn activate(
    app: &AppState,
    actor: Actor<'_>,
    account_id: &AccountId,
    plan: &str,
    region: &str,
    provider: ProviderKind,
) -> Result<()> {
    let now = app.clock.now();
    let mut tx = app.db.begin_write().await?;
    app.db
        .lock(&mut tx, &format!("subscription:{account_id}"))
        .await?;
    let previous = store::find(&mut *tx, account_id).await?;
    store::activate(&mut *tx, account_id, plan, region, provider, now).await?;
    instances::ensure_running(&mut tx, app, account_id, plan, region).await?;
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
        let event = match action {
            "subscription.plan_changed" => "subscription.updated",
            _ => "subscription.activated",
        };
        let data = serde_json::json!({ "status": "active", "plan": plan, "region": region,
                                       "previous_plan": previous.as_ref().map(|p| p.plan.clone()) });
        crate::account_webhooks::record(&mut tx, now, account_id, event, data).await?;
    }
    changes::record(&mut *tx, now).await?;
    tx.commit().await?;
    app.reconciler.wake();
    Ok(())
}

/// Stops the account's instances, keeping data until `delete_after`.
async fn stop_instances(
    app: &AppState,
    conn: &mut sqlx::AnyConnection,
    account_id: &AccountId,
    status: Status,
) -> Result<()> {
    let now = app.clock.now();
    let delete_after = now + app.config.data_retention.as_secs() as i64;
    let before = store::find(&mut *conn, account_id).await?;
    if let Some(before) = before.filter(|s| s.status != status) {
        let event = match status {
            Status::Suspended => "subscription.suspended",
            _ => "subscription.canceled",
        };
        let data = serde_json::json!({ "status": status, "plan": before.plan, "previous_status": before.status });
        crate::account_webhooks::record(conn, now, account_id, event, data).await?;
    }
    store::stop(&mut *conn, account_id, status, delete_after, now).await?;
    instances::set_desired(conn, account_id, Desired::Suspended, now).await?;
    changes::record(&mut *conn, now).await?;
    Ok(())
}

/// Cancels a billing-`none` subscription now: instances stop, data is deleted after retention.
pub async fn cancel(app: &AppState, caller: &Caller, account: &Account) -> Result<()> {
    let current = store::find(&app.db.pool, &account.id)
        .await?
        .ok_or(Error::NotFound("subscription"))?;
    if current.provider == ProviderKind::Stripe {
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

/// A billing-portal session for the account, where its customer manages a paid plan.
pub async fn portal(app: &AppState, caller: &Caller, account: &Account) -> Result<String> {
    let url = app.billing.portal(app, caller, account).await?;
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
    let due = store::due(&app.db.pool, now).await?;
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
                store::mark_deleted(&mut *tx, &account_id, now).await?;
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

/// The provider `config` asks for. Fails on a Stripe configuration that cannot work (an API
/// base that is not a URL).
pub fn from_config(
    config: &crate::config::BillingConfig,
) -> Result<std::sync::Arc<dyn provider::BillingProvider>> {
    Ok(match config {
        crate::config::BillingConfig::None => std::sync::Arc::new(provider::NoBilling),
        crate::config::BillingConfig::Stripe(config) => {
            std::sync::Arc::new(stripe::StripeBilling::new(config)?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::{ProviderKind, SubscriptionStatus};

    #[test]
    fn subscription_statuses_read_back_what_is_stored_and_nothing_else() {
        for status in [
            "pending",
            "active",
            "past_due",
            "suspended",
            "canceled",
            "deleted",
        ] {
            let decoded = SubscriptionStatus::decode(status).expect("a known status");
            assert_eq!(decoded.as_str(), status);
            assert_eq!(
                serde_json::to_value(decoded).expect("serializes"),
                serde_json::json!(status)
            );
        }
        assert!(SubscriptionStatus::decode("trialing").is_err());
        assert!(SubscriptionStatus::decode("Active").is_err());
    }

    #[test]
    fn providers_read_back_what_is_stored_and_nothing_else() {
        for provider in ["none", "stripe"] {
            let decoded = ProviderKind::decode(provider).expect("a known provider");
            assert_eq!(decoded.as_str(), provider);
            assert_eq!(
                serde_json::to_value(decoded).expect("serializes"),
                serde_json::json!(provider)
            );
        }
        assert!(ProviderKind::decode("paddle").is_err());
        assert!(ProviderKind::decode("").is_err());
    }
}
