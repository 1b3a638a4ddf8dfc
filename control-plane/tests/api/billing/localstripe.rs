//! localstripe's own, genuinely signed deliveries into our webhook endpoint activate and end a
//! subscription (when `AUTHSTACK_TEST_LOCALSTRIPE_URL` is set).
//!
//! - `localstripe_webhooks_activate_a_subscription`
//! - `localstripe_webhooks_end_a_subscription`

use reqwest::Method;
use serde_json::json;

use super::*;

/// A platform billing through localstripe, whose deliveries go to our endpoint.
struct Localstripe {
    url: String,
    http: reqwest::Client,
    platform: TestPlatform,
    hook: String,
}

impl Localstripe {
    /// Starts the platform and registers a webhook for our endpoint; `None` without localstripe.
    async fn start() -> Option<Localstripe> {
        let url = crate::helpers::localstripe_url()?;
        crate::helpers::install_tls_provider();
        let (platform, _recorded) = stripe_platform(Some(url.clone())).await;
        let stripe = Localstripe {
            url,
            http: reqwest::Client::new(),
            platform,
            hook: format!("authstack_{}", uuid::Uuid::new_v4().simple()),
        };
        let registered = stripe
            .request(Method::POST, &format!("/_config/webhooks/{}", stripe.hook))
            .form(&[
                ("url", stripe.endpoint()),
                ("secret", SECRET.to_owned()),
                ("events[]", "customer.subscription.created".to_owned()),
                ("events[]", "customer.subscription.deleted".to_owned()),
                ("events[]", "invoice.payment_succeeded".to_owned()),
            ])
            .send()
            .await
            .expect("register webhook");
        let status = registered.status();
        let text = registered.text().await.unwrap_or_default();
        assert!(status.is_success(), "{status} {text}");
        Some(stripe)
    }

    fn endpoint(&self) -> String {
        format!("{}/v1/billing/stripe/webhook", self.platform.cp)
    }

    fn request(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.url))
            .bearer_auth("sk_test_authstack")
    }

    /// POSTs a form to localstripe and returns the JSON answer.
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let response = self.request(Method::POST, path).form(form).send().await;
        let response = response.unwrap_or_else(|e| panic!("POST {path}: {e}"));
        response.json().await.expect("json")
    }

    /// Checkout (the customer created in localstripe, the session by the recording server),
    /// then what paying in Checkout does, done in localstripe directly: a subscription.
    /// Returns the subscription's id once the account is active with both instances ready.
    async fn subscribe(&self, owner: &Owner) -> String {
        let body = json!({ "plan": "starter", "region": "local" });
        let subscribed = self
            .platform
            .post(&owner.account("/subscription"), &owner.token, body)
            .await;
        subscribed.assert_ok(200);
        let customer: String =
            sqlx::query_scalar("SELECT stripe_customer_id FROM accounts WHERE id = $1")
                .bind(&owner.account_id)
                .fetch_one(&self.platform.app().db.pool)
                .await
                .expect("customer stored");
        let plan = [
            ("id", "price_authstack_starter_monthly"),
            ("amount", "2500"),
            ("currency", "usd"),
            ("interval", "month"),
            ("product[name]", "AuthStack Starter"),
        ];
        // Already there from an earlier run is fine.
        let _ = self.post("/v1/plans", &plan).await;
        let card = [
            ("type", "card"),
            ("card[number]", "4242424242424242"),
            ("card[exp_month]", "12"),
            ("card[exp_year]", "2030"),
            ("card[cvc]", "123"),
        ];
        let card = self.post("/v1/payment_methods", &card).await;
        let card_id = card["id"].as_str().expect("payment method id");
        let attach = format!("/v1/payment_methods/{card_id}/attach");
        self.post(&attach, &[("customer", customer.as_str())]).await;
        let default_card = [("invoice_settings[default_payment_method]", card_id)];
        self.post(&format!("/v1/customers/{customer}"), &default_card)
            .await;
        let subscription = [
            ("customer", customer.as_str()),
            ("items[0][plan]", "price_authstack_starter_monthly"),
            ("metadata[account_id]", owner.account_id.as_str()),
        ];
        let subscription = self.post("/v1/subscriptions", &subscription).await;
        assert_eq!(subscription["status"], "active", "{subscription}");
        self.platform.wait_for_status(owner, "active").await;
        self.platform.wait_for_instances(owner, "ready").await;
        subscription["id"].as_str().expect("id").to_owned()
    }

    /// localstripe cannot delete a webhook: silence ours so later events go nowhere.
    async fn finish(self) {
        let body = json!({ "url": self.endpoint(), "secret": SECRET, "events": [] });
        let path = format!("/_config/webhooks/{}", self.hook);
        let _ = self.request(Method::POST, &path).json(&body).send().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn localstripe_webhooks_activate_a_subscription() {
    let Some(stripe) = Localstripe::start().await else {
        return;
    };
    let owner = stripe.platform.owner("localstripe@acme.test").await;
    stripe.subscribe(&owner).await;
    let subscription = stripe.platform.subscription(&owner).await;
    assert_eq!(subscription["status"], "active", "{subscription}");
    stripe.finish().await;
}

/// Cancelling in Stripe ends it here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn localstripe_webhooks_end_a_subscription() {
    let Some(stripe) = Localstripe::start().await else {
        return;
    };
    let owner = stripe.platform.owner("localstripe-end@acme.test").await;
    let subscription = stripe.subscribe(&owner).await;
    let path = format!("/v1/subscriptions/{subscription}");
    let cancelled = stripe.request(Method::DELETE, &path).send().await;
    cancelled.expect("cancel");
    stripe.platform.wait_for_status(&owner, "canceled").await;
    stripe
        .platform
        .wait_for_instances(&owner, "suspended")
        .await;
    stripe.finish().await;
}
