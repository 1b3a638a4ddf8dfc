//! Branding: the primary color, the logo and light or dark mode.

use serde_json::json;

use super::draft::{Draft, Step};
use super::tokens::{Prompt, hex_color};
use super::words::COLORS;
use crate::customize::planner::contrast;

pub(super) fn primary_color(prompt: &Prompt, draft: &mut Draft) -> Step {
    let hex = prompt.words.iter().find_map(|w| hex_color(&w.lower));
    let named = COLORS.iter().any(|(name, _)| prompt.has(name));
    let about_color = prompt.any(&["color", "colour", "colors", "colours"])
        || (named && prompt.any(&["brand", "primary", "accent", "button", "buttons"]));
    if hex.is_none() && !about_color {
        return Step::NotAsked;
    }
    let color = hex.or_else(|| {
        COLORS
            .iter()
            .find(|(name, _)| prompt.has(name))
            .map(|(_, hex)| (*hex).to_owned())
    });
    let Some(color) = color else {
        return Step::Refused(
            "Which color? Name one (blue, dark green, ...) or give a hex code like #4f46e5.".into(),
        );
    };
    let changed = draft.set("/branding/primary_color", json!(color));
    let warning = contrast::warning(&color)
        .map(|w| format!(" {w}"))
        .unwrap_or_default();
    draft.say(
        changed,
        format!("Set the primary color to {color}.{warning}"),
        format!("The primary color is already {color}."),
    );
    Step::Done
}

pub(super) fn logo(prompt: &Prompt, draft: &mut Draft) -> Step {
    let anchors = prompt.anchors(&["logo", "logos"]);
    if anchors.is_empty() {
        return Step::NotAsked;
    }
    let Some(url) = prompt.url_near(&anchors) else {
        return Step::Refused(
            "Where is the logo? Say e.g. \"use https://example.com/logo.svg as logo\".".into(),
        );
    };
    let changed = draft.set("/branding/logo_url", json!(url));
    draft.say(
        changed,
        format!("Show the logo from {url}."),
        format!("The logo is already {url}."),
    );
    Step::Done
}

pub(super) fn appearance(prompt: &Prompt, draft: &mut Draft) -> Step {
    let modes = ["mode", "theme", "appearance", "scheme"];
    let before_mode = |words: &[&str]| {
        words.iter().any(|w| {
            prompt
                .find(w)
                .into_iter()
                .any(|i| prompt.word(i + 1).is_some_and(|next| modes.contains(&next)))
        })
    };
    let auto = before_mode(&["auto", "automatic", "system", "os"])
        || prompt.any(&[
            "follow the system",
            "follows the system",
            "system setting",
            "system settings",
            "prefers color scheme",
        ]);
    let dark = before_mode(&["dark", "night"]);
    let light = before_mode(&["light"]);
    let (value, done) = if auto {
        (
            "auto",
            "Follow each user's system setting for light or dark mode.",
        )
    } else if dark {
        (
            "dark",
            "Switch the sign-in pages and components to dark mode.",
        )
    } else if light {
        (
            "light",
            "Switch the sign-in pages and components to light mode.",
        )
    } else {
        return Step::NotAsked;
    };
    let changed = draft.set("/branding/appearance", json!(value));
    draft.say(changed, done, format!("The appearance is already {value}."));
    Step::Done
}

#[cfg(test)]
mod tests {
    use super::super::testing;

    /// Prompts for these rules and their patches (see [`testing::assert_patches`]).
    #[rustfmt::skip]
    const CASES: &[(&str, &[&str])] = &[
        ("Make the primary color blue", &["replace /branding/primary_color \"#0000ff\""]),
        ("make the login buttons red", &["replace /branding/primary_color \"#ff0000\""]),
        ("change our brand colour to dark green", &["replace /branding/primary_color \"#006400\""]),
        ("Set the primary color to #FF5500.", &["replace /branding/primary_color \"#ff5500\""]),
        ("color: #0af", &["replace /branding/primary_color \"#00aaff\""]),
        ("Use https://cdn.example.com/Brand/Logo.svg as logo", &["replace /branding/logo_url \"https://cdn.example.com/Brand/Logo.svg\""]),
        ("set our logo to \"https://example.com/logo.png\".", &["replace /branding/logo_url \"https://example.com/logo.png\""]),
        ("Enable dark mode", &["replace /branding/appearance \"dark\""]),
        ("switch the login page to a dark theme", &["replace /branding/appearance \"dark\""]),
        ("Use auto dark mode that follows the system setting", &["replace /branding/appearance \"auto\""]),
    ];

    #[test]
    fn each_prompt_becomes_its_patch() {
        testing::assert_patches(CASES);
    }
}
