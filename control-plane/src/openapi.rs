//! The control plane's OpenAPI document (`GET /openapi.json`, `authstack openapi`,
//! `control-plane/openapi.json`), generated from the routes' `#[utoipa::path]` annotations.
//!
//! The error responses that the shared extractors give on every route they guard are added here
//! once instead of by hand on each operation: one that takes a JSON body can answer 400 and 413,
//! and 415 when it goes through [`Json`](crate::http::extract::Json); one behind a platform access token
//! ([`Caller`](crate::platform::Caller), [`Operator`](crate::ops::Operator)) can answer 401, 403
//! and 503 (the platform instance does not answer the live check). A status an operation
//! documents itself keeps its own description.

use utoipa::OpenApi;
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr, Schema};
use utoipa_axum::router::OpenApiRouter;

use authstack_instance::http::openapi::{add, operations_mut};

use crate::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "AuthStack control-plane API", description = "Accounts, subscriptions, instances and their configuration revisions, customizations, API keys, applications (OpenID Connect clients), webhooks and audit logs of the AuthStack platform."),
    modifiers(&SecuritySchemes),
    components(schemas(crate::error::ErrorBody)),
    tags((name = "platform"), (name = "me"), (name = "accounts"), (name = "instances"), (name = "revisions"),
         (name = "customizations"), (name = "keys"), (name = "applications"), (name = "webhooks"), (name = "audit"), (name = "ops"), (name = "billing"), (name = "dev"))
)]
struct ApiDoc;

struct SecuritySchemes;

impl utoipa::Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "A platform access token (the dashboard's session, or `authstack token`); \
                         `/v1/ops/...` also take the operator key `ask_ops_…`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Every documented route of the control-plane API.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::platform::routes::router())
        .merge(crate::ops::router())
        .merge(crate::catalog::router())
        .merge(crate::capabilities::router())
        .merge(crate::mailbox::router())
        .merge(crate::accounts::routes::router())
        .merge(crate::instances::routes::router())
        .merge(crate::domains::routes::router())
        .merge(crate::revisions::routes::router())
        .merge(crate::customize::routes::router())
        .merge(crate::keys::routes::router())
        .merge(crate::applications::routes::router())
        .merge(crate::webhooks::routes::router())
        .merge(crate::account_webhooks::routes::router())
        .merge(crate::audit::routes::router())
        .merge(crate::billing::webhook::router())
}

/// The API's routes and its OpenAPI document.
pub fn documented_api() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut spec) = api().split_for_parts();
    add_common_responses(&mut spec);
    exactly_one_of(
        &mut spec,
        "CreateRevisionRequest",
        &["patch", "merge", "config"],
    );
    exactly_one_of(
        &mut spec,
        "ModifyCustomizationRequest",
        &["prompt", "patch"],
    );
    unique_operation_ids(&mut spec);
    open_for_flatten(&mut spec, "Region");
    for path in ["/v1/accounts/{id}/audit-logs", "/v1/ops/audit-logs"] {
        audit_json_is_a_page_or_an_export(&mut spec, path);
    }
    (router, spec)
}

/// The OpenAPI document of the control-plane API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    documented_api().1
}

/// Operations whose body is read as bytes (optional bodies, YAML, the Stripe webhook): a
/// content type other than JSON is not refused with 415 there.
const RAW_BODY: [&str; 5] = [
    "/v1/accounts/{id}/keys/{key_id}/rotate",
    "/v1/accounts/{id}/instances/{env}/rollback",
    "/v1/accounts/{id}/instances/{env}/promote",
    "/v1/accounts/{id}/instances/{env}/revisions/import",
    "/v1/billing/stripe/webhook",
];

const BODY: [(&str, &str); 2] = [
    (
        "400",
        "The body is not valid JSON of the documented shape (`invalid_request`).",
    ),
    (
        "413",
        "The body is larger than the endpoint accepts (`payload_too_large`).",
    ),
];

const JSON_ONLY: [(&str, &str); 1] = [(
    "415",
    "The body is not `application/json` in UTF-8 (`unsupported_media_type`).",
)];

const BEARER: [(&str, &str); 3] = [
    (
        "401",
        "No platform access token, or one that is invalid, expired or of an ended session (`unauthorized`).",
    ),
    (
        "403",
        "The token works in no organization, or in another one; the caller lacks the permission (`forbidden`).",
    ),
    (
        "503",
        "The platform instance did not answer the token's live check (`instance_unavailable`).",
    ),
];

