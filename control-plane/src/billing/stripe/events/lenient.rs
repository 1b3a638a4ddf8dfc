//! Events read field by field from JSON, in Stripe's current shapes (API 2024-06-20 to
//! 2025-03-31.basil and later) and in localstripe's 2017 ones alike.
//!
//! Where a field moved between API versions, the newer place is read first:
//! - a subscription's price: `items.data[].price.id`, else the legacy `plan.id`;
//! - its period end: `items.data[].current_period_end` (2025-03-31), else `current_period_end`;
//! - an invoice's subscription: `parent.subscription_details.subscription` (2025-03-31), else
//!   `subscription`, else its subscription line items.

use serde_json::Value;

use super::{EventError, EventKind, SubscriptionStatus};

/// The event of type `kind` whose object is `object`.
pub(super) fn kind(kind: String, object: &Value) -> Result<EventKind, EventError> {
    let object_id = || text(&object["id"]).ok_or(EventError::Missing("data.object.id"));
    Ok(match kind.as_str() {
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
    })
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
pub(super) fn text(value: &Value) -> Option<String> {
    value.as_str().filter(|s| !s.is_empty()).map(str::to_owned)
}

/// The id of a reference, expanded (an object with `id`) or not (the id itself).
fn id_of(value: &Value) -> Option<String> {
    text(value).or_else(|| text(&value["id"]))
}
