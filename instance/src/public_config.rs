//! `GET /v1/config/public`: what a sign-in UI needs to know about this instance's configuration
//! (methods, signup fields, branding, languages, policies worth showing), without anything
//! secret. The SDK's components render from it; the control plane reads it to verify that a
//! deployed change is visible.

use axum::extract::State;
use serde::Serialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::config::{Appearance, CaptchaProvider, FieldRule, InstanceConfig, MfaMode};
use crate::error::Result;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(public_config))
}

#[derive(Debug, Serialize, serde::Deserialize, PartialEq, utoipa::ToSchema)]
pub struct PublicConfig {
    pub methods: PublicMethods,
    pub signup: PublicSignup,
    pub password_policy: PublicPasswordPolicy,
    #[schema(value_type = String, example = "off")]
    pub mfa: MfaMode,
    pub captcha: Option<PublicCaptcha>,
    pub branding: PublicBranding,
    pub i18n: PublicI18n,
    /// Per capability, whether this instance acts on it: a method or setting listed here with
    /// `active: false` is recorded in the configuration but has no effect yet.
    pub capabilities: Vec<PublicCapability>,
}

#[derive(Debug, Serialize, serde::Deserialize, PartialEq, utoipa::ToSchema)]
pub struct PublicCapability {
    /// The configuration path it covers (`auth.mfa`).
    pub path: String,
    pub label: String,
    pub active: bool,
    /// Whether this configuration turns it on or changes it from the default.
    pub configured: bool,
}

#[derive(Debug, Serialize, serde::Deserialize, PartialEq, utoipa::ToSchema)]
pub struct PublicMethods {
    pub password: bool,
    pub magic_link: bool,
    pub passkeys: bool,
    pub google: bool,
    pub github: bool,
    pub saml: bool,
}

#[derive(Debug, Serialize, serde::Deserialize, PartialEq, utoipa::ToSchema)]
pub struct PublicSignup {
    pub enabled: bool,
    pub require_email_verification: bool,
    /// `off`, `optional` or `required`.
    #[schema(value_type = String)]
    pub name: FieldRule,
    #[schema(value_type = String)]
    pub phone: FieldRule,
}

#[derive(Debug, Serialize, serde::Deserialize, PartialEq, utoipa::ToSchema)]
pub struct PublicPasswordPolicy {
    pub min_length: usize,
    pub max_length: usize,
}

#[derive(Debug, Serialize, serde::Deserialize, PartialEq, utoipa::ToSchema)]
pub struct PublicCaptcha {
    #[schema(value_type = String)]
    pub provider: CaptchaProvider,
    pub site_key: Option<String>,
    pub on_signup: bool,
    pub on_login: bool,
}

#[derive(Debug, Serialize, serde::Deserialize, PartialEq, utoipa::ToSchema)]
pub struct PublicBranding {
    pub primary_color: String,
    pub logo_url: Option<String>,
    /// `light`, `dark` or `auto`.
    #[schema(value_type = String)]
    pub appearance: Appearance,
    pub product_name: String,
}

#[derive(Debug, Serialize, serde::Deserialize, PartialEq, utoipa::ToSchema)]
pub struct PublicI18n {
    pub default_language: String,
    pub languages: Vec<String>,
}

/// The instance's public configuration.
#[utoipa::path(get, path = "/v1/config/public", tag = "config",
    responses((status = 200, body = PublicConfig)))]
async fn public_config(State(app): State<AppState>) -> Result<axum::Json<PublicConfig>> {
    Ok(axum::Json(of(&app.config.load_full())))
}

/// What `GET /v1/config/public` answers for `config`.
pub fn of(config: &InstanceConfig) -> PublicConfig {
    let auth = &config.auth;
    let captcha = &auth.captcha;
    PublicConfig {
        methods: PublicMethods {
            password: auth.methods.password,
            magic_link: auth.methods.magic_link,
            passkeys: auth.methods.passkeys,
            google: auth.social.google.enabled,
            github: auth.social.github.enabled,
            saml: auth.saml.enabled,
        },
        signup: PublicSignup {
            enabled: auth.signup.enabled,
            require_email_verification: auth.require_email_verification,
            name: auth.signup.fields.name,
            phone: auth.signup.fields.phone,
        },
        password_policy: PublicPasswordPolicy {
            min_length: config.passwords.min_length,
            max_length: config.passwords.max_length,
        },
        mfa: auth.mfa.mode,
        captcha: (captcha.provider != CaptchaProvider::None).then(|| PublicCaptcha {
            provider: captcha.provider,
            site_key: captcha.site_key.clone(),
            on_signup: captcha.on_signup,
            on_login: captcha.on_login,
        }),
        branding: PublicBranding {
            primary_color: config.branding.primary_color.clone(),
            logo_url: config.branding.logo_url.clone(),
            appearance: config.branding.appearance,
            product_name: config.mail.product_name.clone(),
        },
        i18n: PublicI18n {
            default_language: config.i18n.default_language.clone(),
            languages: config.i18n.languages.clone(),
        },
        capabilities: capabilities(config),
    }
}

fn capabilities(config: &InstanceConfig) -> Vec<PublicCapability> {
    let in_use = crate::capabilities::in_use(config);
    crate::capabilities::SETTINGS
        .iter()
        .map(|s| PublicCapability {
            path: s.path.to_owned(),
            label: s.label.to_owned(),
            active: s.active,
            configured: in_use.contains(&s),
        })
        .collect()
}
