//! The languages of the hosted pages (`i18n`): only those the pages are translated to.

use authstack_instance::pages::Language;
use serde_json::json;

use super::draft::{Draft, Step};
use super::tokens::Prompt;
use super::words::LANGUAGES;

fn title_case(text: &str) -> String {
    text.split(' ')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|first| first.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn languages(prompt: &Prompt, draft: &mut Draft) -> Step {
    let named = LANGUAGES.iter().any(|(name, _)| prompt.has(name));
    let asked = prompt.has_prefix("translat")
        || prompt.has_prefix("locali")
        || prompt.any(&["language", "languages", "i18n"])
        || (named && prompt.any(&["support", "offer", "available"]));
    if !asked {
        return Step::NotAsked;
    }
    // In the order of the prompt; "Brazilian Portuguese" is not also "Portuguese".
    let mut found: Vec<(usize, &str, &str)> = Vec::new();
    let mut taken = Vec::new();
    for (name, code) in LANGUAGES {
        for at in prompt.find(name) {
            let len = name.split(' ').count();
            if (at..at + len).any(|i| taken.contains(&i)) {
                continue;
            }
            taken.extend(at..at + len);
            found.push((at, code, name));
        }
    }
    if found.is_empty() {
        let known: Vec<&str> = LANGUAGES.iter().map(|(name, _)| *name).collect();
        return Step::Refused(format!("Which languages? I know {}.", known.join(", ")));
    }
    found.sort_unstable();
    let untranslated: Vec<String> = found
        .iter()
        .filter(|(_, code, _)| Language::of_tag(code).is_none())
        .map(|(_, _, name)| title_case(name))
        .collect();
    if !untranslated.is_empty() {
        let offered: Vec<String> = LANGUAGES
            .iter()
            .filter(|(_, code)| Language::of_tag(code).is_some())
            .map(|(name, _)| title_case(name))
            .collect();
        return Step::Refused(format!(
            "The hosted pages are not translated to {} yet; they speak {}.",
            untranslated.join(", "),
            offered.join(", ")
        ));
    }
    let i18n = &draft.config().i18n;
    let mut languages = if i18n.languages.is_empty() {
        vec![i18n.default_language.clone()]
    } else {
        i18n.languages.clone()
    };
    let mut added = Vec::new();
    for (_, code, name) in found {
        if !languages.iter().any(|l| l == code) {
            languages.push(code.to_owned());
            added.push(format!("{} ({code})", title_case(name)));
        }
    }
    let changed = draft.set("/i18n/languages", json!(languages));
    draft.say(
        changed,
        format!(
            "Offer the hosted pages in {} as well (languages: {}).",
            added.join(", "),
            languages.join(", ")
        ),
        format!(
            "Those languages are already offered ({}).",
            languages.join(", ")
        ),
    );
    Step::Done
}

#[cfg(test)]
mod tests {
    use super::super::testing;

    /// Prompts for these rules and their patches (see [`testing::assert_patches`]).
    #[rustfmt::skip]
    const CASES: &[(&str, &[&str])] = &[
        ("Translate to French and German", &["replace /i18n/languages [\"en\",\"fr\",\"de\"]"]),
        ("We need to support German", &["replace /i18n/languages [\"en\",\"de\"]"]),
    ];

    #[test]
    fn each_prompt_becomes_its_patch() {
        testing::assert_patches(CASES);
    }

    #[test]
    fn untranslated_languages_are_refused_by_name() {
        let current = authstack_instance::config::InstanceConfig::default();
        let message = testing::refusal("Add Spanish and German as languages", &current, "pro");
        assert!(
            message.contains("not translated to Spanish yet; they speak English, French, German"),
            "{message}"
        );
    }
}
