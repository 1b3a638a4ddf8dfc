//! `POST /v1/accounts`, `GET /v1/accounts/{id}`, the subscription and the billing portal.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::Account;
use crate::AppState;
use crate::billing::{self, SubscribeOutcome, Subscription};
use crate::error::{Error, ErrorBody, Result};
use crate::http::extract::Json;
use crate::ids::AccountId;
use crate::instances::Instance;
use crate::platform::Caller;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAccountRequest {
    /// 1 to 100 characters (surrounding spaces are trimmed), no control characters.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    name: String,
    /// The platform organization's slug, unique on the platform; derived from the name when
    /// absent.
    #[schema(
        min_length = 2,
        max_length = 48,
        pattern = "^[a-z0-9][a-z0-9-]*[a-z0-9]$"
    )]
    slug: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountView {
    #[serde(flatten)]
    account: Account,
    #[schema(required = true)]
    subscription: Option<Subscription>,
    instances: Vec<Instance>,
}

async fn view(app: &AppState, account: Account) -> Result<AccountView> {
    let subscription = billing::subscription(&app.db.pool, &account.id).await?;
    let instances = crate::instances::of_account(&app.db, &account.id).await?;
    Ok(AccountView {
        account,
        subscription,
        instances,
    })
}

/// Creates an account: a new organization in the platform instance, created with the caller's
/// own token so that the caller becomes its owner.
#[utoipa::path(post, path = "/v1/accounts", tag = "accounts", request_body = CreateAccountRequest,
    security(("bearer" = [])),
    responses((status = 201, body = AccountView),
        (status = 400, description = "An invalid name or slug (`invalid_request`).", body = ErrorBody),
        (status = 409, description = "The slug is taken (`conflict`).", body = ErrorBody),
        (status = 502, description = "The platform instance refused unexpectedly (`bad_gateway`).", body = ErrorBody)))]
pub async fn create(
    State(app): State<AppState>,
    caller: Caller,
    Json(request): Json<CreateAccountRequest>,
) -> Result<(StatusCode, axum::Json<AccountView>)> {
    let account = super::create(&app, &caller, &request.name, request.slug.as_deref()).await?;
    Ok((StatusCode::CREATED, axum::Json(view(&app, account).await?)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccountList {
    data: Vec<AccountView>,
}

/// `GET /v1/accounts`: the accounts of the organization the caller's token works in (how the
/// dashboard finds the account after a sign-in).
#[utoipa::path(get, path = "/v1/accounts", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, body = AccountList)))]
pub async fn list(State(app): State<AppState>, caller: Caller) -> Result<axum::Json<AccountList>> {
    let Some(org_id) = caller.org_id.as_ref() else {
        return Ok(axum::Json(AccountList { data: Vec::new() }));
    };
    if !caller.has("organization:read") {
        return Err(Error::Forbidden(
            "this action needs the permission 'organization:read' in the account".into(),
        ));
    }
    let mut data = Vec::new();
    for account in super::store::of_organization(&app.db, org_id).await? {
        data.push(view(&app, account).await?);
    }
    Ok(axum::Json(AccountList { data }))
}

/// One account, with its subscription and instances.
#[utoipa::path(get, path = "/v1/accounts/{id}", tag = "accounts", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`).")),
    responses((status = 200, body = AccountView),
        (status = 404, description = "No such account in the token's organization (`not_found`).", body = ErrorBody)))]
pub async fn get(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
) -> Result<axum::Json<AccountView>> {
    let account = super::authorize(&app, &caller, &id, "organization:read").await?;
    Ok(axum::Json(view(&app, account).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscribeRequest {
    /// A plan id of `GET /v1/plans`.
    plan: String,
    /// A region id of `GET /v1/regions` that the plan allows.
    region: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct SubscribeResponse {
    #[schema(required = true)]
    subscription: Option<Subscription>,
    /// Where to send the customer to pay (billing provider `stripe`).
    #[serde(skip_serializing_if = "Option::is_none")]
    checkout_url: Option<String>,
    instances: Vec<Instance>,
}

/// Subscribes the account to a plan in a region (or changes the plan): with billing `none` the
/// instances are created at once; with Stripe the answer carries the Checkout URL.
#[utoipa::path(post, path = "/v1/accounts/{id}/subscription", tag = "accounts", request_body = SubscribeRequest,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`).")),
    responses((status = 200, body = SubscribeResponse),
        (status = 400, description = "An unknown plan or region (`invalid_request`).", body = ErrorBody),
        (status = 403, description = "The plan does not include the region, or the caller lacks `billing:manage` (`forbidden`).", body = ErrorBody),
        (status = 404, description = "No such account (`not_found`).", body = ErrorBody),
        (status = 409, description = "The region cannot be provisioned now (`region_unavailable`), or the subscription cannot change so (`conflict`).", body = ErrorBody),
        (status = 502, description = "The billing provider failed (`bad_gateway`).", body = ErrorBody)))]
pub async fn subscribe(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
    Json(request): Json<SubscribeRequest>,
) -> Result<axum::Json<SubscribeResponse>> {
    let account = super::authorize(&app, &caller, &id, "billing:manage").await?;
    let outcome =
        billing::subscribe(&app, &caller, &account, &request.plan, &request.region).await?;
    let checkout_url = match outcome {
        SubscribeOutcome::Active => None,
        SubscribeOutcome::Checkout { url } => Some(url),
    };
    Ok(axum::Json(SubscribeResponse {
        subscription: billing::subscription(&app.db.pool, &account.id).await?,
        checkout_url,
        instances: crate::instances::of_account(&app.db, &account.id).await?,
    }))
}

/// Cancels the subscription (billing `none`; with Stripe the customer cancels in the portal).
#[utoipa::path(delete, path = "/v1/accounts/{id}/subscription", tag = "accounts", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`).")),
    responses((status = 200, description = "The subscription after the cancellation.", body = Option<Subscription>),
        (status = 404, description = "No such account, or no subscription (`not_found`).", body = ErrorBody),
        (status = 409, description = "A paid plan is cancelled in the billing portal (`conflict`).", body = ErrorBody)))]
pub async fn cancel(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
) -> Result<axum::Json<Option<Subscription>>> {
    let account = super::authorize(&app, &caller, &id, "billing:manage").await?;
    billing::cancel(&app, &caller, &account).await?;
    Ok(axum::Json(
        billing::subscription(&app.db.pool, &account.id).await?,
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct PortalResponse {
    url: String,
}

/// A Stripe billing-portal session for the account's customer.
#[utoipa::path(post, path = "/v1/accounts/{id}/billing-portal", tag = "accounts", security(("bearer" = [])),
    params(("id" = String, Path, description = "The account id (`acc_…`).")),
    responses((status = 200, body = PortalResponse),
        (status = 404, description = "No such account (`not_found`).", body = ErrorBody),
        (status = 409, description = "Billing is not through Stripe, or the account has no customer yet (`conflict`).", body = ErrorBody),
        (status = 502, description = "Stripe failed (`bad_gateway`).", body = ErrorBody)))]
pub async fn billing_portal(
    State(app): State<AppState>,
    caller: Caller,
    Path(id): Path<AccountId>,
) -> Result<axum::Json<PortalResponse>> {
    let account = super::authorize(&app, &caller, &id, "billing:manage").await?;
    let url = billing::portal(&app, &caller, &account).await?;
    Ok(axum::Json(PortalResponse { url }))
}

/// This module's routes.
pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(self::get))
        .routes(routes!(subscribe, cancel))
        .routes(routes!(billing_portal))
}
