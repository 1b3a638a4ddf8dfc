//! The AuthStack control plane: accounts (organizations of the platform instance), plans and
//! regions, billing, customer instances and their provisioning, API keys, and the gateway that
//! routes API-key traffic to instances.
//!
//! [`start`] opens the database, starts the provisioners, brings up the platform instance, and
//! serves [`router`]; the gateway is started separately ([`gateway::start`]) or in the same
//! process by `authstack dev`.

pub mod account_webhooks;
pub mod accounts;
pub mod app;
pub mod applications;
pub mod audit;
pub mod billing;
pub mod capabilities;
pub mod catalog;
pub mod config;
pub mod credentials;
pub mod customize;
pub mod db;
pub mod dev;
pub mod domains;
pub mod error;
pub mod gateway;
pub mod headers;
pub mod http;
pub mod ids;
pub mod instances;
pub mod keys;
pub mod mailbox;
pub mod meta;
pub mod metrics;
pub mod openapi;
pub mod ops;
pub mod platform;
pub mod provisioner;
pub mod revisions;
pub mod session;
pub mod web;
pub mod webhooks;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Request;
use axum::routing::get;
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

pub use crate::app::{App, AppState, Running, browser_address, start};
use crate::error::Error;
pub use crate::platform::bootstrap::platform_publishable_key;

/// The whole control-plane API: each concept's routes and their OpenAPI document at
/// `/openapi.json`, the dashboard for everything else,
/// and the layers every answer passes (request id, trace span, security headers, body limit).
pub fn router(app: AppState) -> Router {
    let trace = TraceLayer::new_for_http()
        .make_span_with(|request: &Request<_>| {
            let request_id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default();
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id)
        })
        .on_request(())
        .on_response(DefaultOnResponse::new().level(tracing::Level::INFO));
    let (api, spec) = openapi::documented_api();
    let spec = std::sync::Arc::new(spec);
    Router::new()
        .route(
            "/healthz",
            get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
        )
        .route(
            "/readyz",
            get(|| async { axum::Json(serde_json::json!({ "status": "ready" })) }),
        )
        .merge(api)
        .merge(session::routes::router())
        .route(
            "/openapi.json",
            get(move || async move { axum::Json(spec.as_ref().clone()) }),
        )
        .fallback(web::dashboard)
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(256 * 1024))
        .layer(axum::middleware::from_fn(
            http::middleware::log_internal_errors,
        ))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            headers::security,
        ))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(trace)
                .layer(PropagateRequestIdLayer::x_request_id()),
        )
        .with_state(app)
}
