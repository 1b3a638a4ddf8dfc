//! The patch a prompt's rules write, and what each rule made of the prompt.

use authstack_instance::config::InstanceConfig;
use serde_json::{Value, json};

use crate::customize::planner::PlanContext;

/// Whether a rule was asked for, and what became of it.
pub(super) enum Step {
    NotAsked,
    Done,
    Refused(String),
}

/// The patch being written: operations, the document as they leave it (so later rules see
/// earlier changes), and what to tell the customer.
pub(super) struct Draft<'a> {
    pub(super) context: &'a PlanContext<'a>,
    document: Value,
    pub(super) ops: Vec<Value>,
    pub(super) sentences: Vec<String>,
}

impl<'a> Draft<'a> {
    pub(super) fn new(context: &'a PlanContext<'a>) -> anyhow::Result<Self> {
        Ok(Draft {
            context,
            document: serde_json::to_value(context.current)?,
            ops: Vec::new(),
            sentences: Vec::new(),
        })
    }

    pub(super) fn config(&self) -> &InstanceConfig {
        self.context.current
    }

    pub(super) fn get(&self, pointer: &str) -> Option<&Value> {
        self.document.pointer(pointer)
    }

    /// Replaces the value at `pointer` unless it already is `value`; true when it changed.
    pub(super) fn set(&mut self, pointer: &str, value: Value) -> bool {
        match self.document.pointer_mut(pointer) {
            Some(slot) if *slot == value => false,
            Some(slot) => {
                *slot = value.clone();
                self.ops
                    .push(json!({"op": "replace", "path": pointer, "value": value}));
                true
            }
            // Every field is serialized, so this is a rule naming a field that does not exist:
            // let apply() report it rather than guessing.
            None => {
                self.ops
                    .push(json!({"op": "replace", "path": pointer, "value": value}));
                true
            }
        }
    }

    /// Appends `value` to the array at `pointer`.
    pub(super) fn push(&mut self, pointer: &str, value: Value) {
        if let Some(Value::Array(items)) = self.document.pointer_mut(pointer) {
            items.push(value.clone());
        }
        self.ops
            .push(json!({"op": "add", "path": format!("{pointer}/-"), "value": value}));
    }

    /// Says what happened: `done` when something changed, `already` when it was in place.
    pub(super) fn say(
        &mut self,
        changed: bool,
        done: impl Into<String>,
        already: impl Into<String>,
    ) {
        self.sentences
            .push(if changed { done.into() } else { already.into() });
    }
}

#[cfg(test)]
mod tests {
    use authstack_instance::config::InstanceConfig;
    use serde_json::json;

    use super::Draft;
    use crate::customize::planner::PlanContext;

    #[test]
    fn later_rules_see_earlier_changes_and_unchanged_values_add_no_operation() {
        let current = InstanceConfig::default();
        let context = PlanContext {
            current: &current,
            plan: "pro",
            sso: true,
        };
        let mut draft = Draft::new(&context).expect("serializable");
        assert!(draft.set("/branding/appearance", json!("dark")));
        assert_eq!(draft.get("/branding/appearance"), Some(&json!("dark")));
        assert!(!draft.set("/branding/appearance", json!("dark")));
        draft.push(
            "/webhooks",
            json!({"url": "https://example.com/hook", "events": ["auth.*"]}),
        );
        assert_eq!(
            draft.get("/webhooks/0/url"),
            Some(&json!("https://example.com/hook"))
        );
        assert_eq!(draft.ops.len(), 2);
    }
}
