//! PBKDF2 hashes imported from other systems (Keycloak's `pbkdf2`, `pbkdf2-sha256` and
//! `pbkdf2-sha512`), stored in the PHC string form the RustCrypto `pbkdf2` crate writes:
//! `$pbkdf2-sha256$i=27500$<salt>$<hash>` (salt and hash in unpadded standard base64). They only
//! ever verify; a match always asks for a re-hash to Argon2id.

use argon2::password_hash::{Decimal, PasswordHash};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD;

/// The PHC identifiers we verify and their PRFs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prf {
    Sha1,
    Sha256,
    Sha512,
}

impl Prf {
    pub fn ident(self) -> &'static str {
        match self {
            Prf::Sha1 => "pbkdf2",
            Prf::Sha256 => "pbkdf2-sha256",
            Prf::Sha512 => "pbkdf2-sha512",
        }
    }

    fn from_ident(ident: &str) -> Option<Prf> {
        [Prf::Sha1, Prf::Sha256, Prf::Sha512]
            .into_iter()
            .find(|prf| prf.ident() == ident)
    }
}

/// More rounds than this are refused: an imported hash must not make one sign-in cost minutes.
pub const MAX_ROUNDS: u32 = 10_000_000;

/// The PHC string for a PBKDF2 hash; `None` when the salt or hash cannot be carried in one
/// (the PHC form holds salts of 4 to 48 bytes and hashes of 10 to 64 bytes).
pub fn phc(prf: Prf, rounds: u32, salt: &[u8], hash: &[u8]) -> Option<String> {
    let text = format!(
        "${}$i={rounds}${}${}",
        prf.ident(),
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(hash)
    );
    parse(&text).is_some().then_some(text)
}

struct Parsed {
    prf: Prf,
    rounds: u32,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

fn parse(stored: &str) -> Option<Parsed> {
    let parsed = PasswordHash::new(stored).ok()?;
    let prf = Prf::from_ident(parsed.algorithm.as_str())?;
    let rounds: Decimal = parsed.params.get_decimal("i")?;
    if rounds == 0 || rounds > MAX_ROUNDS {
        return None;
    }
    let salt = STANDARD_NO_PAD.decode(parsed.salt?.as_str()).ok()?;
    let hash = parsed.hash?.as_bytes().to_vec();
    Some(Parsed {
        prf,
        rounds,
        salt,
        hash,
    })
}

/// Is `stored` a PBKDF2 PHC string we can verify?
pub fn is_pbkdf2(stored: &str) -> bool {
    parse(stored).is_some()
}

/// `Some(matches)` for a PBKDF2 PHC string, `None` for anything else.
pub fn verify(password: &str, stored: &str) -> Option<bool> {
    let parsed = parse(stored)?;
    let mut out = vec![0u8; parsed.hash.len()];
    let (password, salt) = (password.as_bytes(), parsed.salt.as_slice());
    match parsed.prf {
        Prf::Sha1 => ::pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password, salt, parsed.rounds, &mut out),
        Prf::Sha256 => {
            ::pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password, salt, parsed.rounds, &mut out);
        }
        Prf::Sha512 => {
            ::pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password, salt, parsed.rounds, &mut out);
        }
    }
    Some(crate::crypto::constant_time_eq(&out, &parsed.hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6070_sha1_vector_verifies() {
        // RFC 6070 test vector 2: P = "password", S = "salt", c = 2, dkLen = 20.
        let hash = [
            0xea, 0x6c, 0x01, 0x4d, 0xc7, 0x2d, 0x6f, 0x8c, 0xcd, 0x1e, 0xd9, 0x2a, 0xce, 0x1d,
            0x41, 0xf0, 0xd8, 0xde, 0x89, 0x57,
        ];
        let stored = phc(Prf::Sha1, 2, b"salt", &hash).expect("phc");
        assert_eq!(stored, "$pbkdf2$i=2$c2FsdA$6mwBTcctb4zNHtkqzh1B8NjeiVc");
        assert_eq!(verify("password", &stored), Some(true));
        assert_eq!(verify("passwort", &stored), Some(false));
    }

    #[test]
    fn sha256_and_sha512_round_trip_and_refuse_absurd_rounds() {
        for prf in [Prf::Sha256, Prf::Sha512] {
            let mut hash = [0u8; 64];
            match prf {
                Prf::Sha256 => {
                    ::pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
                        b"pw",
                        b"0123456789abcdef",
                        1000,
                        &mut hash,
                    );
                }
                _ => ::pbkdf2::pbkdf2_hmac::<sha2::Sha512>(
                    b"pw",
                    b"0123456789abcdef",
                    1000,
                    &mut hash,
                ),
            }
            let stored = phc(prf, 1000, b"0123456789abcdef", &hash).expect("phc");
            assert!(stored.starts_with(&format!("${}$i=1000$", prf.ident())));
            assert_eq!(verify("pw", &stored), Some(true));
            assert_eq!(verify("px", &stored), Some(false));
        }
        assert_eq!(
            phc(Prf::Sha256, MAX_ROUNDS + 1, b"saltsalt", &[1; 32]),
            None
        );
        assert_eq!(phc(Prf::Sha256, 1, b"saltsalt", &[1; 65]), None);
        assert_eq!(
            verify(
                "x",
                "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"
            ),
            None
        );
    }
}
