//! Password hashing and policy. New hashes are Argon2id (m = 19456 KiB, t = 2, p = 1, the OWASP
//! baseline); imported bcrypt and differently tuned Argon2 hashes verify and are re-hashed on
//! the next successful login.

use std::collections::HashSet;
use std::sync::Arc;

use anyhow::Context;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

use crate::config::PasswordPolicy;
use crate::error::{Error, Result};

const BUILTIN_COMMON: &str = include_str!("common-passwords.txt");

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Mismatch,
    Match,
    /// Correct, but stored in an older or weaker form: store a fresh hash.
    MatchNeedsRehash,
}

/// Hashes and verifies passwords on the blocking pool, a bounded number at a time: Argon2id
/// holds 19 MiB per hash, so unbounded concurrency would trade memory for no throughput.
pub struct Passwords {
    permits: Arc<Semaphore>,
    common: HashSet<String>,
    /// A real Argon2id hash verified when the account does not exist, so that an unknown email
    /// costs the same time as a wrong password.
    dummy_hash: String,
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
            .field("common", &self.common.len())
            .finish_non_exhaustive()
    }
}

fn argon2id() -> Argon2<'static> {
    // The parameters are constants the crate accepts; `Params::new` cannot fail for them.
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes with the current parameters (blocking; call from the blocking pool).
pub fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon2id()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
        .to_string())
}

/// Verifies against an Argon2 PHC string or a bcrypt hash (blocking).
pub fn verify_blocking(password: &str, stored: &str) -> Verdict {
    if stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$") {
        return match bcrypt::verify(password, stored) {
            Ok(true) => Verdict::MatchNeedsRehash,
            _ => Verdict::Mismatch,
        };
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        return Verdict::Mismatch;
    };
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    if !matches {
        return Verdict::Mismatch;
    }
    let current = parsed.algorithm.as_str() == "argon2id"
        && Params::try_from(&parsed)
            .is_ok_and(|p| p.m_cost() == 19_456 && p.t_cost() == 2 && p.p_cost() == 1);
    if current {
        Verdict::Match
    } else {
        Verdict::MatchNeedsRehash
    }
}

/// Is `hash` a form we can verify (for imports)?
pub fn is_supported_hash(hash: &str) -> bool {
    if hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$") {
        return hash.len() == 60;
    }
    PasswordHash::new(hash).is_ok_and(|h| h.algorithm.as_str().starts_with("argon2"))
}

impl Passwords {
    pub fn new(policy: &PasswordPolicy) -> anyhow::Result<Passwords> {
        let common = match &policy.common_list_file {
            Some(path) => std::fs::read_to_string(path)
                .with_context(|| format!("reading common-password list {}", path.display()))?,
            None => BUILTIN_COMMON.to_owned(),
        };
        let common = common
            .lines()
            .map(|l| l.trim().to_lowercase())
            .filter(|l| !l.is_empty())
            .collect();
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(Passwords {
            permits: Arc::new(Semaphore::new(workers)),
            common,
            dummy_hash: hash_blocking("dummy password for timing equalisation")?,
        })
    }

    /// Checks `password` against the policy; `email` guards against the address as password.
    pub fn check_policy(
        &self,
        policy: &PasswordPolicy,
        password: &SecretString,
        email: Option<&str>,
    ) -> Result<()> {
        let password = password.expose_secret();
        let length = password.chars().count();
        if length < policy.min_length {
            return Err(Error::WeakPassword(format!(
                "password must be at least {} characters",
                policy.min_length
            )));
        }
        if length > policy.max_length {
            return Err(Error::WeakPassword(format!(
                "password must be at most {} characters",
                policy.max_length
            )));
        }
        let lowered = password.to_lowercase();
        if policy.reject_common && self.common.contains(&lowered) {
            return Err(Error::WeakPassword(
                "this password is too common; choose another".into(),
            ));
        }
        if let Some(email) = email {
            let email = email.to_lowercase();
            let local = email.split('@').next().unwrap_or_default();
            if lowered == email || (!local.is_empty() && lowered == local) {
                return Err(Error::WeakPassword(
                    "password must not be your email address".into(),
                ));
            }
        }
        Ok(())
    }

    pub async fn hash(&self, password: &SecretString) -> Result<String> {
        let password = password.clone();
        let _permit = self.permits.acquire().await.map_err(anyhow::Error::from)?;
        let hash = tokio::task::spawn_blocking(move || hash_blocking(password.expose_secret()))
            .await
            .map_err(anyhow::Error::from)??;
        Ok(hash)
    }

    /// Verifies `password` against `stored`; with no stored hash it spends the same effort on a
    /// dummy hash and reports a mismatch.
    pub async fn verify(&self, password: &SecretString, stored: Option<&str>) -> Result<Verdict> {
        let password = password.clone();
        let (target, real) = match stored {
            Some(hash) => (hash.to_owned(), true),
            None => (self.dummy_hash.clone(), false),
        };
        let _permit = self.permits.acquire().await.map_err(anyhow::Error::from)?;
        let verdict =
            tokio::task::spawn_blocking(move || verify_blocking(password.expose_secret(), &target))
                .await
                .map_err(anyhow::Error::from)?;
        Ok(if real { verdict } else { Verdict::Mismatch })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_hashes_verify_and_use_the_documented_parameters() {
        let hash = hash_blocking("correct horse battery").expect("hash");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert_eq!(
            verify_blocking("correct horse battery", &hash),
            Verdict::Match
        );
        assert_eq!(verify_blocking("wrong", &hash), Verdict::Mismatch);
    }

    #[test]
    fn bcrypt_and_weaker_argon2_verify_but_ask_for_a_rehash() {
        let bcrypt_hash = bcrypt::hash("legacy secret", 4).expect("bcrypt");
        assert_eq!(
            verify_blocking("legacy secret", &bcrypt_hash),
            Verdict::MatchNeedsRehash
        );
        assert_eq!(verify_blocking("nope", &bcrypt_hash), Verdict::Mismatch);
        let weak = Argon2::new(
            Algorithm::Argon2i,
            Version::V0x13,
            Params::new(4096, 1, 1, None).expect("params"),
        )
        .hash_password(b"legacy secret", &SaltString::generate(&mut OsRng))
        .expect("hash")
        .to_string();
        assert_eq!(
            verify_blocking("legacy secret", &weak),
            Verdict::MatchNeedsRehash
        );
        assert_eq!(verify_blocking("x", "not a hash"), Verdict::Mismatch);
    }

    #[test]
    fn policy_rejects_short_common_and_email_passwords() {
        let policy = PasswordPolicy::default();
        let passwords = Passwords::new(&policy).expect("passwords");
        let check = |p: &str| {
            passwords.check_policy(
                &policy,
                &SecretString::from(p.to_owned()),
                Some("ada@example.com"),
            )
        };
        assert!(matches!(check("short"), Err(Error::WeakPassword(_))));
        assert!(matches!(check("password1"), Err(Error::WeakPassword(_))));
        assert!(matches!(
            check("ada@example.com"),
            Err(Error::WeakPassword(_))
        ));
        assert!(check("a perfectly fine passphrase").is_ok());
    }
}
