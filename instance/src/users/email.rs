//! Email addresses and their one canonical form, the identity of an account.
//!
//! Two spellings of one mailbox must be one account: `Kate@Example.com`, `ｋａｔｅ@example.com`
//! (fullwidth), `\u{212a}ate@example.com` (the Kelvin sign) and `kate@EXAMPLE.com` all sign in to,
//! and are mailed as, the account of `kate@example.com`. Lowercasing alone (`to_lowercase`) got
//! some of these wrong, so that an attacker could take a look-alike of a victim's address. The
//! canonical form is computed once, in [`EmailAddress::parse`]; it is what the `email_normalized`
//! columns hold, what every comparison and limit key uses, and where mail goes. The address as
//! given is kept for display only.

use icu_casemap::{CaseMapper, CaseMapperBorrowed};
use icu_normalizer::ComposingNormalizerBorrowed;
use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};
use unicode_security::{RestrictionLevel, RestrictionLevelDetection};

use crate::error::{Error, Result};

/// The longest address accepted, as given and canonical (RFC 5321's path limit less `<>`).
const MAX_LEN: usize = 254;

const NFKC: ComposingNormalizerBorrowed<'static> = ComposingNormalizerBorrowed::new_nfkc();
const CASE: CaseMapperBorrowed<'static> = CaseMapper::new();

/// A syntactically valid email address: as given (trimmed), and its canonical form. Equal when
/// the canonical forms are.
#[derive(Debug, Clone)]
pub struct EmailAddress {
    given: String,
    canonical: String,
}

impl PartialEq for EmailAddress {
    fn eq(&self, other: &Self) -> bool {
        self.canonical == other.canonical
    }
}

impl Eq for EmailAddress {}

impl EmailAddress {
    /// Validates and canonicalises client input. Refuses local parts that mix look-alike scripts
    /// (see [`scripts_allowed`]).
    pub fn parse(raw: &str) -> Result<Self> {
        const INVALID: &str = "email is not a valid email address";
        let given = raw.trim();
        if given.len() > MAX_LEN || !email_address::EmailAddress::is_valid(given) {
            return Err(Error::invalid(INVALID));
        }
        let canonical = canonical_form(given).ok_or_else(|| Error::invalid(INVALID))?;
        // Normalisation can make an address invalid (a fullwidth `＠` becomes a second `@`) or
        // longer (punycode): the canonical form must be valid too.
        if canonical.len() > MAX_LEN || !email_address::EmailAddress::is_valid(&canonical) {
            return Err(Error::invalid(INVALID));
        }
        let local = canonical.rsplit_once('@').map_or("", |(local, _)| local);
        if !scripts_allowed(local) {
            return Err(Error::invalid(
                "email mixes letters of different scripts that look alike (such as Latin and \
                 Cyrillic) or has characters not allowed in an address; type it in one script",
            ));
        }
        Ok(EmailAddress {
            given: given.to_owned(),
            canonical,
        })
    }

    /// An address read back from storage with the canonical form stored beside it: not
    /// validated again, so that rows written under earlier rules still load.
    pub(crate) fn from_stored(given: String, canonical: String) -> Self {
        EmailAddress { given, canonical }
    }

    /// The address as given (trimmed): for display.
    pub fn as_str(&self) -> &str {
        &self.given
    }

    /// The identity of the address: unique among users, compared everywhere.
    pub fn canonical(&self) -> &str {
        &self.canonical
    }
}

/// The canonical form of `address`: the local part in Unicode NFKC with full case folding, the
/// domain by IDNA (UTS #46) in lowercase ASCII. `None` when it has no `@` or the domain is not a
/// valid host name. Makes none of the checks on new input that [`EmailAddress::parse`] makes, so
/// that stored addresses can be brought to the current form.
pub fn canonical_form(address: &str) -> Option<String> {
    let (local, domain) = address.trim().rsplit_once('@')?;
    let local = fold(local);
    let domain = Uts46::new()
        .to_ascii(
            domain.as_bytes(),
            AsciiDenyList::STD3,
            Hyphens::Allow,
            DnsLength::Verify,
        )
        .ok()?;
    Some(format!("{local}@{domain}"))
}

/// Unicode NFKC with full case folding, the canonical form of a local part, and the form a
/// search over canonical addresses folds its query to (so that `KATE`, `\u{212a}ate` and the
/// fullwidth `ｋａｔｅ` all find `kate@`). Folding can leave a string that is no longer NFKC (and
/// NFKC can expose new case): it runs between two normalisations so that the form is stable.
pub fn fold(text: &str) -> String {
    NFKC.normalize(&CASE.fold_string(&NFKC.normalize(text)))
        .into_owned()
}

