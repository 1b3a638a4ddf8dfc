//! Drift: whether the cached cluster state already has what the operator would apply, so that
//! a converged instance costs no API call.

use kube::api::DynamicObject;
use serde_json::Value;

/// Whether everything the operator would apply is already there (what the API server added,
/// defaults and other managers' fields, does not matter).
pub fn is_applied(desired: &Value, observed: &DynamicObject) -> bool {
    let observed = match serde_json::to_value(observed) {
        Ok(value) => value,
        Err(_) => return false,
    };
    let mut desired = desired.clone();
    if let Some(object) = desired.as_object_mut() {
        object.remove("apiVersion");
        object.remove("kind");
    }
    contains(&desired, &observed)
}

/// `want ⊆ have`: every field of `want` is in `have` with the same value; lists match element
/// by element.
pub fn contains(want: &Value, have: &Value) -> bool {
    match (want, have) {
        (Value::Object(want), Value::Object(have)) => want.iter().all(|(key, value)| {
            have.get(key)
                .is_some_and(|present| contains(value, present))
                || (value.is_null() && !have.contains_key(key))
        }),
        (Value::Array(want), Value::Array(have)) => {
            want.len() == have.len() && want.iter().zip(have).all(|(w, h)| contains(w, h))
        }
        (Value::Number(want), Value::Number(have)) => want.as_f64() == have.as_f64(),
        _ => want == have,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::contains;

    #[test]
    fn what_the_api_server_adds_is_not_drift() {
        let want = json!({ "spec": { "replicas": 2, "ports": [{ "port": 8080 }] } });
        let have = json!({
            "spec": { "replicas": 2, "revisionHistoryLimit": 10, "ports": [{ "port": 8080, "protocol": "TCP" }] },
            "status": { "readyReplicas": 2 },
        });
        assert!(contains(&want, &have));
    }

    #[test]
    fn a_changed_or_missing_field_is_drift() {
        let want = json!({ "spec": { "replicas": 2, "ports": [{ "port": 8080 }] } });
        assert!(!contains(
            &want,
            &json!({ "spec": { "replicas": 3, "ports": [{ "port": 8080 }] } })
        ));
        assert!(!contains(
            &want,
            &json!({ "spec": { "ports": [{ "port": 8080 }] } })
        ));
        // A list with an element more or less is a different list.
        assert!(!contains(
            &want,
            &json!({ "spec": { "replicas": 2, "ports": [{ "port": 8080 }, { "port": 9090 }] } })
        ));
        assert!(
            !contains(&json!("1"), &json!(1)),
            "a string is not a number"
        );
    }

    #[test]
    fn numbers_compare_by_value_and_null_means_absent() {
        assert!(contains(&json!({ "a": 1 }), &json!({ "a": 1.0 })));
        assert!(contains(&json!({ "a": null }), &json!({})));
        assert!(!contains(&json!({ "a": null }), &json!({ "a": 1 })));
    }
}
