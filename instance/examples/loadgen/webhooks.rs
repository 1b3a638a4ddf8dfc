//! The webhook scenarios: a receiver on loopback (`LOADGEN_RECEIVER`, the address the instance's
//! configured endpoint points at; the instance runs with `--allow-private-webhooks`) that
//! answers 204 to every POST and counts them, and
//!
//! - `signup`: each worker signs up fresh users (`POST /v1/auth/signup`, email verification off
//!   in the instance's configuration); run once with an endpoint configured and once without
//!   to see what the outbox adds to the write path;
//! - `webhook-drain`: `events` users are created through the admin API as fast as the workers
//!   go, each a `user.created` event, and the receiver waits until every event the run caused
//!   has arrived: deliveries/s from the first delivery to the last.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use super::{PASSWORD, Sample, Worker};

/// What the receiver saw: deliveries, and when the first and the last arrived.
#[derive(Default)]
pub struct Received {
    count: AtomicU64,
    window: Mutex<Option<(Instant, Instant)>>,
}

impl Received {
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }

    fn window(&self) -> Option<(Instant, Instant)> {
        *self.window.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Starts the receiver on `LOADGEN_RECEIVER` (host:port), when it is set.
pub async fn receiver() -> anyhow::Result<Option<Arc<Received>>> {
    let Ok(addr) = std::env::var("LOADGEN_RECEIVER") else {
        return Ok(None);
    };
    let addr: SocketAddr = addr.parse().context("LOADGEN_RECEIVER is host:port")?;
    let received = Arc::new(Received::default());
    let state = received.clone();
    let app = axum::Router::new().fallback(move || {
        let state = state.clone();
        async move {
            let now = Instant::now();
            state.count.fetch_add(1, Ordering::SeqCst);
            let mut window = state.window.lock().unwrap_or_else(|e| e.into_inner());
            *window = Some(window.map_or((now, now), |(first, _)| (first, now)));
            axum::http::StatusCode::NO_CONTENT
        }
    });
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding the receiver on {addr}"))?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Some(received))
}

/// `signup`: fresh users, one after the other, until the window closes.
pub async fn signup(worker: Worker, started: Instant, seconds: f64) -> anyhow::Result<Sample> {
    let deadline = started + Duration::from_secs_f64(seconds);
    let mut sample = Sample::new(started);
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let email = format!("signup-{n}-{}", worker.email);
        let sent = Instant::now();
        let reply = worker
            .http
            .post(format!("{}/v1/auth/signup", worker.base))
            .json(&json!({ "email": email, "password": PASSWORD }))
            .send()
            .await;
        let outcome = match reply {
            Ok(reply) if reply.status().as_u16() == 201 => Ok(()),
            Ok(reply) => Err(anyhow::anyhow!(
                "signup answered {}: {}",
                reply.status(),
                reply.text().await.unwrap_or_default()
            )),
            Err(err) => Err(err.into()),
        };
        sample.record(sent.elapsed(), outcome);
    }
    sample.ended = Instant::now();
    Ok(sample)
}

/// `webhook-drain`: creates `events` users with `connections` workers, then waits until the
/// receiver has had as many deliveries (on an instance with no other traffic). The JSON line.
pub async fn drain(
    http: &reqwest::Client,
    base: &str,
    admin_key: &str,
    connections: usize,
    events: u64,
    received: Arc<Received>,
) -> anyhow::Result<Value> {
    let expected = events;
    let started = Instant::now();
    let next = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for _ in 0..connections {
        let (http, base, key, next) = (
            http.clone(),
            base.to_owned(),
            admin_key.to_owned(),
            next.clone(),
        );
        workers.push(tokio::spawn(async move {
            let run = uuid::Uuid::new_v4().simple().to_string();
            loop {
                let n = next.fetch_add(1, Ordering::SeqCst);
                if n >= events {
                    return anyhow::Ok(());
                }
                let reply = http
                    .post(format!("{base}/v1/admin/users"))
                    .bearer_auth(&key)
                    .json(&json!({ "email": format!("event-{run}-{n}@example.com") }))
                    .send()
                    .await?;
                if reply.status().as_u16() != 201 {
                    bail!("creating a user failed: {}", reply.text().await?);
                }
            }
        }));
    }
    for worker in workers {
        worker.await??;
    }
    let generated = started.elapsed();
    // Generous: the worker sends at least one delivery a second.
    let give_up = started + Duration::from_secs(120 + 2 * expected);
    while received.count() < expected {
        if Instant::now() > give_up {
            bail!(
                "only {} of {expected} deliveries arrived in {:.0} s",
                received.count(),
                started.elapsed().as_secs_f64()
            );
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let drained = started.elapsed();
    let (first, last) = received.window().context("no delivery arrived")?;
    let window = (last - first).as_secs_f64();
    Ok(json!({
        "scenario": "webhook-drain", "connections": connections, "events": events,
        "deliveries": received.count(), "generated_seconds": generated.as_secs_f64(),
        "events_per_sec": events as f64 / generated.as_secs_f64(),
        "drained_seconds": drained.as_secs_f64(),
        "delivery_window_seconds": window,
        "deliveries_per_sec": (received.count().saturating_sub(1)) as f64 / window.max(f64::EPSILON),
    }))
}
