//! The one fake Stripe API of the control-plane tests: it records every request (method, path,
//! headers, form fields sorted, idempotency key) and answers like Stripe for the three requests
//! billing makes (a customer, a Checkout session, a billing-portal session), with Stripe's
//! error shape for anything else, or a chosen error for everything. With a `localstripe` URL,
//! requests other than Checkout and the portal (which localstripe does not serve) go there.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A request as the fake received it.
#[derive(Debug, Clone)]
pub struct StripeRequest {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    /// Sorted: the order of form fields carries no meaning to Stripe.
    pub form: Vec<(String, String)>,
    pub idempotency_key: Option<String>,
}

/// The fake's state; cloned handles share it.
#[derive(Clone, Default)]
pub struct FakeStripe {
    requests: Arc<Mutex<Vec<StripeRequest>>>,
    /// Answer every request with this Stripe error instead.
    error: Option<(StatusCode, Value)>,
    /// Everything but Checkout and the portal goes here when set.
    localstripe: Option<String>,
    http: reqwest::Client,
}

/// The ids and URLs the fake answers with (the `n`th request).
pub fn customer_id(n: usize) -> String {
    format!("cus_test_{n}")
}

impl FakeStripe {
    /// A fake that forwards what it does not answer itself to localstripe at `url`.
    pub fn forwarding_to(url: Option<String>) -> FakeStripe {
        FakeStripe {
            localstripe: url,
            ..FakeStripe::default()
        }
    }

    /// A fake that answers every request with `status` and Stripe's error `body`.
    pub fn failing_with(status: StatusCode, body: Value) -> FakeStripe {
        FakeStripe {
            error: Some((status, body)),
            ..FakeStripe::default()
        }
    }

    /// Serves the fake on 127.0.0.1; returns its base URL (no trailing slash).
    pub async fn start(&self) -> String {
        let app = axum::Router::new()
            .fallback(answer)
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let addr = listener.local_addr().expect("an address");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("the fake Stripe") });
        format!("http://{addr}")
    }

    /// The requests received so far, oldest first.
    pub fn requests(&self) -> Vec<StripeRequest> {
        self.requests.lock().expect("the lock").clone()
    }

    /// The requests received so far, forgetting them.
    pub fn take(&self) -> Vec<StripeRequest> {
        std::mem::take(&mut *self.requests.lock().expect("the lock"))
    }

    /// The first request to `path`.
    pub fn first(&self, path: &str) -> StripeRequest {
        self.requests()
            .into_iter()
            .find(|r| r.path == path)
            .unwrap_or_else(|| panic!("no request to {path}"))
    }
}

async fn answer(
    State(fake): State<FakeStripe>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: String,
) -> Response {
    let path = uri.path().to_owned();
    let mut form: Vec<(String, String)> = form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    form.sort();
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let n = {
        let mut requests = fake.requests.lock().expect("the lock");
        requests.push(StripeRequest {
            method: method.clone(),
            path: path.clone(),
            headers,
            form,
            idempotency_key,
        });
        requests.len()
    };
    if let Some((status, body)) = fake.error {
        return (status, axum::Json(body)).into_response();
    }
    match path.as_str() {
        "/v1/checkout/sessions" => axum::Json(json!({
            "id": format!("cs_test_{n}"), "object": "checkout.session",
            "url": format!("https://checkout.stripe.com/c/pay/cs_test_{n}#fidkdWxOYHwnPyd1blpxYHZxWjA0")
        }))
        .into_response(),
        "/v1/billing_portal/sessions" => axum::Json(json!({
            "id": format!("bps_test_{n}"), "object": "billing_portal.session",
            "url": format!("https://billing.stripe.com/p/session/test_{n}")
        }))
        .into_response(),
        _ => match &fake.localstripe {
            Some(base) => {
                let forwarded = fake
                    .http
                    .request(method, format!("{base}{uri}"))
                    .header("authorization", "Bearer sk_test_authstack")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .expect("localstripe answers");
                let status = forwarded.status();
                let text = forwarded.text().await.unwrap_or_default();
                (status, [("content-type", "application/json")], text).into_response()
            }
            None if path == "/v1/customers" => {
                axum::Json(json!({ "id": customer_id(n), "object": "customer" })).into_response()
            }
            None => (
                StatusCode::NOT_FOUND,
                axum::Json(json!({ "error": {
                    "message": "Unrecognized request URL", "type": "invalid_request_error"
                } })),
            )
                .into_response(),
        },
    }
}
