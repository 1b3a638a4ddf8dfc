//! Which language a hosted page speaks: the first of the request's `ui_locales` (OpenID
//! Connect Core §3.1.2.1, carried by the sign-in flow), else the browser's `Accept-Language`,
//! that the instance offers (`i18n.languages`, or its `i18n.default_language` alone); else the
//! default language. Tags match by their primary subtag (`de-AT` is German).

use super::text::{self, Text};
use crate::config::I18nConfig;

pub use crate::languages::Language;

/// The page texts of `language`.
pub fn text(language: Language) -> &'static Text {
    match language {
        Language::English => &text::EN,
        Language::German => &text::DE,
        Language::French => &text::FR,
    }
}

/// The languages the instance offers that the pages are translated to, in its order.
pub fn offered(config: &I18nConfig) -> Vec<Language> {
    let tags = if config.languages.is_empty() {
        std::slice::from_ref(&config.default_language)
    } else {
        config.languages.as_slice()
    };
    let mut offered = Vec::new();
    for language in tags.iter().filter_map(|tag| Language::of_tag(tag)) {
        if !offered.contains(&language) {
            offered.push(language);
        }
    }
    offered
}

/// The page's language for a request with these `ui_locales` and `Accept-Language`.
pub fn negotiate(
    config: &I18nConfig,
    ui_locales: Option<&str>,
    accept_language: Option<&str>,
) -> Language {
    let offered = offered(config);
    let wanted = ui_locales
        .into_iter()
        .flat_map(str::split_whitespace)
        .map(str::to_owned)
        .chain(accept_language.map(by_preference).unwrap_or_default());
    for tag in wanted {
        if let Some(language) = Language::of_tag(&tag).filter(|l| offered.contains(l)) {
            return language;
        }
    }
    Language::of_tag(&config.default_language).unwrap_or(Language::English)
}

/// An `Accept-Language` header's tags, most preferred first (`q=0` and `*` dropped).
fn by_preference(header: &str) -> Vec<String> {
    let mut tags: Vec<(u16, usize, &str)> = Vec::new();
    for (at, item) in header.split(',').take(32).enumerate() {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let quality = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .map_or(Some(1000), |q| {
                q.trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|q| (0.0..=1.0).contains(q))
                    .map(|q| (q * 1000.0).round() as u16)
            });
        match quality {
            Some(q) if q > 0 && !tag.is_empty() && tag != "*" => tags.push((q, at, tag)),
            _ => {}
        }
    }
    tags.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    tags.into_iter().map(|(_, _, tag)| tag.to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(default: &str, languages: &[&str]) -> I18nConfig {
        I18nConfig {
            default_language: default.into(),
            languages: languages.iter().map(|l| (*l).to_owned()).collect(),
        }
    }

    #[test]
    fn ui_locales_come_first_then_the_browser_then_the_default() {
        let both = config("en", &["en", "de"]);
        assert_eq!(
            negotiate(&both, Some("fr de"), Some("en")),
            Language::German
        );
        assert_eq!(
            negotiate(&both, None, Some("fr-CA, de-AT;q=0.5, en;q=0.4")),
            Language::German
        );
        assert_eq!(
            negotiate(&both, None, Some("en;q=0.2, de;q=0.9")),
            Language::German
        );
        assert_eq!(
            negotiate(&both, None, Some("de;q=0, fr")),
            Language::English
        );
        assert_eq!(negotiate(&both, None, None), Language::English);
        // Only what the instance offers: French is translated but not offered here.
        assert_eq!(negotiate(&both, Some("fr"), None), Language::English);
        let german = config("de", &[]);
        assert_eq!(negotiate(&german, None, Some("en")), Language::German);
        assert_eq!(negotiate(&german, None, Some("q=;;,,x")), Language::German);
    }

    #[test]
    fn tags_match_by_their_primary_subtag() {
        assert_eq!(Language::of_tag("FR-ch"), Some(Language::French));
        assert_eq!(Language::of_tag("de_DE"), Some(Language::German));
        assert_eq!(Language::of_tag("pt-BR"), None);
    }
}
