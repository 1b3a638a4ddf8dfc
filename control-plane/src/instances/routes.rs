//! `GET /v1/accounts/{id}/instances` (with each instance's progress steps) and
//! `PUT /v1/accounts/{id}/instances/{instance_id}/allowed-origins`.

use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

use super::{Instance, Step};
use crate::AppState;
use crate::error::{Error, ErrorBody, Result};
use crate::http::extract::Json;
use crate::ids::AccountId;
use crate::platform::Caller;

#[derive(Serialize, utoipa::ToSchema)]
pub struct InstanceView {
    #[serde(flatten)]
    instance: Instance,
    /// Where the customer's app sends requests, with a key of this instance.
    gateway_url: String,
    steps: Vec<Step>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct InstanceList {
    data: Vec<InstanceView>,
}

/// The account's instances, each with its progress steps.
#[utoipa::path(get, path = "/v1/accounts/{id}/instances", tag = "instances", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`).")),
    responses((status = 200, body = InstanceList),
        (status = 404, description = "No such account (`not_found`).", body = ErrorBody)))]
pub async fn list(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
) -> Result<axum::Json<InstanceList>> {
    let account = crate::accounts::authorize(&app, &caller, &id, "instances:read").await?;
    let mut data = Vec::new();
    for instance in super::of_account(&app.db, &account.id).await? {
        let steps = super::steps(&app.db, &instance.id).await?;
        data.push(InstanceView {
            instance,
            gateway_url: app.gateway_url.clone(),
            steps,
        });
    }
    Ok(axum::Json(InstanceList { data }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowedOriginsRequest {
    /// At most 50 origins, each `http(s)://host[:port]` with no path.
    #[schema(max_items = 50)]
    allowed_origins: Vec<String>,
}

/// `scheme://host[:port]`, http or https, nothing else: what browsers send in `Origin`.
fn parse_origin(raw: &str) -> Result<String, String> {
    let (scheme, rest) = raw
        .split_once("://")
        .ok_or_else(|| format!("'{raw}' is not an origin (scheme://host[:port])"))?;
    if scheme != "https" && scheme != "http" {
        return Err(format!("'{raw}': only http and https origins"));
    }
    let valid_host = !rest.is_empty()
        && rest.len() <= 253
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'));
    if !valid_host {
        return Err(format!(
            "'{raw}': an origin has no path, query or credentials"
        ));
    }
    Ok(format!("{scheme}://{}", rest.to_ascii_lowercase()))
}

/// Replaces the browser origins allowed to call the instance with its publishable key (a new
/// revision records them; the gateway takes them at once).
#[utoipa::path(put, path = "/v1/accounts/{id}/instances/{env}/allowed-origins", tag = "instances",
    request_body = AllowedOriginsRequest, security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`)."), ("env" = String, Path, description = "`live`, `test`, or the instance's id.")),
    responses((status = 200, body = Instance),
        (status = 400, description = "More than 50 origins, or one that is not an origin (`invalid_request`).", body = ErrorBody),
        (status = 404, description = "No such account, or it has no instance of that environment (`not_found`).", body = ErrorBody)))]
pub async fn set_allowed_origins(
    State(app): State<AppState>,
    caller: Caller,
    Path((id, instance_id)): Path<(AccountId, String)>,
    Json(request): Json<AllowedOriginsRequest>,
) -> Result<axum::Json<Instance>> {
    let account = crate::accounts::authorize(&app, &caller, &id, "instances:manage").await?;
    if request.allowed_origins.len() > 50 {
        return Err(Error::invalid("allowed_origins: at most 50"));
    }
    let mut origins = Vec::new();
    for (i, raw) in request.allowed_origins.iter().enumerate() {
        let origin = parse_origin(raw.trim())
            .map_err(|e| Error::invalid(format!("allowed_origins[{i}]: {e}")))?;
        if !origins.contains(&origin) {
            origins.push(origin);
        }
    }
    // `live`, `test`, or the instance's id.
    let instance = super::of_account(&app.db, &account.id)
        .await?
        .into_iter()
        .find(|i| i.id == instance_id.as_str() || i.environment.as_str() == instance_id)
        .ok_or(Error::NotFound("instance"))?;
    crate::revisions::change::set_allowed_origins(
        &app,
        &account,
        &instance,
        &origins,
        &caller.user_id,
    )
    .await?;
    let updated = super::find(&app.db, &instance.id)
        .await?
        .ok_or(Error::NotFound("instance"))?;
    Ok(axum::Json(updated))
}

/// This module's routes.
pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(set_allowed_origins))
        .routes(routes!(super::usage::get))
}

#[cfg(test)]
mod tests {
    use super::parse_origin;

    #[test]
    fn origins_are_scheme_host_port_only() {
        assert_eq!(
            parse_origin("https://App.example.com").as_deref(),
            Ok("https://app.example.com")
        );
        assert_eq!(
            parse_origin("http://localhost:5173").as_deref(),
            Ok("http://localhost:5173")
        );
        assert!(parse_origin("https://example.com/path").is_err());
        assert!(parse_origin("ftp://example.com").is_err());
        assert!(parse_origin("example.com").is_err());
        assert!(parse_origin("https://user@example.com").is_err());
    }
}
