//! The languages the hosted pages are translated to, as the configuration names them. A leaf:
//! the configuration checks `i18n` against it, the pages add their texts (`pages::language`).

/// A language the hosted pages are translated to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    English,
    German,
    French,
}

impl Language {
    /// Every translation, English first.
    pub const ALL: [Language; 3] = [Language::English, Language::German, Language::French];

    /// The page's `lang`.
    pub fn tag(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::German => "de",
            Language::French => "fr",
        }
    }

    /// The translation for a language tag, by its primary subtag (case-insensitive).
    pub fn of_tag(tag: &str) -> Option<Language> {
        let primary = tag.split(['-', '_']).next()?.trim();
        Language::ALL
            .into_iter()
            .find(|language| language.tag().eq_ignore_ascii_case(primary))
    }

    /// The tags of every translation, for messages (`en, de, fr`).
    pub fn tags() -> String {
        Language::ALL.map(Language::tag).join(", ")
    }
}
