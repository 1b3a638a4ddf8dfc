//! Events whose object deserializes as async-stripe's type for it (`stripe_shared`): the
//! object is read by the crate, not field by field. [`kind`] answers `None` for any other
//! object, which [`super::lenient`] then reads.

use std::collections::HashMap;

use serde_json::Value;
use stripe_shared::{CheckoutSession, Invoice, Subscription};
use stripe_types::{Expandable, Object};

use super::{EventKind, SubscriptionStatus};

/// The event of type `kind`, when its object is one of the crate's types in full.
pub(super) fn kind(kind: &str, object: &Value) -> Option<EventKind> {
    match kind {
        "checkout.session.completed" => {
            let session: CheckoutSession = read(object)?;
            let metadata = session.metadata.unwrap_or_default();
            Some(EventKind::CheckoutCompleted {
                session_id: session.id.as_str().to_owned(),
                customer: session.customer.as_ref().map(id),
                subscription: session.subscription.as_ref().map(id),
                account_id: session
                    .client_reference_id
                    .filter(|id| !id.is_empty())
                    .or_else(|| entry(&metadata, "account_id")),
                plan: entry(&metadata, "plan"),
                region: entry(&metadata, "region"),
            })
        }
        "customer.subscription.created"
        | "customer.subscription.updated"
        | "customer.subscription.deleted"
        | "customer.subscription.paused"
        | "customer.subscription.resumed" => {
            let subscription: Subscription = read(object)?;
            Some(EventKind::SubscriptionChanged {
                subscription_id: subscription.id.as_str().to_owned(),
                customer: Some(id(&subscription.customer)),
                status: SubscriptionStatus::parse(subscription.status.as_str()),
                price_id: subscription
                    .items
                    .data
                    .first()
                    .map(|item| item.price.id.as_str().to_owned()),
                current_period_end: subscription
                    .items
                    .data
                    .iter()
                    .map(|item| item.current_period_end)
                    .max(),
                cancel_at_period_end: subscription.cancel_at_period_end,
                account_id: entry(&subscription.metadata, "account_id"),
                deleted: kind == "customer.subscription.deleted",
            })
        }
        "invoice.paid" | "invoice.payment_succeeded" => {
            let invoice: Invoice = read(object)?;
            Some(EventKind::InvoicePaid {
                invoice_id: invoice.id.as_ref()?.as_str().to_owned(),
                subscription: invoice_subscription(&invoice),
                customer: invoice.customer.as_ref().map(id),
                period_end: invoice
                    .lines
                    .data
                    .iter()
                    .map(|line| line.period.end)
                    .max()
                    .or(Some(invoice.period_end)),
            })
        }
        "invoice.payment_failed" => {
            let invoice: Invoice = read(object)?;
            Some(EventKind::InvoicePaymentFailed {
                invoice_id: invoice.id.as_ref()?.as_str().to_owned(),
                subscription: invoice_subscription(&invoice),
                customer: invoice.customer.as_ref().map(id),
                next_payment_attempt: invoice.next_payment_attempt,
            })
        }
        _ => None,
    }
}

/// The object as the crate's `T`, or `None` when it is not one in full.
fn read<T: miniserde::Deserialize>(object: &Value) -> Option<T> {
    miniserde::json::from_str(&object.to_string()).ok()
}

/// The id of a reference, expanded or not.
fn id<T: Object>(reference: &Expandable<T>) -> String
where
    T::Id: AsRef<str>,
{
    reference.id().as_ref().to_owned()
}

fn entry(metadata: &HashMap<String, String>, key: &str) -> Option<String> {
    metadata.get(key).filter(|v| !v.is_empty()).cloned()
}

/// Where the invoice names its subscription: its parent (2025-03-31 on), else the field of
/// older versions, else a subscription line.
fn invoice_subscription(invoice: &Invoice) -> Option<String> {
    let parent = invoice
        .parent
        .as_ref()
        .and_then(|parent| parent.subscription_details.as_ref())
        .map(|details| id(&details.subscription));
    parent
        .or_else(|| invoice.subscription.as_ref().map(id))
        .or_else(|| {
            invoice.lines.data.iter().find_map(|line| {
                line.parent
                    .as_ref()
                    .and_then(|parent| parent.subscription_item_details.as_ref())
                    .and_then(|details| details.subscription.clone())
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/tests/fixtures/stripe/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_slice(&std::fs::read(&path).expect("the fixture")).expect("JSON")
    }

    fn both_readings(name: &str) -> (Option<EventKind>, EventKind) {
        let event = fixture(name);
        let kind = event["type"].as_str().expect("a type").to_owned();
        let object = &event["data"]["object"];
        (
            super::kind(&kind, object),
            super::super::lenient::kind(kind, object).expect("the lenient reading"),
        )
    }

    /// Stripe's own example objects in the crate's API version read as the crate's types, and
    /// read the same as the lenient reader reads them.
    #[test]
    fn events_in_the_crates_api_version_are_read_as_its_types() {
        for name in [
            "endive_checkout_session_completed.json",
            "endive_customer_subscription_updated.json",
            "endive_invoice_paid.json",
            "endive_invoice_payment_failed.json",
        ] {
            let (typed, lenient) = both_readings(name);
            assert_eq!(typed.as_ref(), Some(&lenient), "{name}");
        }
        let (typed, _) = both_readings("endive_customer_subscription_updated.json");
        let Some(EventKind::SubscriptionChanged {
            subscription_id,
            status,
            price_id,
            current_period_end,
            account_id,
            ..
        }) = typed
        else {
            panic!("not a subscription change: {typed:?}");
        };
        assert_eq!(subscription_id, "sub_1T9xEndv0sKq4Lm2NpQrStUv");
        assert_eq!(status, SubscriptionStatus::Active);
        assert_eq!(price_id.as_deref(), Some("price_authstack_pro_monthly"));
        assert_eq!(current_period_end, Some(1_792_592_000));
        assert_eq!(
            account_id.as_deref(),
            Some("acc_01936b2e8f4a7c1d9e2b3a4c5d6e7f80")
        );
    }

    /// localstripe's 2017 shapes lack fields the crate's types require: the lenient reader
    /// takes them.
    #[test]
    fn localstripe_events_are_not_the_crates_types() {
        for name in [
            "localstripe_customer_subscription_created.json",
            "localstripe_invoice_payment_succeeded.json",
            "localstripe_invoice_payment_failed.json",
        ] {
            let (typed, _) = both_readings(name);
            assert_eq!(typed, None, "{name}");
        }
    }
}
