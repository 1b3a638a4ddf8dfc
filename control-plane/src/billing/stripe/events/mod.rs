//! Webhook events: the fields billing acts on, as an [`Event`].
//!
//! The object of an event is read with async-stripe's types ([`typed`]) when it deserializes as
//! one: an event rendered in the API version those types were generated for
//! ([`super::STRIPE_VERSION`]). Everything else is read by [`lenient`]: events of endpoints
//! pinned to older versions (2024-06-20, 2025-03-31.basil) and localstripe's 2017 shapes, the
//! tests' real fake, which typed objects refuse because fields they require are missing.

mod lenient;
#[cfg(test)]
mod tests;
mod typed;

use serde_json::Value;

/// One delivery: `id` is unique per event (Stripe retries it with the same `id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: String,
    /// Unix time the event happened; deliveries can arrive out of order.
    pub created: i64,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// `checkout.session.completed`.
    CheckoutCompleted {
        session_id: String,
        customer: Option<String>,
        subscription: Option<String>,
        /// `client_reference_id`, else `metadata.account_id`.
        account_id: Option<String>,
        /// `metadata.plan`.
        plan: Option<String>,
        /// `metadata.region`.
        region: Option<String>,
    },
    /// `customer.subscription.created`, `.updated`, `.deleted`, `.paused` and `.resumed`.
    SubscriptionChanged {
        subscription_id: String,
        customer: Option<String>,
        status: SubscriptionStatus,
        /// The first item's price (its plan in API versions before prices).
        price_id: Option<String>,
        /// The latest end of the current period among the items.
        current_period_end: Option<i64>,
        cancel_at_period_end: bool,
        /// `metadata.account_id`.
        account_id: Option<String>,
        /// The event is `customer.subscription.deleted`: the subscription has ended.
        deleted: bool,
    },
    /// `invoice.paid`, or its older twin `invoice.payment_succeeded` (Stripe sends both; the
    /// second is all localstripe sends).
    InvoicePaid {
        invoice_id: String,
        subscription: Option<String>,
        customer: Option<String>,
        /// The end of the latest service period the invoice bills (its lines' `period.end`),
        /// else the invoice's `period_end`.
        period_end: Option<i64>,
    },
    /// `invoice.payment_failed`.
    InvoicePaymentFailed {
        invoice_id: String,
        subscription: Option<String>,
        customer: Option<String>,
        /// When Stripe retries; `None` when it has given up.
        next_payment_attempt: Option<i64>,
    },
    /// Any other event, by its `type`.
    Other(String),
}

impl EventKind {
    /// The Stripe event type this kind stands for: the exact type for [`EventKind::Other`];
    /// `customer.subscription.deleted` or `.updated` (also for `.created`, `.paused` and
    /// `.resumed`); `invoice.paid` (also for `invoice.payment_succeeded`).
    pub fn type_name(&self) -> &str {
        match self {
            EventKind::CheckoutCompleted { .. } => "checkout.session.completed",
            EventKind::SubscriptionChanged { deleted: true, .. } => "customer.subscription.deleted",
            EventKind::SubscriptionChanged { .. } => "customer.subscription.updated",
            EventKind::InvoicePaid { .. } => "invoice.paid",
            EventKind::InvoicePaymentFailed { .. } => "invoice.payment_failed",
            EventKind::Other(kind) => kind,
        }
    }
}

/// A Stripe subscription's `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionStatus {
    Active,
    Trialing,
    PastDue,
    Unpaid,
    Canceled,
    Incomplete,
    IncompleteExpired,
    Paused,
    /// A status this code does not know.
    Other,
}

impl SubscriptionStatus {
    pub fn parse(status: &str) -> SubscriptionStatus {
        match status {
            "active" => SubscriptionStatus::Active,
            "trialing" => SubscriptionStatus::Trialing,
            "past_due" => SubscriptionStatus::PastDue,
            "unpaid" => SubscriptionStatus::Unpaid,
            "canceled" => SubscriptionStatus::Canceled,
            "incomplete" => SubscriptionStatus::Incomplete,
            "incomplete_expired" => SubscriptionStatus::IncompleteExpired,
            "paused" => SubscriptionStatus::Paused,
            _ => SubscriptionStatus::Other,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::Trialing => "trialing",
            SubscriptionStatus::PastDue => "past_due",
            SubscriptionStatus::Unpaid => "unpaid",
            SubscriptionStatus::Canceled => "canceled",
            SubscriptionStatus::Incomplete => "incomplete",
            SubscriptionStatus::IncompleteExpired => "incomplete_expired",
            SubscriptionStatus::Paused => "paused",
            SubscriptionStatus::Other => "other",
        }
    }
}

/// Why a payload is not an event billing can read. The webhook answers 400.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("the Stripe event is not JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("the Stripe event has no valid `{0}`")]
    Missing(&'static str),
}

impl From<EventError> for crate::error::Error {
    fn from(err: EventError) -> Self {
        crate::error::Error::InvalidRequest(err.to_string())
    }
}

/// Reads a webhook payload (after [`super::signature::verify`]).
pub fn parse(payload: &[u8]) -> Result<Event, EventError> {
    let event: Value = serde_json::from_slice(payload)?;
    let id = lenient::text(&event["id"]).ok_or(EventError::Missing("id"))?;
    let kind = lenient::text(&event["type"]).ok_or(EventError::Missing("type"))?;
    let created = event["created"]
        .as_i64()
        .ok_or(EventError::Missing("created"))?;
    let object = &event["data"]["object"];
    if !object.is_object() {
        return Err(EventError::Missing("data.object"));
    }
    let kind = match typed::kind(&kind, object) {
        Some(kind) => kind,
        None => lenient::kind(kind, object)?,
    };
    Ok(Event { id, created, kind })
}
