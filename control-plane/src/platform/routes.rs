//! `GET /v1/platform`: what the dashboard needs to start (the platform instance, its
//! publishable key, the gateway, where the SDK tarballs are).

use axum::extract::State;
use secrecy::ExposeSecret;

use crate::AppState;
use crate::error;
use crate::web::SDK_TARBALLS;

pub fn router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(platform_info))
}

#[derive(serde::Serialize, utoipa::ToSchema)]
struct PlatformInfo {
    instance_id: String,
    gateway_url: String,
    /// The platform's publishable key (browser-safe): the dashboard signs users up and in with it.
    publishable_key: String,
    /// Where the packed SDK can be installed from, when this control plane serves it.
    #[schema(required = true)]
    sdk: Option<SdkTarballs>,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
struct SdkTarballs {
    client: String,
    react: String,
}

/// What the dashboard needs to start: no sign-in.
#[utoipa::path(get, path = "/v1/platform", tag = "platform",
    responses((status = 200, body = PlatformInfo),
        (status = 503, description = "The platform instance is not up yet (`instance_unavailable`).", body = error::ErrorBody)))]
async fn platform_info(State(app): State<AppState>) -> error::Result<axum::Json<PlatformInfo>> {
    let key = super::bootstrap::platform_publishable_key(&app).await?;
    Ok(axum::Json(PlatformInfo {
        instance_id: app.platform.instance_id.to_string(),
        gateway_url: app.gateway_url.clone(),
        publishable_key: key.expose_secret().to_owned(),
        sdk: app
            .config
            .sdk_dir
            .as_ref()
            .filter(|dir| SDK_TARBALLS.iter().all(|name| dir.join(name).is_file()))
            .map(|_| SdkTarballs {
                client: format!("{}/sdk/{}", app.dashboard_url, SDK_TARBALLS[0]),
                react: format!("{}/sdk/{}", app.dashboard_url, SDK_TARBALLS[1]),
            }),
    }))
}
