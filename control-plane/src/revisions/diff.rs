//! The difference between two configurations: a list of changed fields (dotted paths, lists
//! compared whole) and the same as readable text.

use std::collections::BTreeMap;

use authstack_instance::config::InstanceConfig;
use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One field that differs.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
#[schema(as = FieldChange)]
pub struct Change {
    /// `passwords.min_length`, `auth.social.google.enabled`, `webhooks`.
    pub path: String,
    pub kind: ChangeKind,
    /// The old value (any JSON); absent or `null` when added.
    #[schema(required = true, value_type = Option<serde_json::Value>)]
    pub from: Option<Value>,
    /// The new value (any JSON); absent or `null` when removed.
    #[schema(required = true, value_type = Option<serde_json::Value>)]
    pub to: Option<Value>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Diff {
    pub changes: Vec<Change>,
    /// One line per change: `~ passwords.min_length: 8 -> 12`, `+ …`, `- …`.
    pub text: String,
}

impl Diff {
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

pub fn diff(from: &InstanceConfig, to: &InstanceConfig) -> Diff {
    let (from, to) = (to_value(from), to_value(to));
    let mut before = BTreeMap::new();
    let mut after = BTreeMap::new();
    flatten("", &from, &mut before);
    flatten("", &to, &mut after);
    let mut changes = Vec::new();
    for (path, old) in &before {
        match after.get(path) {
            Some(new) if new == old => {}
            Some(new) => changes.push(change(path, Some(old), Some(new))),
            None => changes.push(change(path, Some(old), None)),
        }
    }
    for (path, new) in &after {
        if !before.contains_key(path) {
            changes.push(change(path, None, Some(new)));
        }
    }
    changes.sort_by(|a, b| a.path.cmp(&b.path));
    let text = changes.iter().map(line).collect::<Vec<_>>().join("\n");
    Diff { changes, text }
}

fn to_value(config: &InstanceConfig) -> Value {
    serde_json::to_value(config).unwrap_or(Value::Null)
}

/// Objects are walked; everything else (lists included) is a leaf. A `null` counts as absent.
fn flatten<'a>(prefix: &str, value: &'a Value, out: &mut BTreeMap<String, &'a Value>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(&path, value, out);
            }
        }
        Value::Null => {}
        leaf => {
            out.insert(prefix.to_owned(), leaf);
        }
    }
}

fn change(path: &str, from: Option<&&Value>, to: Option<&&Value>) -> Change {
    let kind = match (from, to) {
        (Some(_), Some(_)) => ChangeKind::Changed,
        (None, _) => ChangeKind::Added,
        (_, None) => ChangeKind::Removed,
    };
    Change {
        path: path.to_owned(),
        kind,
        from: from.map(|v| (*v).clone()),
        to: to.map(|v| (*v).clone()),
    }
}

fn line(change: &Change) -> String {
    let show = |value: &Option<Value>| value.as_ref().map_or("(unset)".into(), Value::to_string);
    match change.kind {
        ChangeKind::Changed => format!(
            "~ {}: {} -> {}",
            change.path,
            show(&change.from),
            show(&change.to)
        ),
        ChangeKind::Added => format!("+ {}: {}", change.path, show(&change.to)),
        ChangeKind::Removed => format!("- {}: {}", change.path, show(&change.from)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_configs_have_no_changes() {
        let config = InstanceConfig::default();
        assert!(diff(&config, &config).is_empty());
    }

    #[test]
    fn changed_added_and_removed_fields_are_listed_by_path() {
        let before = InstanceConfig::default();
        let mut after = before.clone();
        after.passwords.min_length = 12;
        after.branding.logo_url = Some("https://example.com/logo.png".into());
        after.i18n.languages = vec!["en".into(), "fr".into()];
        let diff = diff(&before, &after);
        let paths: Vec<_> = diff.changes.iter().map(|c| c.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "branding.logo_url",
                "i18n.languages",
                "passwords.min_length"
            ]
        );
        assert_eq!(diff.changes[0].kind, ChangeKind::Added);
        assert_eq!(diff.changes[2].kind, ChangeKind::Changed);
        assert!(diff.text.contains("~ passwords.min_length: 8 -> 12"));
        assert!(
            diff.text
                .contains("+ branding.logo_url: \"https://example.com/logo.png\"")
        );

        let back = super::diff(&after, &before);
        assert_eq!(back.changes[0].kind, ChangeKind::Removed);
        assert!(back.text.contains("- branding.logo_url"));
    }
}
