//! From what the cluster shows to the resource's status: pure functions, so every rollout
//! outcome can be tested without a cluster.

use std::sync::Arc;

use kube::api::DynamicObject;
use serde_json::Value;

use crate::crd::{
    AuthStackInstance, AuthStackInstanceSpec, AuthStackInstanceStatus, Condition, Database,
    Outcome, Phase, RevisionOutcome, STATUS_HISTORY,
};
use crate::render::{self, REVISION_ANNOTATION, Target};

/// The revision to run: the spec's, unless its rollout failed and was rolled back, in which
/// case the last healthy one (until the spec names another revision).
pub fn target(spec: &AuthStackInstanceSpec, status: &AuthStackInstanceStatus) -> Target {
    match (status.failed_revision, status.last_healthy_revision) {
        (Some(failed), Some(healthy)) if failed == spec.revision && healthy != failed => Target {
            revision: healthy,
            from_spec: false,
        },
        _ => Target {
            revision: spec.revision,
            from_spec: true,
        },
    }
}

/// The cached objects the status is computed from.
#[derive(Default)]
pub struct Observed {
    pub deployment: Option<Arc<DynamicObject>>,
    pub database: Option<Arc<DynamicObject>>,
}

/// Where the Deployment's rollout of the target revision stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rollout {
    /// Not yet observed at the target revision, or pods still being replaced.
    Progressing,
    /// Every replica runs the target revision and is available.
    Available,
    /// The Deployment exceeded its progress deadline.
    Failed,
    /// Scaled to zero.
    Suspended,
}

/// A Kubernetes Event to record.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub warning: bool,
    pub reason: String,
    pub note: String,
    /// The revision it is about: events of different revisions are never folded together.
    pub revision: Option<i64>,
}

/// The condition saying whether the spec's revision was taken (`False`, reason
/// `RevisionImmutable`, when its configuration changed under the same number).
pub const REVISION_ACCEPTED: &str = "RevisionAccepted";

pub struct Computed {
    pub status: AuthStackInstanceStatus,
    pub rollout: Rollout,
    /// This reconcile decided to return to the last healthy revision.
    pub rolled_back: bool,
    pub event: Option<Notice>,
}

pub fn now() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn rollout(deployment: Option<&DynamicObject>, target: i64) -> (Rollout, i32, i32) {
    let Some(deployment) = deployment else {
        return (Rollout::Progressing, 0, 0);
    };
    let data = &deployment.data;
    let int = |value: &Value| value.as_i64().unwrap_or(0) as i32;
    let desired = int(&data["spec"]["replicas"]);
    let ready = int(&data["status"]["readyReplicas"]);
    let annotated = deployment
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(REVISION_ANNOTATION))
        .and_then(|r| r.parse::<i64>().ok());
    if annotated != Some(target) {
        return (Rollout::Progressing, ready, desired);
    }
    let generation = deployment.metadata.generation.unwrap_or(0);
    let observed_generation = data["status"]["observedGeneration"].as_i64().unwrap_or(0);
    if observed_generation < generation {
        return (Rollout::Progressing, ready, desired);
    }
    let deadline_exceeded = data["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Progressing" && c["reason"] == "ProgressDeadlineExceeded");
    if deadline_exceeded {
        return (Rollout::Failed, ready, desired);
    }
    let status = &data["status"];
    let total = int(&status["replicas"]);
    let updated = int(&status["updatedReplicas"]);
    let available = int(&status["availableReplicas"]);
    if desired == 0 {
        return if total == 0 {
            (Rollout::Suspended, ready, desired)
        } else {
            (Rollout::Progressing, ready, desired)
        };
    }
    if updated >= desired && available >= desired && total == updated {
        (Rollout::Available, ready, desired)
    } else {
        (Rollout::Progressing, ready, desired)
    }
}

fn database_ready(
    spec: &AuthStackInstanceSpec,
    cluster: Option<&DynamicObject>,
) -> (bool, &'static str, String) {
    match spec.database.resolve() {
        Err(message) => (false, "InvalidSpec", message.to_owned()),
        Ok(Database::External { secret_ref }) => (
            true,
            "External",
            format!("database URL from Secret {}", secret_ref.name),
        ),
        Ok(Database::Cnpg { instances, .. }) => {
            let ready = cluster
                .and_then(|c| c.data["status"]["readyInstances"].as_i64())
                .unwrap_or(0);
            if ready >= i64::from(instances) {
                (
                    true,
                    "ClusterReady",
                    format!("{ready}/{instances} PostgreSQL instances ready"),
                )
            } else {
                (
                    false,
                    "ClusterNotReady",
                    format!("{ready}/{instances} PostgreSQL instances ready"),
                )
            }
        }
    }
}

