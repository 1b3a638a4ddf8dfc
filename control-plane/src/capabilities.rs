//! `GET /v1/capabilities`: which configuration settings and plan features the product acts on
//! today, and which it only records. The settings come from the instance's own table
//! ([`authstack_instance::capabilities::SETTINGS`]), so the dashboard, the customization
//! results and the instance's public configuration can never disagree.

use serde::Serialize;

/// A plan feature (a `limits` flag of `plans.yaml`) and whether the product delivers it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct PlanFeature {
    pub key: &'static str,
    pub label: &'static str,
    pub active: bool,
}

/// Plan features whose flag a plan may carry before the product implements them: the plans
/// page shows them as "not available yet", and nothing may be configured through them.
pub const PLAN_FEATURES: &[PlanFeature] = &[
    PlanFeature {
        key: "sso",
        label: "SAML single sign-on",
        active: false,
    },
    PlanFeature {
        key: "custom_domain",
        label: "Custom domains",
        active: false,
    },
];

#[derive(Debug, Serialize)]
pub struct Capabilities {
    pub settings: &'static [authstack_instance::capabilities::Setting],
    pub plan_features: &'static [PlanFeature],
}

pub async fn get() -> axum::Json<Capabilities> {
    axum::Json(Capabilities {
        settings: authstack_instance::capabilities::SETTINGS,
        plan_features: PLAN_FEATURES,
    })
}

/// This module's routes.
pub fn router() -> axum::Router<crate::AppState> {
    use axum::routing::get;
    axum::Router::new().route("/v1/capabilities", get(self::get))
}
