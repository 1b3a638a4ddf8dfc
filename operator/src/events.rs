//! Kubernetes Events about an instance, one series per outcome and revision.
//!
//! kube-runtime's `Recorder` folds events with the same type, reason, action and related
//! object into one series that keeps the first note, so an event about a revision names that
//! revision's ConfigMap as its related object: "revision 2 is available" is not counted as
//! another "revision 1 is available".

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder};
use kube::{Resource, ResourceExt};

use crate::crd::AuthStackInstance;
use crate::render::{Kind, Names};
use crate::status::Notice;

/// The Event to record for `notice`.
pub fn event(instance: &AuthStackInstance, notice: &Notice) -> Event {
    let name = instance.name_any();
    let secondary = notice.revision.map(|revision| {
        let config_map = Kind::ConfigMap.api_resource();
        ObjectReference {
            api_version: Some(config_map.api_version),
            kind: Some(config_map.kind),
            name: Some(Names(&name).config_map(revision)),
            namespace: instance.namespace(),
            ..ObjectReference::default()
        }
    });
    Event {
        type_: if notice.warning {
            EventType::Warning
        } else {
            EventType::Normal
        },
        reason: notice.reason.clone(),
        note: Some(notice.note.clone()),
        action: "Reconcile".into(),
        secondary,
    }
}

/// Records `notice`. An event is for people: failing to record one is logged, not an error.
pub async fn publish(recorder: &Recorder, instance: &AuthStackInstance, notice: &Notice) {
    if let Err(err) = recorder
        .publish(&event(instance, notice), &instance.object_ref(&()))
        .await
    {
        tracing::warn!(error = %err, reason = %notice.reason, "recording an event failed");
    }
}