/// Whether a canonical local part is free of confusable script mixing, by UTS #39: ASCII always
/// passes; otherwise every character (ASCII punctuation aside) must be allowed in identifiers
/// (no invisible formatting characters, symbols or obsolete scripts) and the letters must meet
/// the *highly restrictive* level: one script (wholly Cyrillic or wholly Greek passes), or Latin
/// with Han, kana, Bopomofo or Hangul, which do not pass for Latin letters.
///
/// *Moderately restrictive* was not chosen: it also admits Latin with any one other recommended
/// script but Cyrillic and Greek, and some of those have letters that pass for Latin ones (the
/// Armenian `օ` beside `o`); addresses that need such a mix are rare, a look-alike of someone
/// else's address is an attack.
fn scripts_allowed(local: &str) -> bool {
    if local.is_ascii() {
        return true;
    }
    let letters: String = local
        .chars()
        .filter(|c| !c.is_ascii_punctuation())
        .collect();
    letters
        .as_str()
        .check_restriction_level(RestrictionLevel::HighlyRestrictive)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(raw: &str) -> String {
        EmailAddress::parse(raw)
            .unwrap_or_else(|e| panic!("{raw}: {e}"))
            .canonical()
            .to_owned()
    }

    #[test]
    fn ascii_addresses_are_trimmed_and_lowercased() {
        let email = EmailAddress::parse(" Ada@Example.com ").expect("valid");
        assert_eq!(email.canonical(), "ada@example.com");
        assert_eq!(email.as_str(), "Ada@Example.com");
        for bad in ["", "ada", "ada@", "@example.com", "a b@example.com"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn look_alike_spellings_share_one_canonical_form() {
        // The Kelvin sign (U+212A) is K under NFKC.
        assert_eq!(canonical("\u{212a}ate@example.com"), "kate@example.com");
        // Fullwidth letters are ASCII under NFKC.
        assert_eq!(canonical("ｋａｔｅ@example.com"), "kate@example.com");
        assert_eq!(canonical("ＫＡＴＥ@example.com"), "kate@example.com");
        // Full case folding: ß is ss.
        assert_eq!(
            canonical("straße@example.com"),
            canonical("strasse@example.com")
        );
        assert_eq!(canonical("STRASSE@example.com"), "strasse@example.com");
        // The Turkish dotless ı is a letter of its own, not i.
        assert_ne!(canonical("ıa@example.com"), canonical("ia@example.com"));
        assert_eq!(canonical("IA@example.com"), "ia@example.com");
        // Cyrillic capitals fold to their lowercase.
        assert_eq!(canonical("КАТЯ@example.com"), "катя@example.com");
    }

    #[test]
    fn domains_are_idna_ascii() {
        assert_eq!(
            canonical("kate@BÜCHER.example"),
            "kate@xn--bcher-kva.example"
        );
        assert_eq!(
            canonical("kate@xn--bcher-kva.example"),
            "kate@xn--bcher-kva.example"
        );
        assert_eq!(canonical("kate@ＥＸＡＭＰＬＥ.com"), "kate@example.com");
        let email = EmailAddress::parse("Kate@Bücher.example").expect("valid");
        assert_eq!(email.as_str(), "Kate@Bücher.example");
        for bad in ["kate@exa_mple.com", "kate@example..com", "kate@-"] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn canonical_forms_are_stable() {
        for raw in [
            "\u{212a}ate@example.com",
            "straße@BÜCHER.example",
            "ǅemal@example.com",
            "ΣΊΣΥΦΟΣ@example.com",
            "İstanbul@example.com",
            "ﬃ@example.com",
        ] {
            let once = canonical_form(raw).expect(raw);
            assert_eq!(
                canonical_form(&once).as_deref(),
                Some(once.as_str()),
                "{raw}"
            );
        }
    }

    #[test]
    fn confusable_script_mixes_are_refused() {
        // Latin with a Cyrillic а (U+0430) or Greek ο (U+03BF).
        for bad in ["k\u{430}te@example.com", "g\u{3bf}\u{3bf}gle@example.com"] {
            let refused = EmailAddress::parse(bad).expect_err(bad);
            assert!(refused.to_string().contains("script"), "{bad}: {refused}");
        }
        // Invisible characters are not allowed in an address either.
        for bad in [
            "kate\u{200b}@example.com",
            "kate\u{200d}@example.com",
            "ka\u{ad}te@example.com",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
        for good in [
            "катя@example.com",
            "катя.2024@example.com",
            "σίσυφος@example.com",
            "josé.garcía@example.com",
            "ıa@example.com",
            "山田たろう@example.jp",
            "kate+news@example.com",
        ] {
            assert!(EmailAddress::parse(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn normalisation_cannot_smuggle_a_second_at_sign() {
        // FULLWIDTH COMMERCIAL AT is @ under NFKC.
        assert!(EmailAddress::parse("kate\u{ff20}evil@example.com").is_err());
    }
}
