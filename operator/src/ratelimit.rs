//! Client-side rate limiting of Kubernetes API calls (the QPS and burst of client-go): a token
//! bucket as a tower layer on the kube client.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use tower::{Layer, Service};

struct Bucket {
    /// Tokens available and when they were last refilled.
    state: Mutex<(f64, Instant)>,
    per_second: f64,
    burst: f64,
}

impl Bucket {
    /// Takes a token, or says how long until one is available.
    fn try_take(&self) -> Result<(), Duration> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let refilled = state.0 + now.duration_since(state.1).as_secs_f64() * self.per_second;
        *state = (refilled.min(self.burst), now);
        if state.0 >= 1.0 {
            state.0 -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - state.0) / self.per_second))
        }
    }

    #[cfg(test)]
    async fn acquire(&self) {
        while let Err(wait) = self.try_take() {
            tokio::time::sleep(wait).await;
        }
    }
}

/// At most `qps` calls per second on average, `burst` at once.
#[derive(Clone)]
pub struct RateLimitLayer(Arc<Bucket>);

impl RateLimitLayer {
    pub fn new(qps: f32, burst: u32) -> RateLimitLayer {
        let burst = f64::from(burst.max(1));
        RateLimitLayer(Arc::new(Bucket {
            state: Mutex::new((burst, Instant::now())),
            per_second: f64::from(qps.max(0.1)),
            burst,
        }))
    }
}

impl<S> Layer<S> for RateLimitLayer {
    type Service = RateLimited<S>;

    fn layer(&self, inner: S) -> RateLimited<S> {
        RateLimited {
            inner,
            bucket: self.0.clone(),
            permit: false,
            sleep: None,
        }
    }
}

/// Waits for a token in `poll_ready`, so a caller that is not ready holds no token.
pub struct RateLimited<S> {
    inner: S,
    bucket: Arc<Bucket>,
    permit: bool,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<S, Request> Service<Request> for RateLimited<S>
where
    S: Service<Request>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        while !self.permit {
            if let Some(sleep) = self.sleep.as_mut() {
                if sleep.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.sleep = None;
            }
            match self.bucket.try_take() {
                Ok(()) => self.permit = true,
                Err(wait) => self.sleep = Some(Box::pin(tokio::time::sleep(wait))),
            }
        }
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        self.permit = false;
        self.inner.call(request)
    }
}

/// A kube client for `config`, limited to `qps` calls per second with bursts of `burst`.
/// The user agent of every call: the API server names a write's field manager after it when
/// the write names none (the finalizer patches of kube-runtime), instead of `unknown`.
pub const USER_AGENT: &str = concat!("authstack-operator/", env!("CARGO_PKG_VERSION"));

pub fn client(mut config: kube::Config, qps: f32, burst: u32) -> Result<kube::Client, kube::Error> {
    config.headers.push((
        axum::http::header::USER_AGENT,
        axum::http::HeaderValue::from_static(USER_AGENT),
    ));
    Ok(kube::client::ClientBuilder::try_from(config)?
        .with_layer(&RateLimitLayer::new(qps, burst))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bursts_then_holds_the_rate() {
        let bucket = RateLimitLayer::new(10.0, 5).0;
        let start = tokio::time::Instant::now();
        for _ in 0..5 {
            bucket.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO, "the burst is immediate");
        bucket.acquire().await;
        bucket.acquire().await;
        let waited = start.elapsed();
        assert!(
            waited >= Duration::from_millis(150) && waited <= Duration::from_millis(250),
            "two more calls at 10/s take ~200 ms, took {waited:?}"
        );
    }
}
