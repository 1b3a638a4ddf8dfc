//! The prompt as words, and the values pulled out of it: counts, durations, URLs and colors.

use authstack_instance::config::IpNet;

use super::words::REQUIRE;

/// A prompt cut into words: lowercase, punctuation removed, except that URLs (original case),
/// IP networks and `#hex` colors stay whole.
pub(super) struct Prompt {
    pub(super) words: Vec<Word>,
}

pub(super) struct Word {
    pub(super) lower: String,
    pub(super) raw: String,
    /// Followed by `,` `;` `.` `:` `!` or `?`: the end of a clause.
    ends_clause: bool,
}

impl Prompt {
    pub(super) fn parse(text: &str) -> Prompt {
        let mut words = Vec::new();
        for chunk in text.split_whitespace() {
            let ends_clause = chunk
                .trim_end_matches(|c: char| "\"')]>`”’".contains(c))
                .ends_with(|c: char| ".,;:!?".contains(c));
            let chunk = chunk
                .trim_matches(|c: char| "\"'()[]<>`“”‘’".contains(c))
                .trim_end_matches(|c: char| ".,;:!?".contains(c))
                .trim_matches(|c: char| "\"'()[]<>`“”‘’".contains(c));
            let lower = chunk.to_lowercase();
            if lower.starts_with("http://")
                || lower.starts_with("https://")
                || IpNet::parse(chunk).is_ok()
                || hex_color(&lower).is_some()
            {
                words.push(Word {
                    lower,
                    raw: chunk.to_owned(),
                    ends_clause,
                });
                continue;
            }
            let lower = lower.replace('’', "'");
            for part in lower.split(|c: char| !(c.is_alphanumeric() || c == '\'')) {
                let part = part.trim_matches('\'');
                if !part.is_empty() {
                    words.push(Word {
                        lower: part.to_owned(),
                        raw: part.to_owned(),
                        ends_clause: false,
                    });
                }
            }
            if let Some(last) = words.last_mut() {
                last.ends_clause |= ends_clause;
            }
        }
        Prompt { words }
    }

    pub(super) fn word(&self, i: usize) -> Option<&str> {
        self.words.get(i).map(|w| w.lower.as_str())
    }

    /// Where each occurrence of `phrase` (words separated by single spaces) starts.
    pub(super) fn find(&self, phrase: &str) -> Vec<usize> {
        let parts: Vec<&str> = phrase.split(' ').collect();
        (0..self.words.len())
            .filter(|&i| {
                parts
                    .iter()
                    .enumerate()
                    .all(|(k, part)| self.word(i + k) == Some(*part))
            })
            .collect()
    }

    pub(super) fn has(&self, phrase: &str) -> bool {
        !self.find(phrase).is_empty()
    }

    pub(super) fn any(&self, phrases: &[&str]) -> bool {
        phrases.iter().any(|p| self.has(p))
    }

    /// Where any of `phrases` occurs.
    pub(super) fn anchors(&self, phrases: &[&str]) -> Vec<usize> {
        let mut at: Vec<usize> = phrases.iter().flat_map(|p| self.find(p)).collect();
        at.sort_unstable();
        at
    }

    pub(super) fn has_prefix(&self, prefix: &str) -> bool {
        self.words.iter().any(|w| w.lower.starts_with(prefix))
    }

    /// Asks to turn something off or take something away.
    pub(super) fn is_negative(&self) -> bool {
        self.any(&[
            "disable",
            "disabled",
            "deactivate",
            "remove",
            "delete",
            "turn off",
            "switch off",
            "don't",
            "do not",
            "dont",
            "no longer",
            "get rid",
            "stop requiring",
            "stop sending",
        ])
    }

    /// Whether any of `phrases` starts within `reach` words of one of `anchors`, so that in
    /// "enable 2FA and require a phone number" the "require" belongs to the phone number.
    pub(super) fn any_near(&self, phrases: &[&str], anchors: &[usize], reach: usize) -> bool {
        self.anchors(phrases).into_iter().any(|at| {
            anchors
                .iter()
                .any(|&a| a.abs_diff(at) <= reach && self.same_clause(a, at))
        })
    }

    /// No clause ends between words `a` and `b` (punctuation, "and", "also", "then", "but").
    fn same_clause(&self, a: usize, b: usize) -> bool {
        let (from, to) = (a.min(b), a.max(b));
        !(from..to).any(|i| {
            self.words.get(i).is_some_and(|w| w.ends_clause)
                || (i > from
                    && matches!(self.word(i), Some("and" | "also" | "then" | "but" | "plus")))
        })
    }

    /// Words that make a request mandatory, within `reach` words of `anchors`.
    pub(super) fn requires_near(&self, anchors: &[usize], reach: usize) -> bool {
        self.any_near(REQUIRE, anchors, reach)
    }
}

