//! Accounts: a customer of AuthStack. Each is an organization of the platform instance (its
//! members, roles and invitations live there); this module keeps what only the control plane
//! knows — its Stripe customer; its subscription is billing's — and decides who may act on it.

pub mod routes;
pub mod store;

use authstack_instance::clock::UnixTime;
use secrecy::ExposeSecret;
use serde::Serialize;

use crate::App;
use crate::audit::{self, Actor};
use crate::db::new_id;
use crate::error::{Error, Result};
use crate::ids::{AccountId, OrganizationId};
use crate::platform::Caller;

// The lookups other modules make (`accounts::find`, ...) keep their names; the statements are
// in `store`.
pub use store::{find, find_by_customer, of_organization, set_stripe_customer};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Account {
    pub id: AccountId,
    /// The account's organization in the platform instance.
    pub organization_id: OrganizationId,
    pub name: String,
    pub created_by: String,
    /// The creator's address, which the account's instances mail about their operation (see
    /// `InstanceSpec::notify_email`); `None` for accounts made before it was kept.
    #[serde(skip)]
    pub created_by_email: Option<String>,
    #[serde(skip)]
    pub stripe_customer_id: Option<String>,
    #[serde(serialize_with = "crate::http::time")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: UnixTime,
}

/// Creates an account: a new organization of the platform instance, made with the caller's own
/// token so that the caller becomes its owner, and its row with an audit event. The API and
/// `authstack dev` both call it. `name` is trimmed; 1 to 100 characters.
pub async fn create(app: &App, caller: &Caller, name: &str, slug: Option<&str>) -> Result<Account> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid("name: 1 to 100 characters"));
    }
    let response = app
        .platform
        .request(&app.http, reqwest::Method::POST, "/v1/organizations")
        .bearer_auth(caller.token.expose_secret())
        .json(&serde_json::json!({ "name": name, "slug": slug }))
        .send()
        .await
        .map_err(|_| Error::InstanceUnavailable)?;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    if !status.is_success() {
        // The platform's own error (slug taken, invalid name, organization limit) is the answer.
        let message = body["message"]
            .as_str()
            .unwrap_or("the platform refused")
            .to_owned();
        return Err(match status.as_u16() {
            400 => Error::InvalidRequest(message),
            401 => Error::Unauthorized("the platform access token is no longer valid"),
            403 => Error::Forbidden(message),
            409 => Error::Conflict(message),
            _ => Error::BadGateway(message),
        });
    }
    let organization_id = body["id"].as_str().ok_or_else(|| {
        Error::BadGateway("the platform answered without an organization id".into())
    })?;
    let account = Account {
        id: AccountId::from(new_id("acc")),
        organization_id: OrganizationId::from(organization_id),
        name: name.to_owned(),
        created_by: caller.user_id.clone(),
        created_by_email: Some(caller.email.clone()).filter(|e| !e.is_empty()),
        stripe_customer_id: None,
        created_at: app.clock.now(),
    };
    let mut tx = app.db.begin_write().await?;
    store::insert(&mut *tx, &account).await?;
    audit::record(
        &mut *tx,
        account.created_at,
        Some(&account.id),
        Actor::User(&caller.user_id),
        "account.created",
        Some(&account.id),
        serde_json::json!({ "name": name, "organization_id": account.organization_id }),
    )
    .await?;
    tx.commit().await?;
    Ok(account)
}

/// The account `id`, if the caller's token works in its organization and holds `permission`.
/// Accounts the caller is not in are reported as absent, so ids reveal nothing.
pub async fn authorize(
    app: &App,
    caller: &Caller,
    id: &AccountId,
    permission: &str,
) -> Result<Account> {
    // Said before the lookup, so that the answer tells nothing about whether `id` exists.
    if caller.org_id.is_none() {
        return Err(Error::Forbidden(
            "this token works in no organization: switch to the account's organization \
             (POST /v1/organizations/{org_id}/switch on the platform, or `authstack login`), \
             then call again"
                .into(),
        ));
    }
    let account = store::find(&app.db, id)
        .await?
        .ok_or(Error::NotFound("account"))?;
    if caller.org_id.as_ref() != Some(&account.organization_id) {
        return Err(Error::NotFound("account"));
    }
    if !caller.has(permission) {
        return Err(Error::Forbidden(format!(
            "this action needs the permission '{permission}' in the account"
        )));
    }
    Ok(account)
}

/// The account's instance in `env`, for a caller with `permission`.
pub async fn instance(
    app: &App,
    caller: &Caller,
    account_id: &AccountId,
    env: &str,
    permission: &str,
) -> Result<(Account, crate::instances::Instance)> {
    let account = authorize(app, caller, account_id, permission).await?;
    let environment = crate::provisioner::Environment::parse(env)
        .ok_or_else(|| Error::invalid(format!("unknown environment '{env}': live or test")))?;
    let instance = crate::instances::of_account(&app.db, &account.id)
        .await?
        .into_iter()
        .find(|i| i.environment == environment)
        .ok_or(Error::NotFound("instance"))?;
    Ok((account, instance))
}
