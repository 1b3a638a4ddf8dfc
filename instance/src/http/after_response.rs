//! Work that must not delay a response: started only once the connection has taken the
//! response, so that the time to answer cannot depend on what that work finds.

use std::future::Future;
use std::sync::Arc;

use axum::response::Response;
use tokio::sync::oneshot;

/// Dropped with the response's head, which the HTTP connection does once it has encoded it for
/// the socket (it then writes the body and flushes before it runs other tasks).
#[derive(Clone)]
struct Sent {
    _sender: Arc<oneshot::Sender<()>>,
}

/// Marks `response` and returns a future that completes when the connection is done with its
/// head, or when the response is dropped unsent (the work then still runs: no mail is lost).
pub fn when_sent(response: &mut Response) -> impl Future<Output = ()> + Send + 'static {
    let (sender, receiver) = oneshot::channel();
    response.extensions_mut().insert(Sent {
        _sender: Arc::new(sender),
    });
    async move {
        // Never sent: the channel closes when the marker drops.
        let _ = receiver.await;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::response::IntoResponse;

    use super::*;

    #[tokio::test]
    async fn waits_for_the_response_to_be_done_with() {
        let mut response = "ok".into_response();
        let sent = tokio::spawn(when_sent(&mut response));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(!sent.is_finished(), "started before the response was sent");
        // What the connection does once it has encoded the head.
        let (parts, _body) = response.into_parts();
        drop(parts);
        tokio::time::timeout(Duration::from_secs(5), sent)
            .await
            .expect("started once the response was sent")
            .expect("task");
    }
}