impl Prompt {
    /// A plain number at word `i` (digits, or a number word up to twenty), unless it starts a
    /// duration.
    fn count_at(&self, i: usize) -> Option<u64> {
        let word = self.word(i)?;
        let n = number(word)?;
        if self.duration_at(i).is_some() {
            return None;
        }
        Some(n)
    }

    /// The count nearest to any of `anchors`, at most `reach` words away.
    pub(super) fn count_near(&self, anchors: &[usize], reach: usize) -> Option<u64> {
        self.nearest(anchors, reach, |i| self.count_at(i))
    }

    /// A duration starting at word `i`: `30 minutes`, `2h`, `an hour`, `90s`.
    fn duration_at(&self, i: usize) -> Option<u64> {
        let word = self.word(i)?;
        if let Some(n) = number(word).or(match word {
            "a" | "an" => Some(1),
            _ => None,
        }) {
            let unit = unit(self.word(i + 1)?)?;
            return n.checked_mul(unit);
        }
        let digits = word.find(|c: char| !c.is_ascii_digit())?;
        if digits == 0 {
            return None;
        }
        let n: u64 = word[..digits].parse().ok()?;
        n.checked_mul(unit(&word[digits..])?)
    }

    /// The duration nearest to any of `anchors` (at most `reach` words away) that `accept`s the
    /// word before it (e.g. `per` for a rate-limit window).
    pub(super) fn duration_near(
        &self,
        anchors: &[usize],
        reach: usize,
        accept: impl Fn(Option<&str>) -> bool,
    ) -> Option<u64> {
        self.nearest(anchors, reach, |i| {
            let before = i.checked_sub(1).and_then(|b| self.word(b));
            if accept(before) {
                self.duration_at(i)
            } else {
                None
            }
        })
    }

    fn nearest<T>(
        &self,
        anchors: &[usize],
        reach: usize,
        at: impl Fn(usize) -> Option<T>,
    ) -> Option<T> {
        for distance in 0..=reach {
            for &anchor in anchors {
                let mut candidates = vec![anchor + distance];
                if let Some(before) = anchor.checked_sub(distance) {
                    candidates.push(before);
                }
                for i in candidates {
                    if let Some(found) = at(i) {
                        return Some(found);
                    }
                }
            }
        }
        None
    }

    pub(super) fn urls(&self) -> Vec<(usize, &str)> {
        self.words
            .iter()
            .enumerate()
            .filter(|(_, w)| w.lower.starts_with("http://") || w.lower.starts_with("https://"))
            .map(|(i, w)| (i, w.raw.as_str()))
            .collect()
    }

    /// The URL nearest to any of `anchors`.
    pub(super) fn url_near(&self, anchors: &[usize]) -> Option<String> {
        self.urls()
            .into_iter()
            .min_by_key(|(i, _)| anchors.iter().map(|a| a.abs_diff(*i)).min())
            .map(|(_, url)| url.to_owned())
    }
}

fn number(word: &str) -> Option<u64> {
    if let Ok(n) = word.parse() {
        return Some(n);
    }
    let words = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
    ];
    words.iter().position(|w| *w == word).map(|n| n as u64)
}

pub(super) fn unit(word: &str) -> Option<u64> {
    Some(match word {
        "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 7 * 86_400,
        _ => return None,
    })
}

/// `#abc` or `#aabbcc` as `#aabbcc`.
pub(super) fn hex_color(word: &str) -> Option<String> {
    let hex = word.strip_prefix('#')?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    match hex.len() {
        6 => Some(format!("#{}", hex.to_ascii_lowercase())),
        3 => Some(format!(
            "#{}",
            hex.chars()
                .flat_map(|c| [c, c])
                .collect::<String>()
                .to_ascii_lowercase()
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{Prompt, hex_color, number};

    #[test]
    fn urls_networks_and_colors_stay_whole() {
        let prompt =
            Prompt::parse("Use https://cdn.example.com/Brand/Logo.svg, allow 10.0.0.0/8 and #0AF!");
        let words: Vec<&str> = prompt.words.iter().map(|w| w.raw.as_str()).collect();
        assert_eq!(
            words,
            [
                "use",
                "https://cdn.example.com/Brand/Logo.svg",
                "allow",
                "10.0.0.0/8",
                "and",
                "#0AF"
            ]
        );
        assert_eq!(hex_color("#0af").as_deref(), Some("#00aaff"));
        assert_eq!(number("twenty"), Some(20));
    }

    #[test]
    fn counts_durations_and_clauses() {
        let prompt = Prompt::parse("5 attempts per 15 minutes, an hour or 90s");
        assert_eq!(prompt.count_at(0), Some(5));
        // "15 minutes" is a duration, not a count.
        assert_eq!(prompt.count_at(3), None);
        assert_eq!(prompt.duration_at(3), Some(900));
        assert_eq!(prompt.duration_at(5), Some(3600));
        assert_eq!(prompt.duration_at(8), Some(90));
        assert!(prompt.same_clause(0, 4));
        assert!(!prompt.same_clause(0, 5));
    }
}