fn add_common_responses(spec: &mut utoipa::openapi::OpenApi) {
    for (path, item) in spec.paths.paths.iter_mut() {
        let raw = RAW_BODY.contains(&path.as_str());
        for operation in operations_mut(item) {
            let takes_json = operation
                .request_body
                .as_ref()
                .is_some_and(|body| body.content.contains_key("application/json"));
            if takes_json {
                add(operation, &BODY);
                if !raw {
                    add(operation, &JSON_ONLY);
                }
            }
            if operation.security.as_ref().is_some_and(|s| !s.is_empty()) {
                add(operation, &BEARER);
            }
        }
    }
}

/// States in the schema `name` that exactly one of `fields` is given (JSON Schema `oneOf` of
/// `required`): utoipa has no attribute for it, so it goes in as an extension key.
fn exactly_one_of(spec: &mut utoipa::openapi::OpenApi, name: &str, fields: &[&str]) {
    let schema = spec
        .components
        .as_mut()
        .and_then(|components| components.schemas.get_mut(name));
    let Some(RefOr::T(Schema::Object(object))) = schema else {
        panic!("no object schema {name} in the OpenAPI document");
    };
    let one_of: Vec<serde_json::Value> = fields
        .iter()
        .map(|field| serde_json::json!({ "required": [field] }))
        .collect();
    object
        .extensions
        .get_or_insert_with(Default::default)
        .insert("oneOf".to_owned(), serde_json::Value::Array(one_of));
}

/// utoipa names an operation after its handler, and several modules have a `list` or a `get`:
/// a name used more than once becomes `<tag>_<name>`.
fn unique_operation_ids(spec: &mut utoipa::openapi::OpenApi) {
    let mut seen = std::collections::HashMap::<String, usize>::new();
    let mut each = |visit: &mut dyn FnMut(&mut Operation)| {
        for item in spec.paths.paths.values_mut() {
            for operation in operations_mut(item) {
                visit(operation);
            }
        }
    };
    each(&mut |operation| {
        if let Some(id) = &operation.operation_id {
            *seen.entry(id.clone()).or_default() += 1;
        }
    });
    each(&mut |operation| {
        let duplicated = operation
            .operation_id
            .as_ref()
            .is_some_and(|id| seen.get(id).copied().unwrap_or(0) > 1);
        if duplicated {
            let tag = operation
                .tags
                .as_ref()
                .and_then(|tags| tags.first().cloned())
                .unwrap_or_default();
            let id = operation.operation_id.take().unwrap_or_default();
            operation.operation_id = Some(format!("{tag}_{id}"));
        }
    });
}

/// `Region` is read from `plans.yaml` with unknown fields refused, which utoipa states as
/// `additionalProperties: false`; the regions list flattens it with more fields (`RegionView`),
/// which that would forbid.
fn open_for_flatten(spec: &mut utoipa::openapi::OpenApi, name: &str) {
    let schema = spec
        .components
        .as_mut()
        .and_then(|components| components.schemas.get_mut(name));
    let Some(RefOr::T(Schema::Object(object))) = schema else {
        panic!("no object schema {name} in the OpenAPI document");
    };
    object.additional_properties = None;
}

/// The audit log's `application/json` answer is a page (`format=page`, the default) or the
/// exported events themselves (`format=json`, an attachment): one content type, two shapes.
fn audit_json_is_a_page_or_an_export(spec: &mut utoipa::openapi::OpenApi, path: &str) {
    use utoipa::openapi::schema::{ArrayBuilder, OneOfBuilder};
    let content = spec
        .paths
        .paths
        .get_mut(path)
        .and_then(|item| item.get.as_mut())
        .and_then(|operation| operation.responses.responses.get_mut("200"))
        .and_then(|response| match response {
            RefOr::T(response) => response.content.get_mut("application/json"),
            RefOr::Ref(_) => None,
        });
    let Some(content) = content else {
        panic!("no application/json answer of GET {path} in the OpenAPI document");
    };
    content.schema = Some(RefOr::T(Schema::OneOf(
        OneOfBuilder::new()
            .item(Ref::from_schema_name("AuditPage"))
            .item(ArrayBuilder::new().items(Ref::from_schema_name("AuditEvent")))
            .build(),
    )));
}
