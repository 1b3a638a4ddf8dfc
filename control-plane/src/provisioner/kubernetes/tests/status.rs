//! How the provisioner reads the operator's statuses: a rollout's outcome, and what the
//! background watch reports (once) about pods lost, recovery and failures.

use super::*;

#[test]
fn rollout_reads_ready_failed_and_stale_statuses() {
    let spec = spec("starter", Environment::Live);
    let at = "2026-01-01T00:00:00Z";
    assert_eq!(
        rollout(&instance(resource(&spec, 1, "1", None)), 1),
        Rollout::Pending
    );
    assert_eq!(
        rollout(
            &instance(resource(&spec, 1, "1", Some(ready_status(1, 1, at)))),
            1
        ),
        Rollout::Ready {
            endpoint: ENDPOINT.into()
        }
    );
    // Ready, but at the previous generation: the operator has not seen the new spec yet.
    assert_eq!(
        rollout(
            &instance(resource(&spec, 2, "1", Some(ready_status(1, 1, at)))),
            1
        ),
        Rollout::Pending
    );
    assert_eq!(
        rollout(
            &instance(resource(&spec, 2, "1", Some(ready_status(1, 2, at)))),
            2
        ),
        Rollout::Progressing {
            database_ready: true,
            message: "revision 1 is available".into()
        }
    );
    let rolled_back = "revision 2 failed and was rolled back to revision 1";
    let mut failed = degraded(ready_status(1, 2, at), rolled_back, at);
    failed["failedRevision"] = json!(2);
    assert_eq!(
        rollout(&instance(resource(&spec, 2, "1", Some(failed))), 2),
        Rollout::Failed {
            message: "revision 2 failed and was rolled back to revision 1".into()
        }
    );
    // A configuration changed under the same revision: the operator refuses the generation.
    let mut refused = ready_status(1, 1, at);
    refused["conditions"]
        .as_array_mut()
        .expect("conditions")
        .push(json!({
            "type": "RevisionAccepted",
            "status": "False",
            "reason": "RevisionImmutable",
            "message": "revision 1's configuration changed; publish a new revision",
            "lastTransitionTime": at,
            "observedGeneration": 2,
        }));
    assert_eq!(
        rollout(&instance(resource(&spec, 2, "1", Some(refused))), 1),
        Rollout::Failed {
            message: "revision 1's configuration changed; publish a new revision".into()
        }
    );
    // A first revision that never became available (nothing to roll back to).
    let mut stuck = progressing_status(1, 1, true, at);
    stuck["phase"] = json!("Degraded");
    stuck["conditions"][2] = condition(
        "Degraded",
        "True",
        "ProgressDeadlineExceeded",
        "revision 1 did not become available within 300s",
        at,
    );
    assert_eq!(
        rollout(&instance(resource(&spec, 1, "1", Some(stuck))), 1),
        Rollout::Failed {
            message: "revision 1 did not become available within 300s".into()
        }
    );
}

#[test]
fn the_watch_reports_lost_pods_recovery_and_failures_once_and_ignores_stale_views() {
    let spec = spec("starter", Environment::Live);
    let view = |status: Value| instance(resource(&spec, 1, "1", Some(status)));
    let mut observations = Observations::default();
    let id = "ins_test".to_owned();

    // First sight: nothing to say.
    assert_eq!(
        observations.notice(&view(ready_status(1, 1, "2026-01-01T00:00:00Z"))),
        None
    );
    let lost = view(lost_pods_status(1, "2026-01-01T00:01:00Z"));
    assert_eq!(
        observations.notice(&lost),
        Some(Event::Crashed {
            instance_id: id.clone(),
            detail: "0/1 replicas ready".into()
        })
    );
    assert_eq!(observations.notice(&lost), None, "reported once");
    assert_eq!(
        observations.notice(&view(ready_status(1, 1, "2026-01-01T00:02:00Z"))),
        Some(Event::Ready {
            instance_id: id.clone()
        })
    );
    // An older view arriving late changes nothing.
    assert_eq!(observations.notice(&lost), None);

    let at = "2026-01-01T00:03:00Z";
    let rolled_back = "revision 2 failed and was rolled back to revision 1";
    let mut degraded = degraded(ready_status(1, 1, at), rolled_back, at);
    assert_eq!(
        observations.notice(&view(degraded.clone())),
        Some(Event::Failed {
            instance_id: id.clone(),
            detail: "revision 2 failed and was rolled back to revision 1".into()
        })
    );
    degraded["conditions"][3]["lastTransitionTime"] = json!("2026-01-01T00:04:00Z");
    assert_eq!(observations.notice(&view(degraded)), None, "still failed");

    // During an apply the apply reports; its conclusion moves the watermark past what it saw.
    observations.applying.insert(id.clone());
    assert_eq!(
        observations.notice(&view(lost_pods_status(1, "2026-01-01T00:05:00Z"))),
        None
    );
    let concluded = view(ready_status(1, 1, "2026-01-01T00:06:00Z"));
    observations.concluded(&concluded, true);
    observations.applying.remove(&id);
    assert_eq!(
        observations.notice(&view(lost_pods_status(1, "2026-01-01T00:05:30Z"))),
        None,
        "a view older than the apply's outcome"
    );
    assert_eq!(observations.notice(&concluded), None);

    // A suspended instance has no pods on purpose.
    let mut suspended = view(lost_pods_status(1, "2026-01-01T00:07:00Z"));
    suspended.spec.suspended = true;
    assert_eq!(observations.notice(&suspended), None);
}
