//! Reading a resource's status: where a rollout stands, and what the watch observes between
//! applies (pods lost, a rollout rolled back).

use super::*;

/// Where a resource's rollout of one revision stands, from its status.
#[derive(Debug, Clone, PartialEq)]
pub enum Rollout {
    /// The operator has not acted on the current spec yet.
    Pending,
    /// The operator is rolling the revision out.
    Progressing {
        database_ready: bool,
        /// The `Ready` condition's message, e.g. `0/2 replicas ready`.
        message: String,
    },
    /// The revision runs and is available at `endpoint`.
    Ready { endpoint: String },
    /// The revision failed (and, where there was a healthy one, was rolled back).
    Failed { message: String },
}

pub(super) fn condition_true(instance: &AuthStackInstance, type_: &str) -> bool {
    instance
        .condition(type_)
        .is_some_and(|c| c.status == "True")
}

/// Where `instance`'s rollout of `revision` stands.
pub fn rollout(instance: &AuthStackInstance, revision: i64) -> Rollout {
    let Some(status) = &instance.status else {
        return Rollout::Pending;
    };
    let degraded = instance
        .condition("Degraded")
        .filter(|c| c.status == "True");
    if status.failed_revision == Some(revision) {
        let message = degraded.map(|c| c.message.clone()).unwrap_or_else(|| {
            format!("revision {revision} failed to roll out and was rolled back")
        });
        return Rollout::Failed { message };
    }
    let generation = instance.metadata.generation.unwrap_or(0);
    // The operator refused this generation (a revision's configuration is immutable): it will
    // never observe it, so waiting would hang until the deadline.
    if let Some(refused) = instance.condition("RevisionAccepted").filter(|c| {
        c.status == "False" && c.observed_generation.unwrap_or(generation) == generation
    }) {
        return Rollout::Failed {
            message: refused.message.clone(),
        };
    }
    if status.observed_generation.unwrap_or(0) < generation {
        return Rollout::Pending;
    }
    if status.current_revision == Some(revision) {
        if status.phase == Some(Phase::Ready) {
            return Rollout::Ready {
                endpoint: status
                    .endpoint
                    .clone()
                    .unwrap_or_else(|| render::endpoint(instance)),
            };
        }
        if let Some(degraded) = degraded.filter(|c| c.reason == "ProgressDeadlineExceeded") {
            return Rollout::Failed {
                message: degraded.message.clone(),
            };
        }
    }
    Rollout::Progressing {
        database_ready: condition_true(instance, "DatabaseReady"),
        message: instance
            .condition("Ready")
            .map(|c| c.message.clone())
            .unwrap_or_default(),
    }
}

/// The newest condition change of `instance`: how the background watch tells a newer view of
/// a resource from an older one.
pub(super) fn latest_transition(instance: &AuthStackInstance) -> Option<OffsetDateTime> {
    instance
        .status
        .as_ref()?
        .conditions
        .iter()
        .filter_map(|c| OffsetDateTime::parse(&c.last_transition_time, &Rfc3339).ok())
        .max()
}

/// Whether `instance` ran its revision and no replica serves any more, with no change asked for
/// (a rollout, a suspension, a deletion).
pub(super) fn lost_its_pods(instance: &AuthStackInstance) -> bool {
    let Some(status) = &instance.status else {
        return false;
    };
    let settled = status.observed_generation.unwrap_or(0)
        >= instance.metadata.generation.unwrap_or(0)
        && status.current_revision.is_some()
        && status.current_revision == status.last_healthy_revision;
    settled
        && !instance.spec.suspended
        && instance.metadata.deletion_timestamp.is_none()
        && !matches!(status.phase, Some(Phase::Suspended | Phase::Deleting))
        && instance
            .condition("Ready")
            .is_some_and(|c| c.status == "False")
}

/// What the background watch last told the control plane about an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Health {
    #[default]
    Up,
    Crashed,
    Failed,
}

#[derive(Debug, Default)]
pub(super) struct Observed {
    /// The newest condition change accounted for; views of the resource no newer (a watch
    /// lagging behind an `apply`) are ignored.
    pub(super) watermark: Option<OffsetDateTime>,
    pub(super) health: Health,
}

/// What the provisioner knows of its instances between `apply`s and the background watch.
#[derive(Debug, Default)]
pub(super) struct Observations {
    /// Instances with an `apply` under way: it reports their outcome itself.
    pub(super) applying: HashSet<String>,
    /// By instance id.
    pub(super) seen: HashMap<String, Observed>,
}

impl Observations {
    /// The event a new view of `instance` makes, if any.
    pub(super) fn notice(&mut self, instance: &AuthStackInstance) -> Option<Event> {
        let id = &instance.spec.instance_id;
        let latest = latest_transition(instance);
        let applying = self.applying.contains(id);
        let Some(observed) = self.seen.get_mut(id) else {
            // First sight (the first list after a start): the reconciler's first pass applies
            // every running instance and reports what it finds.
            self.seen.insert(
                id.clone(),
                Observed {
                    watermark: latest,
                    health: Health::Up,
                },
            );
            return None;
        };
        let newer = match (latest, observed.watermark) {
            (Some(latest), Some(watermark)) => latest > watermark,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if !newer {
            return None;
        }
        observed.watermark = latest;
        if applying {
            return None;
        }
        let instance_id = id.clone();
        if let Some(degraded) = instance
            .condition("Degraded")
            .filter(|c| c.status == "True")
        {
            if observed.health == Health::Failed {
                return None;
            }
            observed.health = Health::Failed;
            let detail = if degraded.message.is_empty() {
                degraded.reason.clone()
            } else {
                degraded.message.clone()
            };
            return Some(Event::Failed {
                instance_id,
                detail,
            });
        }
        if lost_its_pods(instance) {
            if observed.health != Health::Up {
                return None;
            }
            observed.health = Health::Crashed;
            let detail = instance
                .condition("Ready")
                .map(|c| c.message.clone())
                .unwrap_or_default();
            return Some(Event::Crashed {
                instance_id,
                detail,
            });
        }
        let ready = instance.status.as_ref().and_then(|s| s.phase) == Some(Phase::Ready)
            && condition_true(instance, "Ready");
        if ready && observed.health != Health::Up {
            observed.health = Health::Up;
            return Some(Event::Ready { instance_id });
        }
        None
    }

    /// Records how an `apply` ended, so that the watch does not report it again.
    pub(super) fn concluded(&mut self, instance: &AuthStackInstance, ready: bool) {
        let observed = self
            .seen
            .entry(instance.spec.instance_id.clone())
            .or_default();
        observed.watermark = observed.watermark.max(latest_transition(instance));
        observed.health = if ready { Health::Up } else { Health::Failed };
    }
}
