//! What organizations may do for themselves: custom roles.

use serde_json::json;

use super::draft::{Draft, Step};
use super::tokens::Prompt;

pub(super) fn custom_roles(prompt: &Prompt, draft: &mut Draft) -> Step {
    let roles = prompt.anchors(&["role", "roles"]);
    if roles.is_empty()
        || !prompt.any(&[
            "custom",
            "own",
            "define",
            "create",
            "their own",
            "additional",
        ])
    {
        return Step::NotAsked;
    }
    let mut changed = draft.set("/organizations/custom_roles", json!(true));
    let limit = prompt.count_near(&roles, 4);
    if let Some(limit) = limit {
        changed |= draft.set(
            "/organizations/max_custom_roles_per_organization",
            json!(limit),
        );
    }
    let up_to = limit.map_or(String::new(), |n| format!(" (up to {n} per organization)"));
    draft.say(
        changed,
        format!("Let organization admins define custom roles{up_to}."),
        format!("Organizations may already define custom roles{up_to}."),
    );
    Step::Done
}

#[cfg(test)]
mod tests {
    use super::super::testing;

    /// Prompts for these rules and their patches (see [`testing::assert_patches`]).
    #[rustfmt::skip]
    const CASES: &[(&str, &[&str])] = &[
        ("Let organizations create custom roles, up to 5 custom roles", &["replace /organizations/max_custom_roles_per_organization 5"]),
        ("allow up to 50 custom roles per organization", &["replace /organizations/max_custom_roles_per_organization 50"]),
    ];

    #[test]
    fn each_prompt_becomes_its_patch() {
        testing::assert_patches(CASES);
    }
}