/// The status after this reconcile, from the previous one and what is observed.
pub fn compute(
    instance: &AuthStackInstance,
    target: Target,
    observed: &Observed,
    now: &str,
) -> Computed {
    let spec = &instance.spec;
    let old = instance.status.clone().unwrap_or_default();
    let generation = instance.metadata.generation;
    let (rollout, ready, desired) = rollout(observed.deployment.as_deref(), target.revision);
    let mut status = AuthStackInstanceStatus {
        observed_generation: generation,
        current_revision: Some(target.revision),
        endpoint: Some(render::endpoint(instance)),
        ready_replicas: ready,
        ready: Some(format!("{ready}/{desired}")),
        last_healthy_revision: old.last_healthy_revision,
        // A new spec revision clears an old failure.
        failed_revision: old
            .failed_revision
            .filter(|failed| *failed == spec.revision),
        history: old.history.clone(),
        conditions: Vec::new(),
        phase: None,
    };
    let mut event = None;
    let mut rolled_back = false;

    let (phase, ready_cond, progressing, mut degraded) = match rollout {
        Rollout::Suspended => (
            Phase::Suspended,
            ("False", "Suspended", "scaled to zero; data kept".to_owned()),
            ("False", "Suspended", String::new()),
            None,
        ),
        Rollout::Available => {
            status.last_healthy_revision = Some(target.revision);
            let outcome = if target.from_spec {
                Outcome::Deployed
            } else {
                Outcome::RolledBack
            };
            if status.history.first().map(|h| (h.revision, h.outcome))
                != Some((target.revision, outcome))
            {
                status.history.insert(
                    0,
                    RevisionOutcome {
                        revision: target.revision,
                        outcome,
                        at: now.to_owned(),
                        message: String::new(),
                    },
                );
                event = Some(Notice {
                    warning: false,
                    reason: if target.from_spec {
                        "Deployed"
                    } else {
                        "RolledBack"
                    }
                    .into(),
                    note: format!("revision {} is available", target.revision),
                    revision: Some(target.revision),
                });
            }
            (
                Phase::Ready,
                (
                    "True",
                    "Available",
                    format!("revision {} is available", target.revision),
                ),
                ("False", "RolloutComplete", String::new()),
                None,
            )
        }
        Rollout::Progressing => {
            let phase = if status.last_healthy_revision.is_none() {
                Phase::Provisioning
            } else {
                Phase::Updating
            };
            let serving = if ready > 0 { "True" } else { "False" };
            (
                phase,
                (
                    serving,
                    "Rolling",
                    format!("{ready}/{desired} replicas ready"),
                ),
                (
                    "True",
                    "Rolling",
                    format!("rolling to revision {}", target.revision),
                ),
                None,
            )
        }
        Rollout::Failed => {
            let message = format!(
                "revision {} did not become available within {}s",
                target.revision, spec.progress_deadline_seconds
            );
            let can_roll_back = spec.auto_rollback
                && target.from_spec
                && status
                    .last_healthy_revision
                    .is_some_and(|healthy| healthy != target.revision);
            if can_roll_back {
                let healthy = status.last_healthy_revision.unwrap_or_default();
                status.failed_revision = Some(target.revision);
                // The Deployment is about to roll back: the running revision becomes the
                // healthy one again.
                status.current_revision = Some(healthy);
                rolled_back = true;
                let text = format!("{message}; rolling back to revision {healthy}");
                status.history.insert(
                    0,
                    RevisionOutcome {
                        revision: target.revision,
                        outcome: Outcome::Failed,
                        at: now.to_owned(),
                        message: message.clone(),
                    },
                );
                event = Some(Notice {
                    warning: true,
                    reason: "RolloutFailed".into(),
                    note: text.clone(),
                    revision: Some(target.revision),
                });
                (
                    Phase::Degraded,
                    ("False", "RollingBack", text.clone()),
                    ("True", "RollingBack", text.clone()),
                    Some(("RolloutFailed", text)),
                )
            } else {
                if old.phase != Some(Phase::Degraded) {
                    event = Some(Notice {
                        warning: true,
                        reason: "ProgressDeadlineExceeded".into(),
                        note: message.clone(),
                        revision: Some(target.revision),
                    });
                }
                (
                    Phase::Degraded,
                    ("False", "ProgressDeadlineExceeded", message.clone()),
                    ("False", "ProgressDeadlineExceeded", message.clone()),
                    Some(("ProgressDeadlineExceeded", message)),
                )
            }
        }
    };
    // A rolled-back failure stays visible as Degraded until the spec moves on.
    if degraded.is_none()
        && let Some(failed) = status.failed_revision
    {
        degraded = Some((
            "RolloutFailed",
            format!(
                "revision {failed} failed and was rolled back to revision {}",
                target.revision
            ),
        ));
    }
    status.history.truncate(STATUS_HISTORY);
    let (db_ready, db_reason, db_message) = database_ready(spec, observed.database.as_deref());
    status.phase = Some(if phase == Phase::Ready && degraded.is_some() {
        Phase::Degraded
    } else {
        phase
    });
    let condition = |type_: &str, state: &str, reason: &str, message: String| {
        condition_of(
            &old.conditions,
            generation,
            now,
            type_,
            state,
            reason,
            message,
        )
    };
    status.conditions = vec![
        condition("Ready", ready_cond.0, ready_cond.1, ready_cond.2),
        condition("Progressing", progressing.0, progressing.1, progressing.2),
        match degraded {
            Some((reason, message)) => condition("Degraded", "True", reason, message),
            None => condition("Degraded", "False", "Healthy", String::new()),
        },
        condition(
            "DatabaseReady",
            if db_ready { "True" } else { "False" },
            db_reason,
            db_message,
        ),
        condition(REVISION_ACCEPTED, "True", "Accepted", String::new()),
    ];
    Computed {
        status,
        rollout,
        rolled_back,
        event,
    }
}

