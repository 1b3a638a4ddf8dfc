//! Plans and regions: what AuthStack sells and where it runs. Loaded from YAML (the shipped
//! `plans.yaml` unless a file is given) and validated once at start.

use std::path::Path;

use serde::{Deserialize, Serialize};

const BUILT_IN: &str = include_str!("../plans.yaml");

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    pub regions: Vec<Region>,
    pub plans: Vec<Plan>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProvisionerKind {
    /// Instances as supervised processes on this machine.
    Local,
    /// `AuthStackInstance` resources in a Kubernetes cluster, reconciled by the operator.
    Kubernetes,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub id: String,
    pub name: String,
    pub provisioner: ProvisionerKind,
    /// The kubeconfig context of the region's cluster (`kubernetes` regions only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kube_context: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub id: String,
    pub name: String,
    /// The Stripe price a Checkout Session subscribes to.
    pub stripe_price_id: String,
    pub limits: PlanLimits,
    /// How big the plan's instances run where a provisioner sizes them (Kubernetes).
    #[serde(default)]
    pub capacity: Capacity,
}

/// The size of a plan's live instance on Kubernetes. The test instance runs one pod and one
/// PostgreSQL instance whatever the plan (it serves development traffic), with the same
/// per-pod resources and storage. The local provisioner ignores all of this.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    /// Pods of the live instance.
    pub replicas: u32,
    /// Scale the live instance out on CPU up to this many pods; absent: a fixed `replicas`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_replicas: Option<u32>,
    /// Kubernetes quantities per pod.
    pub cpu_request: String,
    pub memory_request: String,
    pub cpu_limit: String,
    pub memory_limit: String,
    /// PostgreSQL instances of the live instance's database (1: no standby).
    pub database_instances: u32,
    /// Volume size per PostgreSQL instance, e.g. `10Gi`.
    pub database_storage: String,
}

impl Default for Capacity {
    /// The smallest footprint: one pod, one PostgreSQL instance (an idle instance needs about
    /// 17 MiB, one hashing a password about 60 MiB; see docs/benchmarks.md).
    fn default() -> Self {
        Capacity {
            replicas: 1,
            max_replicas: None,
            cpu_request: "100m".into(),
            memory_request: "128Mi".into(),
            cpu_limit: "1".into(),
            memory_limit: "256Mi".into(),
            database_instances: 1,
            database_storage: "1Gi".into(),
        }
    }
}

/// What a plan allows. `None` means unlimited.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanLimits {
    #[schema(required = true)]
    pub monthly_active_users: Option<u32>,
    #[schema(required = true)]
    pub organizations: Option<u32>,
    #[schema(required = true)]
    pub members_per_organization: Option<u32>,
    #[schema(required = true)]
    pub custom_roles_per_organization: Option<u32>,
    /// Region ids, or `["*"]` for every region.
    pub regions: Vec<String>,
    pub audit_retention_days: u32,
    pub version_history_days: u32,
    pub sso: bool,
    pub custom_domain: bool,
    pub customization_prompts_per_month: u32,
    /// Requests per second per API key at the gateway.
    pub api_requests_per_second: u32,
}

impl PlanLimits {
    pub fn allows_region(&self, region: &str) -> bool {
        self.regions.iter().any(|r| r == "*" || r == region)
    }
}

impl Catalog {
    /// The shipped catalog.
    pub fn built_in() -> Catalog {
        // Validated by a unit test; a broken built-in file is a build defect, not an input error.
        Self::parse(BUILT_IN, "plans.yaml").expect("the built-in plans.yaml is valid")
    }

    pub fn from_file(path: &Path) -> anyhow::Result<Catalog> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        Self::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> anyhow::Result<Catalog> {
        let catalog: Catalog =
            serde_yaml::from_str(text).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
        catalog
            .validate()
            .map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
        Ok(catalog)
    }

