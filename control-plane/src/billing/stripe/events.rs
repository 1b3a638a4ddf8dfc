//! Webhook events, read leniently: only the fields billing acts on, from Stripe's current shapes
//! (API 2024-06-20 to 2025-03-31.basil and later) and from localstripe's 2017 ones alike. Typed
//! Stripe objects would refuse one or the other.
//!
//! Where a field moved between API versions, the newer place is read first:
//! - a subscription's price: `items.data[].price.id`, else the legacy `plan.id`;
//! - its period end: `items.data[].current_period_end` (2025-03-31), else `current_period_end`;
//! - an invoice's subscription: `parent.subscription_details.subscription` (2025-03-31), else
//!   `subscription`, else its subscription line items.

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
    let id = text(&event["id"]).ok_or(EventError::Missing("id"))?;
    let kind = text(&event["type"]).ok_or(EventError::Missing("type"))?;
    let created = event["created"]
        .as_i64()
        .ok_or(EventError::Missing("created"))?;
    let object = &event["data"]["object"];
    if !object.is_object() {
        return Err(EventError::Missing("data.object"));
    }
    let object_id = || text(&object["id"]).ok_or(EventError::Missing("data.object.id"));
    let kind = match kind.as_str() {
        "checkout.session.completed" => EventKind::CheckoutCompleted {
            session_id: object_id()?,
            customer: id_of(&object["customer"]),
            subscription: id_of(&object["subscription"]),
            account_id: text(&object["client_reference_id"])
                .or_else(|| text(&object["metadata"]["account_id"])),
            plan: text(&object["metadata"]["plan"]),
            region: text(&object["metadata"]["region"]),
        },
        "customer.subscription.created"
        | "customer.subscription.updated"
        | "customer.subscription.deleted"
        | "customer.subscription.paused"
        | "customer.subscription.resumed" => EventKind::SubscriptionChanged {
            subscription_id: object_id()?,
            customer: id_of(&object["customer"]),
            status: text(&object["status"])
                .map(|status| SubscriptionStatus::parse(&status))
                .ok_or(EventError::Missing("data.object.status"))?,
            price_id: subscription_price(object),
            current_period_end: items(object)
                .filter_map(|item| item["current_period_end"].as_i64())
                .max()
                .or_else(|| object["current_period_end"].as_i64()),
            cancel_at_period_end: object["cancel_at_period_end"].as_bool().unwrap_or(false),
            account_id: text(&object["metadata"]["account_id"]),
            deleted: kind == "customer.subscription.deleted",
        },
        "invoice.paid" | "invoice.payment_succeeded" => EventKind::InvoicePaid {
            invoice_id: object_id()?,
            subscription: invoice_subscription(object),
            customer: id_of(&object["customer"]),
            period_end: lines(object)
                .filter_map(|line| line["period"]["end"].as_i64())
                .max()
                .or_else(|| object["period_end"].as_i64()),
        },
        "invoice.payment_failed" => EventKind::InvoicePaymentFailed {
            invoice_id: object_id()?,
            subscription: invoice_subscription(object),
            customer: id_of(&object["customer"]),
            next_payment_attempt: object["next_payment_attempt"].as_i64(),
        },
        _ => EventKind::Other(kind),
    };
    Ok(Event { id, created, kind })
}

fn subscription_price(subscription: &Value) -> Option<String> {
    items(subscription)
        .find_map(|item| id_of(&item["price"]).or_else(|| id_of(&item["plan"])))
        .or_else(|| id_of(&subscription["plan"]))
}

fn invoice_subscription(invoice: &Value) -> Option<String> {
    id_of(&invoice["parent"]["subscription_details"]["subscription"])
        .or_else(|| id_of(&invoice["subscription"]))
        .or_else(|| {
            lines(invoice).find_map(|line| {
                id_of(&line["parent"]["subscription_item_details"]["subscription"])
                    .or_else(|| id_of(&line["subscription"]))
            })
        })
}

fn items(subscription: &Value) -> impl Iterator<Item = &Value> {
    list(&subscription["items"])
}

fn lines(invoice: &Value) -> impl Iterator<Item = &Value> {
    list(&invoice["lines"])
}

/// The entries of a Stripe list object (`{"object": "list", "data": [...]}`).
fn list(value: &Value) -> impl Iterator<Item = &Value> {
    value["data"].as_array().into_iter().flatten()
}

/// A non-empty string.
fn text(value: &Value) -> Option<String> {
    value.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// The id of a reference, expanded (an object with `id`) or not (the id itself).
fn id_of(value: &Value) -> Option<String> {
    text(value).or_else(|| text(&value["id"]))
}
