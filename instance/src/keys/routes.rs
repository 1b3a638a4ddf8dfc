//! The JWKS and signing-key administration (OpenID discovery is in `crate::oidc`).

use axum::extract::State;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::Jwk;
use crate::AppState;
use crate::audit::{self, AuditEvent};
use crate::error::{ErrorBody, Result};
use crate::http::{Admin, Client};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(jwks))
        .routes(routes!(rotate_keys))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// The public keys that verify this instance's access tokens.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "discovery", responses((status = 200, body = JwkSet)))]
async fn jwks(
    State(app): State<AppState>,
) -> (
    [(axum::http::HeaderName, &'static str); 1],
    axum::Json<JwkSet>,
) {
    let ttl = app.config.load().tokens.access_token_ttl_secs as i64;
    // Verifiers may cache briefly; a rotation reaches them within a minute.
    (
        [(axum::http::header::CACHE_CONTROL, "public, max-age=60")],
        axum::Json(JwkSet {
            keys: app.keys.jwks(ttl),
        }),
    )
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RotatedKey {
    /// The new signing key's id; the previous key stays in the JWKS until its tokens expire.
    pub kid: String,
}

/// Rotate the signing key.
#[utoipa::path(post, path = "/v1/admin/keys/rotate", tag = "admin", security(("admin_key" = [])),
    responses((status = 200, body = RotatedKey), (status = 401, body = ErrorBody)))]
async fn rotate_keys(
    State(app): State<AppState>,
    admin: Admin,
    client: Client,
) -> Result<axum::Json<RotatedKey>> {
    let kid = app.keys.rotate().await?;
    audit::record(
        &app,
        app.clock.now(),
        AuditEvent::new("keys.rotated")
            .actor(&admin.key_id)
            .target(&kid)
            .client(&client),
    )
    .await?;
    Ok(axum::Json(RotatedKey { kid }))
}
