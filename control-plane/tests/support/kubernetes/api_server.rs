//! The wire of the fake Kubernetes API server: a request as the server saw it, and the JSON
//! answers it gives. `cluster.rs` (a stateful cluster with a fake operator, for the integration
//! tests) and `verifier.rs` (scripted scenarios that assert each call, for the provisioner's unit
//! tests) are the two ways to run it; both sit behind a real `kube::Client` on a `tower_test`
//! mock service.

use std::collections::BTreeMap;
use std::convert::Infallible;

use axum::http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::Bytes;
use serde_json::{Value, json};

/// What the fake answers with: a whole JSON body or a watch stream.
pub type ResponseBody = UnsyncBoxBody<Bytes, Infallible>;

/// One request as the fake API server saw it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: Method,
    pub path: String,
    pub query: BTreeMap<String, String>,
    pub content_type: String,
    pub body: Value,
}

impl Recorded {
    /// Reads a request the `kube::Client` sent (its body as JSON, `null` if it has none).
    pub async fn read(request: Request<kube::client::Body>) -> Recorded {
        let (parts, body) = request.into_parts();
        let bytes = body.collect_bytes().await.unwrap_or_default();
        let query = form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
        Recorded {
            method: parts.method,
            path: parts.uri.path().to_owned(),
            query,
            content_type: parts
                .headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned(),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }
}

/// A body of bytes sent whole.
pub fn full(bytes: impl Into<Bytes>) -> ResponseBody {
    http_body_util::Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// `body` as an `application/json` response with `status`.
pub fn json_response(status: StatusCode, body: &Value) -> Response<ResponseBody> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(full(serde_json::to_vec(body).unwrap_or_default()))
        .unwrap_or_default()
}

/// A `Status` object, as the API server answers errors (and some deletions).
pub fn status_body(code: u16, reason: &str, message: &str) -> Value {
    json!({
        "kind": "Status", "apiVersion": "v1", "metadata": {},
        "status": if code < 300 { "Success" } else { "Failure" },
        "reason": reason, "message": message, "code": code,
    })
}