    /// Checks what the types cannot: unique ids, known regions, a context for each cluster.
    pub fn validate(&self) -> Result<(), String> {
        let valid_id = |id: &str| {
            !id.is_empty()
                && id.len() <= 40
                && id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        };
        if self.plans.is_empty() {
            return Err("plans: at least one plan is required".into());
        }
        for (i, region) in self.regions.iter().enumerate() {
            if !valid_id(&region.id) {
                return Err(format!(
                    "regions[{i}].id: lowercase letters, digits and '-'"
                ));
            }
            if self.regions[..i].iter().any(|r| r.id == region.id) {
                return Err(format!("regions[{i}].id: duplicate '{}'", region.id));
            }
            if region.provisioner == ProvisionerKind::Kubernetes && region.kube_context.is_none() {
                return Err(format!(
                    "regions[{i}].kube_context: required for kubernetes"
                ));
            }
        }
        for (i, plan) in self.plans.iter().enumerate() {
            if !valid_id(&plan.id) {
                return Err(format!("plans[{i}].id: lowercase letters, digits and '-'"));
            }
            if self.plans[..i].iter().any(|p| p.id == plan.id) {
                return Err(format!("plans[{i}].id: duplicate '{}'", plan.id));
            }
            if plan.limits.regions.is_empty() {
                return Err(format!(
                    "plans[{i}].limits.regions: at least one region or \"*\""
                ));
            }
            for region in &plan.limits.regions {
                if region != "*" && self.region(region).is_none() {
                    return Err(format!(
                        "plans[{i}].limits.regions: unknown region '{region}'"
                    ));
                }
            }
            if plan.limits.api_requests_per_second == 0 {
                return Err(format!(
                    "plans[{i}].limits.api_requests_per_second: must be > 0"
                ));
            }
            let capacity = &plan.capacity;
            if !(1..=100).contains(&capacity.replicas) {
                return Err(format!("plans[{i}].capacity.replicas: 1 to 100"));
            }
            if capacity
                .max_replicas
                .is_some_and(|max| max < capacity.replicas || max > 100)
            {
                return Err(format!(
                    "plans[{i}].capacity.max_replicas: from replicas to 100"
                ));
            }
            if !(1..=9).contains(&capacity.database_instances) {
                return Err(format!("plans[{i}].capacity.database_instances: 1 to 9"));
            }
            let quantities = [
                ("cpu_request", &capacity.cpu_request),
                ("memory_request", &capacity.memory_request),
                ("cpu_limit", &capacity.cpu_limit),
                ("memory_limit", &capacity.memory_limit),
                ("database_storage", &capacity.database_storage),
            ];
            for (field, quantity) in quantities {
                let valid = !quantity.is_empty()
                    && quantity.len() <= 20
                    && quantity.starts_with(|c: char| c.is_ascii_digit())
                    && quantity
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '.');
                if !valid {
                    return Err(format!(
                        "plans[{i}].capacity.{field}: a Kubernetes quantity such as 500m or 1Gi"
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn plan(&self, id: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.id == id)
    }

    pub fn region(&self, id: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.id == id)
    }

    /// The plan whose Stripe price is `price_id`.
    pub fn plan_for_price(&self, price_id: &str) -> Option<&Plan> {
        self.plans.iter().find(|p| p.stripe_price_id == price_id)
    }
}

/// This module's routes.
pub fn router() -> utoipa_axum::router::OpenApiRouter<crate::AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(routes::plans))
        .routes(routes!(routes::regions))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_catalog_is_valid() {
        let catalog = Catalog::built_in();
        assert!(catalog.plan("starter").is_some());
        assert!(catalog.region("local").is_some());
    }

    #[test]
    fn errors_name_the_field() {
        let text = BUILT_IN.replace("regions: [local, eu-central-1]", "regions: [mars]");
        let err = Catalog::parse(&text, "x.yaml")
            .expect_err("unknown region")
            .to_string();
        assert!(
            err.contains("plans[0].limits.regions: unknown region 'mars'"),
            "{err}"
        );
        let err = Catalog::parse("plans: []\nregions: []", "x.yaml")
            .expect_err("no plans")
            .to_string();
        assert!(err.contains("plans: at least one plan"), "{err}");
    }

    #[test]
    fn plans_carry_their_capacity_and_files_without_it_get_the_smallest() {
        let catalog = Catalog::built_in();
        let replicas = |id: &str| catalog.plan(id).map(|p| p.capacity.replicas);
        assert_eq!(replicas("starter"), Some(1));
        assert_eq!(replicas("pro"), Some(2));
        assert_eq!(replicas("enterprise"), Some(3));
        assert!(
            catalog
                .plan("enterprise")
                .is_some_and(|p| p.capacity.max_replicas > Some(3))
        );

        let mut without: serde_yaml::Value = serde_yaml::from_str(BUILT_IN).expect("yaml");
        for plan in without["plans"].as_sequence_mut().expect("plans") {
            plan.as_mapping_mut().expect("plan").remove("capacity");
        }
        let text = serde_yaml::to_string(&without).expect("yaml");
        let catalog = Catalog::parse(&text, "x.yaml").expect("capacity is optional");
        assert_eq!(
            catalog.plan("enterprise").map(|p| &p.capacity),
            Some(&Capacity::default())
        );

        let text = BUILT_IN.replacen("database_storage: 1Gi", "database_storage: lots", 1);
        let err = Catalog::parse(&text, "x.yaml")
            .expect_err("bad quantity")
            .to_string();
        assert!(
            err.contains("plans[0].capacity.database_storage: a Kubernetes quantity"),
            "{err}"
        );
    }
}

/// `GET /v1/plans` and `GET /v1/regions`: public, for the pricing page and the sign-up form.
pub mod routes {
    use axum::extract::State;
    use serde::Serialize;

    use super::{Plan, Region};
    use crate::AppState;

    #[derive(Serialize, utoipa::ToSchema)]
    pub struct Plans {
        data: Vec<Plan>,
    }

    /// The plans on sale: no sign-in.
    #[utoipa::path(get, path = "/v1/plans", tag = "platform", responses((status = 200, body = Plans)))]
    pub async fn plans(State(app): State<AppState>) -> axum::Json<Plans> {
        axum::Json(Plans {
            data: app.config.catalog.plans.clone(),
        })
    }

    #[derive(Serialize, utoipa::ToSchema)]
    pub struct RegionView {
        #[serde(flatten)]
        region: Region,
        /// Whether this control plane can provision there now.
        available: bool,
    }

    #[derive(Serialize, utoipa::ToSchema)]
    pub struct Regions {
        data: Vec<RegionView>,
    }

    /// The regions, and whether this control plane can provision there now: no sign-in.
    #[utoipa::path(get, path = "/v1/regions", tag = "platform", responses((status = 200, body = Regions)))]
    pub async fn regions(State(app): State<AppState>) -> axum::Json<Regions> {
        axum::Json(Regions {
            data: app
                .config
                .catalog
                .regions
                .iter()
                .map(|region| RegionView {
                    available: app.provisioners.contains_key(&region.id),
                    region: region.clone(),
                })
                .collect(),
        })
    }
}
