//! Password hashing and policy. New hashes are Argon2id (m = 19456 KiB, t = 2, p = 1, the OWASP
//! baseline); imported bcrypt, PBKDF2 ([`pbkdf2`]), Firebase scrypt ([`firebase`], whose
//! signer key is kept apart in [`hash_keys`]) and differently tuned Argon2 hashes verify and are
//! re-hashed on the next successful login.

pub mod firebase;
pub mod hash_keys;
pub mod pbkdf2;
mod store;

use std::cell::RefCell;
use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Condvar, Mutex};

use anyhow::Context;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use secrecy::{ExposeSecret, SecretString};

use crate::config::PasswordPolicy;
use crate::error::{Error, Result};
pub use hash_keys::HashKeys;

const BUILTIN_COMMON: &str = include_str!("common-passwords.txt");

/// A real Argon2id hash (current parameters) of a random, forgotten password. Verified when the
/// account does not exist, so that an unknown email costs the same time as a wrong password.
/// A constant rather than computed at start: start-up stays fast.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$rPBB/Q20IkTiwy/QjtrT2w$eMzKCzO4quSnQTyy02CI2482q/O8DhHOAhW81F0g+OQ";

/// The outcome of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Mismatch,
    Match,
    /// Correct, but stored in an older or weaker form: store a fresh hash.
    MatchNeedsRehash,
}

/// Hashes and verifies passwords on dedicated worker threads, one per core. Argon2id takes
/// 19 MiB per hash: on tokio's blocking pool every new thread would keep its own 19 MiB in its
/// malloc arena (measured: 570 MiB RSS after a login load), and more threads than cores add
/// memory, not throughput.
pub struct Passwords {
    jobs: Arc<JobQueue>,
    common: HashSet<String>,
    /// Where the signer keys of imported Firebase hashes are; without it they do not verify.
    hash_keys: Option<HashKeys>,
}

type Job = Box<dyn FnOnce() + Send>;

/// The hashing threads' queue. Idle workers wait on the condition variable, each with its own
/// timeout, so that every one of them notices when it has been idle long enough to give its
/// memory back (with a channel receiver shared behind a mutex, the waiter holding the mutex
/// starves the others).
#[derive(Default)]
struct JobQueue {
    state: Mutex<QueueState>,
    ready: Condvar,
}

#[derive(Default)]
struct QueueState {
    jobs: VecDeque<Job>,
    closed: bool,
}

enum Next {
    Job(Job),
    Idle,
    Closed,
}

impl JobQueue {
    fn push(&self, job: Job) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.closed {
            return false;
        }
        state.jobs.push_back(job);
        drop(state);
        self.ready.notify_one();
        true
    }

    fn close(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).closed = true;
        self.ready.notify_all();
    }

    /// The next job; `Idle` when none came for `idle`; `Closed` once closed and drained.
    fn next(&self, idle: std::time::Duration) -> Next {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if let Some(job) = state.jobs.pop_front() {
                return Next::Job(job);
            }
            if state.closed {
                return Next::Closed;
            }
            let (guard, waited) = self
                .ready
                .wait_timeout(state, idle)
                .unwrap_or_else(|e| e.into_inner());
            state = guard;
            if waited.timed_out() && state.jobs.is_empty() && !state.closed {
                return Next::Idle;
            }
        }
    }
}

impl Drop for Passwords {
    fn drop(&mut self) {
        self.jobs.close();
    }
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Passwords")
            .field("common", &self.common.len())
            .finish_non_exhaustive()
    }
}

fn argon2id() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, current_params())
}

fn current_params() -> Params {
    // Constants the crate accepts; `Params::new` cannot fail for them.
    Params::new(19_456, 2, 1, Some(32)).unwrap_or_default()
}

/// Memory blocks above this many (64 MiB) are not kept between hashes; imported hashes with
/// unusual parameters get a temporary allocation instead.
const MAX_KEPT_BLOCKS: usize = 65_536;

thread_local! {
    /// Argon2's working memory, reused by every hash on this thread. Allocating 19 MiB per hash
    /// is not only slower (fresh pages each time): glibc kept the freed blocks, and RSS grew by
    /// 19 MiB per login until it passed 400 MiB.
    static ARGON2_MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// A hashing thread idle this long gives its Argon2 memory back: an idle instance then holds
/// none (one of a thousand on a machine), a busy one reuses it from hash to hash.
const RELEASE_MEMORY_AFTER: std::time::Duration = std::time::Duration::from_secs(30);

fn release_argon2_memory() {
    ARGON2_MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if !memory.is_empty() {
            *memory = Vec::new();
        }
    });
}

fn argon2_into(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    let needed = argon2.params().block_count();
    if needed > MAX_KEPT_BLOCKS {
        return argon2.hash_password_into(password, salt, out);
    }
    ARGON2_MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < needed {
            memory.resize(needed, Block::default());
        }
        argon2.hash_password_into_with_memory(password, salt, out, &mut memory[..needed])
    })
}

/// Hashes with the current parameters into a PHC string (blocking; call from a hashing thread).
pub fn hash_blocking(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_buf)
        .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
    let params = current_params();
    let mut out = [0u8; 32];
    argon2_into(&argon2id(), password.as_bytes(), salt_bytes, &mut out)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)
            .map_err(|e| anyhow::anyhow!("argon2 params: {e}"))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("argon2 output: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Verifies against an Argon2 or PBKDF2 PHC string or a bcrypt hash (blocking). A Firebase hash
/// needs its signer key: [`Passwords::verify`] verifies those.
pub fn verify_blocking(password: &str, stored: &str) -> Verdict {
    if stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$") {
        return match bcrypt::verify(password, stored) {
            Ok(true) => Verdict::MatchNeedsRehash,
            _ => Verdict::Mismatch,
        };
    }
    if stored.starts_with("$pbkdf2") {
        return match pbkdf2::verify(password, stored) {
            Some(true) => Verdict::MatchNeedsRehash,
            _ => Verdict::Mismatch,
        };
    }
    match verify_argon2(password, stored) {
        Some((true, current)) if current => Verdict::Match,
        Some((true, _)) => Verdict::MatchNeedsRehash,
        _ => Verdict::Mismatch,
    }
}

