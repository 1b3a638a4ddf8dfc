//! `GET /v1/capabilities`: which configuration settings and plan features the product acts on
//! today, and which it only records. The settings come from the instance's own table
//! ([`authstack_instance::capabilities::SETTINGS`]), so the dashboard, the customization
//! results and the instance's public configuration can never disagree.

use serde::Serialize;

/// A plan feature (a `limits` flag of `plans.yaml`) and whether the product delivers it.
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
pub struct PlanFeature {
    pub key: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// The plan features (the boolean `limits` flags of `plans.yaml`). One that is not `active` may be
/// carried by a plan before the product implements it: the plans page shows it as "not
/// available yet", and nothing may be configured through it.
pub const PLAN_FEATURES: &[PlanFeature] = &[
    PlanFeature {
        key: "sso",
        label: "SAML single sign-on",
        active: false,
    },
    PlanFeature {
        key: "custom_domain",
        label: "Custom domains",
        active: true,
    },
];

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Capabilities {
    #[schema(value_type = Vec<authstack_instance::capabilities::Setting>)]
    pub settings: &'static [authstack_instance::capabilities::Setting],
    #[schema(value_type = Vec<PlanFeature>)]
    pub plan_features: &'static [PlanFeature],
}

/// Which configuration settings and plan features the product acts on today: no sign-in.
#[utoipa::path(get, path = "/v1/capabilities", tag = "platform", operation_id = "capabilities",
    responses((status = 200, body = Capabilities)))]
pub async fn get() -> axum::Json<Capabilities> {
    axum::Json(Capabilities {
        settings: authstack_instance::capabilities::SETTINGS,
        plan_features: PLAN_FEATURES,
    })
}

/// This module's routes.
pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(self::get))
}
