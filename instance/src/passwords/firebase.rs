//! Password hashes imported from Firebase Authentication, which hashes with a modified scrypt:
//! the key scrypt derives from the password (salt = the user's salt followed by the project's
//! salt separator, N = 2^mem_cost, r = rounds, p = 1, 32 bytes) encrypts the project's signer
//! key with AES-256-CTR (zero IV); the ciphertext is the stored hash.
//!
//! Stored as `$firebase-scrypt$k=KEY_ID,ln=MEM_COST,r=ROUNDS[,ss=SEPARATOR]$SALT$HASH`
//! (separator, salt and hash in unpadded standard base64). The signer key is a secret of the
//! whole project and is not in the string: `k` names the row of `password_hash_keys` that holds
//! it sealed under the master key ([`super::hash_keys`]). A match always asks for a re-hash to
//! Argon2id, after which the user no longer depends on the signer key.

use aes::Aes256;
use argon2::password_hash::{Decimal, PasswordHash};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use ctr::cipher::{KeyIvInit, StreamCipher};

/// The PHC identifier of these hashes.
pub const IDENT: &str = "firebase-scrypt";
/// The `algorithm` of their signer keys in `password_hash_keys`.
pub const KEY_ALGORITHM: &str = "firebase-scrypt-signer-key";
/// Firebase's limits for its scrypt parameters: rounds 1 to 8, mem_cost 1 to 14 (scrypt then
/// needs at most 128 · 8 · 2^14 bytes, 16 MiB, per verification).
pub const MAX_ROUNDS: u32 = 8;
pub const MAX_MEM_COST: u32 = 14;

/// A project's hash parameters, apart from the signer key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parameters {
    pub rounds: u32,
    pub mem_cost: u32,
    pub salt_separator: Vec<u8>,
}

impl Parameters {
    /// Checks the parameters against Firebase's limits.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=MAX_ROUNDS).contains(&self.rounds) {
            return Err(format!("rounds must be 1 to {MAX_ROUNDS}"));
        }
        if !(1..=MAX_MEM_COST).contains(&self.mem_cost) {
            return Err(format!("mem_cost must be 1 to {MAX_MEM_COST}"));
        }
        Ok(())
    }
}

/// Firebase's hash of `password`: `None` for parameters outside Firebase's limits.
pub fn hash(
    password: &[u8],
    salt: &[u8],
    parameters: &Parameters,
    signer_key: &[u8],
) -> Option<Vec<u8>> {
    parameters.check().ok()?;
    let mut salted = salt.to_vec();
    salted.extend_from_slice(&parameters.salt_separator);
    let log_n = u8::try_from(parameters.mem_cost).ok()?;
    let params = scrypt::Params::new(log_n, parameters.rounds, 1, 32).ok()?;
    let mut key = [0u8; 32];
    scrypt::scrypt(password, &salted, &params, &mut key).ok()?;
    let mut out = signer_key.to_vec();
    ctr::Ctr128BE::<Aes256>::new(&key.into(), &[0u8; 16].into()).apply_keystream(&mut out);
    Some(out)
}

/// A stored Firebase hash, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub key_id: String,
    pub parameters: Parameters,
    pub salt: Vec<u8>,
    pub hash: Vec<u8>,
}

/// The PHC string for a Firebase hash; `None` when it cannot be carried in one (the PHC form
/// holds salts of 3 to 48 bytes, hashes of 10 to 64 bytes, separators of up to 48 bytes) or the
/// parameters are outside Firebase's limits.
pub fn phc(key_id: &str, parameters: &Parameters, salt: &[u8], hash: &[u8]) -> Option<String> {
    let mut fields = format!(
        "k={key_id},ln={},r={}",
        parameters.mem_cost, parameters.rounds
    );
    if !parameters.salt_separator.is_empty() {
        fields += &format!(",ss={}", STANDARD_NO_PAD.encode(&parameters.salt_separator));
    }
    let text = format!(
        "${IDENT}${fields}${}${}",
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(hash)
    );
    parse(&text).is_some().then_some(text)
}

