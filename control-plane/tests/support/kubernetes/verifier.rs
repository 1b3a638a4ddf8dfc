//! The fake Kubernetes API server (`api_server.rs`) run as a script: an [`ApiServerVerifier`]
//! hands the test each request the client sends, the test asserts it and answers it (after
//! kube-rs controller-rs `src/fixtures.rs`). The provisioner's unit tests use it to pin the exact
//! sequence of API calls; `cluster.rs` runs the same server as a cluster instead.

#[path = "api_server.rs"]
mod api_server;

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use serde_json::{Value, json};
use tower_test::mock::{self, Handle, SendResponse};

pub use api_server::Recorded;
use api_server::{ResponseBody, full, json_response, status_body};

/// Where a scenario's answer to one request goes.
pub type Responder = SendResponse<Response<ResponseBody>>;

/// Answers a client's requests in a scenario, one at a time, for the test to assert each.
pub struct ApiServerVerifier(Handle<Request<Body>, Response<ResponseBody>>);

impl ApiServerVerifier {
    /// A client whose every request comes to the returned verifier.
    pub fn pair() -> (kube::Client, ApiServerVerifier) {
        let (service, handle) = mock::pair::<Request<Body>, Response<ResponseBody>>();
        (
            kube::Client::new(service, "default"),
            ApiServerVerifier(handle),
        )
    }

    /// The next request (within 5 s) and where its answer goes.
    pub async fn next(&mut self) -> (Recorded, Responder) {
        let (request, send) = tokio::time::timeout(Duration::from_secs(5), self.0.next_request())
            .await
            .expect("a request within 5 s")
            .expect("the client is alive");
        (Recorded::read(request).await, send)
    }

    /// Asserts that the client sent nothing more.
    pub async fn done(mut self) {
        let more = tokio::time::timeout(Duration::from_millis(100), self.0.next_request()).await;
        if let Ok(Some((request, _))) = more {
            panic!("unexpected request {} {}", request.method(), request.uri());
        }
    }
}

impl Recorded {
    /// Asserts the method, the path and the whole query.
    pub fn assert(&self, method: Method, path: &str, query: &[(&str, &str)]) {
        assert_eq!(self.method, method, "{self:?}");
        assert_eq!(self.path, path, "{self:?}");
        let expected: BTreeMap<String, String> = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(self.query, expected, "{self:?}");
    }

    /// A forced server-side apply by `manager`.
    pub fn assert_apply(&self, path: &str, manager: &str) {
        self.assert(
            Method::PATCH,
            path,
            &[("fieldManager", manager), ("force", "true")],
        );
        assert_eq!(self.content_type, "application/apply-patch+yaml");
    }

    /// A JSON merge patch by `manager` whose body is `body`.
    pub fn assert_merge_patch(&self, path: &str, manager: &str, body: Value) {
        self.assert(Method::PATCH, path, &[("fieldManager", manager)]);
        assert_eq!(self.content_type, "application/merge-patch+json");
        assert_eq!(self.body, body);
    }
}

/// Answers with `body` as JSON.
pub fn respond(send: Responder, status: StatusCode, body: &Value) {
    send.send_response(json_response(status, body));
}

/// The `Status` of a missing object.
pub fn not_found_status() -> Value {
    status_body(404, "NotFound", "not found")
}

/// The `Status` of a done deletion.
pub fn success_status() -> Value {
    status_body(200, "", "")
}

/// A list of `items` at `resource_version`.
pub fn list(items: Vec<Value>, resource_version: &str) -> Value {
    json!({
        "apiVersion": "authstack.io/v1alpha1",
        "kind": "AuthStackInstanceList",
        "metadata": { "resourceVersion": resource_version },
        "items": items,
    })
}

/// Answers a watch with `events`, one JSON event per line, then ends the stream.
pub fn respond_with_events(send: Responder, events: &[(&str, Value)]) {
    let mut text = String::new();
    for (kind, object) in events {
        text.push_str(&json!({ "type": kind, "object": object }).to_string());
        text.push('\n');
    }
    let response = Response::builder()
        .status(StatusCode::OK)
        .body(full(text.into_bytes()))
        .expect("response");
    send.send_response(response);
}
