//! A Standard Webhooks receiver on loopback for the control plane's account events, and the
//! call that registers it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Owner, TestPlatform};

/// A webhook receiver on loopback: keeps each delivery it accepts (headers and raw body) and
/// answers `200 ok`, or `503` without keeping it while it is [`Receiver::set_down`].
#[derive(Clone)]
pub struct Receiver {
    pub url: String,
    deliveries: Arc<std::sync::Mutex<Vec<Received>>>,
    down: Arc<std::sync::atomic::AtomicBool>,
}

/// One delivery as the receiver saw it.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub raw: String,
    pub body: Value,
}

impl Received {
    /// Whether `webhook-signature` holds a Standard Webhooks signature by `secret` (checked here
    /// with HMAC-SHA256 directly, not with the product's signing code).
    pub fn verifies_with(&self, secret: &str) -> bool {
        use base64::Engine;
        use hmac::Mac;
        let engine = base64::engine::general_purpose::STANDARD;
        let Some(key) = secret
            .strip_prefix("whsec_")
            .and_then(|k| engine.decode(k).ok())
        else {
            return false;
        };
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).expect("any key length");
        mac.update(format!("{}.{}.{}", self.id, self.timestamp, self.raw).as_bytes());
        let expected = format!("v1,{}", engine.encode(mac.finalize().into_bytes()));
        self.signature.split(' ').any(|s| s == expected)
    }
}

impl Receiver {
    pub async fn start() -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let port = listener.local_addr().expect("its address").port();
        let receiver = Receiver {
            url: format!("http://127.0.0.1:{port}/events"),
            deliveries: Arc::default(),
            down: Arc::default(),
        };
        let (log, down) = (receiver.deliveries.clone(), receiver.down.clone());
        let handler = move |headers: axum::http::HeaderMap, raw: String| {
            let (log, down) = (log.clone(), down.clone());
            async move {
                if down.load(std::sync::atomic::Ordering::SeqCst) {
                    return (axum::http::StatusCode::SERVICE_UNAVAILABLE, "down");
                }
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                log.lock().expect("the log").push(Received {
                    id: header("webhook-id"),
                    timestamp: header("webhook-timestamp"),
                    signature: header("webhook-signature"),
                    body: serde_json::from_str(&raw).unwrap_or(Value::Null),
                    raw,
                });
                (axum::http::StatusCode::OK, "ok")
            }
        };
        let router = axum::Router::new().route("/events", axum::routing::post(handler));
        tokio::spawn(async move { axum::serve(listener, router).await });
        receiver
    }

    pub fn set_down(&self, down: bool) {
        self.down.store(down, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn received(&self) -> Vec<Received> {
        self.deliveries.lock().expect("the log").clone()
    }

    /// The event types received so far, in order.
    pub fn types(&self) -> Vec<String> {
        self.received()
            .iter()
            .map(|r| r.body["type"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Waits (up to 30 s) until every type in `kinds` was received, and returns all received.
    pub async fn wait_for_types(&self, kinds: &[&str]) -> Vec<Received> {
        let started = Instant::now();
        while !kinds.iter().all(|k| self.types().iter().any(|t| t == k)) {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "waiting for {kinds:?}, received {:?}",
                self.types()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.received()
    }

    /// Waits (up to 30 s) for at least `n` deliveries.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let started = Instant::now();
        while self.received().len() < n {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "waiting for {n} deliveries, received {:?}",
                self.types()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.received()
    }
}

impl TestPlatform {
    /// Registers an endpoint for the owner's account events; returns its id and secret.
    pub async fn add_account_webhook(
        &self,
        owner: &Owner,
        url: &str,
        events: Value,
    ) -> (String, String) {
        let created = self
            .post(
                &owner.account("/webhooks"),
                &owner.token,
                json!({ "url": url, "events": events }),
            )
            .await;
        created.assert_ok(201);
        let id = created.body["webhook"]["id"].as_str().expect("an id");
        (id.to_owned(), created.str("secret"))
    }
}
