//! The error responses the shared extractors give on every route they guard, added to the
//! OpenAPI document once here instead of by hand on each `#[utoipa::path]`: an operation that
//! takes a JSON body can answer 400, 413 and 415 ([`Json`](super::Json)); one behind a bearer
//! token or the admin key can answer 401 and 403 ([`Authenticated`](super::Authenticated),
//! [`Admin`](super::Admin)). A status a handler documents itself keeps its own description.
//! Also what utoipa's attributes cannot say: [`mutually_exclusive`] fields.

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder, Schema};

const BODY: [(&str, &str); 3] = [
    (
        "400",
        "The body is not valid JSON of the documented shape (`invalid_request`).",
    ),
    (
        "413",
        "The body is larger than the endpoint accepts (`payload_too_large`).",
    ),
    (
        "415",
        "The body is not `application/json` in UTF-8 (`unsupported_media_type`).",
    ),
];

const BEARER: [(&str, &str); 2] = [
    (
        "401",
        "No access token, or one that is invalid, expired or of an ended session (`unauthorized`).",
    ),
    (
        "403",
        "The user is banned (`user_banned`), or the call is not allowed (`forbidden`).",
    ),
];

const ADMIN_KEY: [(&str, &str); 2] = [
    ("401", "No valid admin secret key (`unauthorized`)."),
    (
        "403",
        "The caller's address is outside `security.admin_ip_allowlist` (`ip_not_allowed`).",
    ),
];

/// Adds the extractors' error responses to every operation of `spec`.
pub fn add_common_responses(spec: &mut OpenApi) {
    for item in spec.paths.paths.values_mut() {
        for operation in operations_mut(item) {
            add_to_operation(operation);
        }
    }
}

/// The operations of a path item (those this API uses: GET, PUT, POST, DELETE, PATCH).
pub fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ]
    .into_iter()
    .flatten()
}

fn add_to_operation(operation: &mut Operation) {
    let takes_json = operation
        .request_body
        .as_ref()
        .is_some_and(|body| body.content.contains_key("application/json"));
    if takes_json {
        add(operation, &BODY);
    }
    let schemes: Vec<String> = operation
        .security
        .iter()
        .flatten()
        .filter_map(|requirement| serde_json::to_value(requirement).ok())
        .filter_map(|value| {
            value
                .as_object()
                .map(|o| o.keys().cloned().collect::<Vec<_>>())
        })
        .flatten()
        .collect();
    if schemes.iter().any(|s| s == "bearer") {
        add(operation, &BEARER);
    }
    if schemes.iter().any(|s| s == "admin_key") {
        add(operation, &ADMIN_KEY);
    }
}

/// Adds each `(status, description)` not documented yet, with the `ErrorBody` schema.
pub fn add(operation: &mut Operation, responses: &[(&str, &str)]) {
    for (status, description) in responses {
        operation
            .responses
            .responses
            .entry((*status).to_owned())
            .or_insert_with(|| {
                RefOr::T(
                    ResponseBuilder::new()
                        .description(*description)
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("ErrorBody")))
                                .build(),
                        )
                        .build(),
                )
            });
    }
}

/// States in the schema `name` that at most one of `fields` may be given, as JSON Schema's
/// `not: {required: [...]}`: utoipa has no attribute for it, so it goes in as an extension key.
pub fn mutually_exclusive(spec: &mut OpenApi, name: &str, fields: &[&str]) {
    let schema = spec
        .components
        .as_mut()
        .and_then(|components| components.schemas.get_mut(name));
    let Some(RefOr::T(Schema::Object(object))) = schema else {
        panic!("no object schema {name} in the OpenAPI document");
    };
    object
        .extensions
        .get_or_insert_with(Default::default)
        .insert("not".to_owned(), serde_json::json!({ "required": fields }));
}