/// Parses a `$firebase-scrypt$` PHC string; `None` for anything else.
pub fn parse(stored: &str) -> Option<Stored> {
    if !stored.starts_with(&format!("${IDENT}$")) {
        return None;
    }
    let parsed = PasswordHash::new(stored).ok()?;
    let key_id = parsed.params.get_str("k")?.to_owned();
    let mem_cost: Decimal = parsed.params.get_decimal("ln")?;
    let rounds: Decimal = parsed.params.get_decimal("r")?;
    let salt_separator = match parsed.params.get_str("ss") {
        Some(encoded) => STANDARD_NO_PAD.decode(encoded).ok()?,
        None => Vec::new(),
    };
    let parameters = Parameters {
        rounds,
        mem_cost,
        salt_separator,
    };
    parameters.check().ok()?;
    Some(Stored {
        key_id,
        parameters,
        salt: STANDARD_NO_PAD.decode(parsed.salt?.as_str()).ok()?,
        hash: parsed.hash?.as_bytes().to_vec(),
    })
}

/// Does `password` match `stored`, hashed with `signer_key`? (Constant time in the hash.)
pub fn verify(password: &str, stored: &Stored, signer_key: &[u8]) -> bool {
    hash(
        password.as_bytes(),
        &stored.salt,
        &stored.parameters,
        signer_key,
    )
    .is_some_and(|out| crate::crypto::constant_time_eq(&out, &stored.hash))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;

    /// The example of Firebase's own documentation of its hash: the README of
    /// github.com/firebase/scrypt ("Password Hashing"), with the sample hash parameters it
    /// shows from the Firebase console and the exported account `user1@test.com`.
    const SIGNER_KEY: &str =
        "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==";
    const SALT_SEPARATOR: &str = "Bw==";
    const SALT: &str = "42xEC+ixf3L2lw==";
    const PASSWORD: &str = "user1password";
    const HASH: &str =
        "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ==";

    fn documented() -> (Parameters, Vec<u8>) {
        (
            Parameters {
                rounds: 8,
                mem_cost: 14,
                salt_separator: STANDARD.decode(SALT_SEPARATOR).expect("separator"),
            },
            STANDARD.decode(SIGNER_KEY).expect("key"),
        )
    }

    #[test]
    fn firebase_documented_example_hashes_to_its_expected_output() {
        let (parameters, key) = documented();
        let salt = STANDARD.decode(SALT).expect("salt");
        let out = hash(PASSWORD.as_bytes(), &salt, &parameters, &key).expect("hash");
        assert_eq!(STANDARD.encode(&out), HASH);
    }

    #[test]
    fn the_documented_example_verifies_from_its_phc_string() {
        let (parameters, key) = documented();
        let salt = STANDARD.decode(SALT).expect("salt");
        let expected = STANDARD.decode(HASH).expect("hash");
        let text = phc("fbk1", &parameters, &salt, &expected).expect("phc");
        assert!(
            text.starts_with("$firebase-scrypt$k=fbk1,ln=14,r=8,ss=Bw$42xEC+ixf3L2lw$"),
            "{text}"
        );
        let stored = parse(&text).expect("parses");
        assert_eq!(stored.parameters, parameters);
        assert!(verify(PASSWORD, &stored, &key));
        assert!(!verify("user1passwore", &stored, &key));
        let mut other_key = key.clone();
        other_key[0] ^= 1;
        assert!(!verify(PASSWORD, &stored, &other_key));
    }

    #[test]
    fn parameters_outside_firebase_limits_are_refused() {
        let (mut parameters, key) = documented();
        parameters.mem_cost = 15;
        assert_eq!(hash(b"pw", b"saltsalt", &parameters, &key), None);
        assert_eq!(phc("k", &parameters, b"saltsalt", &[1; 64]), None);
        parameters.mem_cost = 14;
        parameters.rounds = 0;
        assert_eq!(phc("k", &parameters, b"saltsalt", &[1; 64]), None);
        parameters.rounds = 8;
        // A hash longer than the PHC form holds.
        assert_eq!(phc("k", &parameters, b"saltsalt", &[1; 65]), None);
        assert_eq!(
            parse("$pbkdf2-sha256$i=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"),
            None
        );
        assert_eq!(
            parse("$firebase-scrypt$ln=14,r=8$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"),
            None,
            "no key id"
        );
    }
}