/// A condition about `generation`, keeping its transition time when its status is unchanged.
fn condition_of(
    old: &[Condition],
    generation: Option<i64>,
    now: &str,
    type_: &str,
    state: &str,
    reason: &str,
    message: String,
) -> Condition {
    let since = match old.iter().find(|c| c.type_ == type_) {
        Some(previous) if previous.status == state => previous.last_transition_time.clone(),
        _ => now.to_owned(),
    };
    Condition {
        type_: type_.to_owned(),
        status: state.to_owned(),
        reason: reason.to_owned(),
        message,
        last_transition_time: since,
        observed_generation: generation,
    }
}

/// Replaces the condition of the same type, or adds it.
fn set(conditions: &mut Vec<Condition>, condition: Condition) {
    match conditions.iter_mut().find(|c| c.type_ == condition.type_) {
        Some(existing) => *existing = condition,
        None => conditions.push(condition),
    }
}

/// The status when the spec changed the configuration of a revision that already has its
/// (immutable) ConfigMap: what the operator runs is unchanged, so is the status, except
/// `RevisionAccepted=False` (`RevisionImmutable`); `observedGeneration` stays at the last
/// generation acted on. The event comes with the first reconcile that sees this generation.
pub fn revision_refused(
    instance: &AuthStackInstance,
    message: String,
    now: &str,
) -> (AuthStackInstanceStatus, Option<Notice>) {
    let mut status = instance.status.clone().unwrap_or_default();
    let generation = instance.metadata.generation;
    let reported = status.conditions.iter().any(|c| {
        c.type_ == REVISION_ACCEPTED && c.status == "False" && c.observed_generation == generation
    });
    let refused = condition_of(
        &status.conditions,
        generation,
        now,
        REVISION_ACCEPTED,
        "False",
        "RevisionImmutable",
        message.clone(),
    );
    set(&mut status.conditions, refused);
    let event = (!reported).then(|| Notice {
        warning: true,
        reason: "RevisionImmutable".into(),
        note: message,
        revision: Some(instance.spec.revision),
    });
    (status, event)
}

/// The status of an instance whose CloudNativePG database cannot be made (`message` says
/// why): `Degraded` with `DatabaseReady=False` (`DatabaseUnavailable`); what was running is
/// left as it was.
pub fn database_unavailable(
    instance: &AuthStackInstance,
    message: String,
    now: &str,
) -> AuthStackInstanceStatus {
    let mut status = instance.status.clone().unwrap_or_default();
    let generation = instance.metadata.generation;
    status.observed_generation = generation;
    status.endpoint = Some(render::endpoint(instance));
    status.phase = Some(Phase::Degraded);
    let reason = "DatabaseUnavailable";
    let old = status.conditions.clone();
    let condition = |type_: &str, state: &str, message: &str| {
        condition_of(
            &old,
            generation,
            now,
            type_,
            state,
            reason,
            message.to_owned(),
        )
    };
    // A new instance has nothing running; one that ran keeps its Ready and Progressing.
    for type_ in ["Ready", "Progressing"] {
        if !old.iter().any(|c| c.type_ == type_) {
            set(&mut status.conditions, condition(type_, "False", &message));
        }
    }
    set(
        &mut status.conditions,
        condition("Degraded", "True", &message),
    );
    set(
        &mut status.conditions,
        condition("DatabaseReady", "False", &message),
    );
    status
}