/// `Some((matches, uses_current_parameters))`, or `None` for an unusable hash.
fn verify_argon2(password: &str, stored: &str) -> Option<(bool, bool)> {
    let parsed = PasswordHash::new(stored).ok()?;
    let algorithm = Algorithm::try_from(parsed.algorithm).ok()?;
    let version = match parsed.version {
        Some(v) => Version::try_from(v).ok()?,
        None => Version::default(),
    };
    let params = Params::try_from(&parsed).ok()?;
    let expected = parsed.hash?;
    let mut salt_buf = [0u8; 64];
    let salt = parsed.salt?.decode_b64(&mut salt_buf).ok()?;
    let mut out = vec![0u8; expected.len()];
    let current = algorithm == Algorithm::Argon2id
        && version == Version::V0x13
        && (params.m_cost(), params.t_cost(), params.p_cost()) == (19_456, 2, 1);
    argon2_into(
        &Argon2::new(algorithm, version, params),
        password.as_bytes(),
        salt,
        &mut out,
    )
    .ok()?;
    Some((
        crate::crypto::constant_time_eq(&out, expected.as_bytes()),
        current,
    ))
}

/// Is `hash` a form we can verify (for imports)?
pub fn is_supported_hash(hash: &str) -> bool {
    if hash.starts_with("$2a$") || hash.starts_with("$2b$") || hash.starts_with("$2y$") {
        return hash.len() == 60;
    }
    if pbkdf2::is_pbkdf2(hash) {
        return true;
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
        let jobs = Arc::new(JobQueue::default());
        for n in 0..workers {
            let queue = jobs.clone();
            std::thread::Builder::new()
                .name(format!("password-hasher-{n}"))
                .spawn(move || {
                    loop {
                        match queue.next(RELEASE_MEMORY_AFTER) {
                            Next::Job(job) => job(),
                            Next::Idle => release_argon2_memory(),
                            Next::Closed => break,
                        }
                    }
                })
                .context("starting a password hashing thread")?;
        }
        Ok(Passwords {
            jobs,
            common,
            hash_keys: None,
        })
    }

    /// Verifies imported Firebase hashes too, with the signer keys in `keys`.
    pub fn with_hash_keys(mut self, keys: HashKeys) -> Passwords {
        self.hash_keys = Some(keys);
        self
    }

    /// Runs `work` on a hashing thread and awaits its result.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let (done, result) = tokio::sync::oneshot::channel();
        let queued = self.jobs.push(Box::new(move || {
            let _ = done.send(work());
        }));
        if !queued {
            return Err(anyhow::anyhow!("password hashing threads are gone").into());
        }
        Ok(result
            .await
            .map_err(|_| anyhow::anyhow!("password hashing job was dropped"))?)
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
        Ok(self
            .run(move || hash_blocking(password.expose_secret()))
            .await??)
    }

    /// Verifies `password` against `stored`; with no stored hash it spends the same effort on a
    /// dummy hash and reports a mismatch.
    pub async fn verify(&self, password: &SecretString, stored: Option<&str>) -> Result<Verdict> {
        if let Some(imported) = stored.and_then(firebase::parse) {
            return self.verify_firebase(password, imported).await;
        }
        let password = password.clone();
        let (target, real) = match stored {
            Some(hash) => (hash.to_owned(), true),
            None => (DUMMY_HASH.to_owned(), false),
        };
        let verdict = self
            .run(move || verify_blocking(password.expose_secret(), &target))
            .await?;
        Ok(if real { verdict } else { Verdict::Mismatch })
    }

    /// A Firebase hash, with the signer key its `k` names. A key that is missing or does not
    /// open is the instance's fault, not the user's: an error, not a mismatch.
    async fn verify_firebase(
        &self,
        password: &SecretString,
        stored: firebase::Stored,
    ) -> Result<Verdict> {
        let keys = self
            .hash_keys
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("imported Firebase hashes cannot be verified here"))?;
        let key = keys.open(&stored.key_id).await?.ok_or_else(|| {
            anyhow::anyhow!(
                "the signer key {} of an imported Firebase hash is missing",
                stored.key_id
            )
        })?;
        let password = password.clone();
        let matched = self
            .run(move || firebase::verify(password.expose_secret(), &stored, key.expose_secret()))
            .await?;
        Ok(if matched {
            Verdict::MatchNeedsRehash
        } else {
            Verdict::Mismatch
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::PasswordHasher;

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
        // Interoperable with the reference implementation, both ways.
        use argon2::password_hash::PasswordVerifier;
        let parsed = PasswordHash::new(&hash).expect("PHC");
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        let reference = argon2id()
            .hash_password(b"another one", &SaltString::generate(&mut OsRng))
            .expect("hash")
            .to_string();
        assert_eq!(verify_blocking("another one", &reference), Verdict::Match);
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
    fn the_dummy_hash_costs_what_a_real_one_does() {
        assert_eq!(verify_blocking("anything", DUMMY_HASH), Verdict::Mismatch);
        let parsed = PasswordHash::new(DUMMY_HASH).expect("valid PHC string");
        let params = Params::try_from(&parsed).expect("params");
        assert_eq!(
            (params.m_cost(), params.t_cost(), params.p_cost()),
            (19_456, 2, 1)
        );
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
