//! A Keycloak password credential turned into something we store: a PHC string that
//! [`crate::passwords::verify_blocking`] verifies (and re-hashes to Argon2id at the next
//! sign-in), or a plaintext value (hand-written realm files) to hash with Argon2id at import.
//!
//! Keycloak keeps `credentialData` (`{"algorithm", "hashIterations", "additionalParameters"}`)
//! and `secretData` (`{"value", "salt"}`, standard base64) as JSON strings; exports before
//! Keycloak 7 carried `hashedSaltedValue`, `salt`, `hashIterations` and `algorithm` directly.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use keycloak::types::CredentialRepresentation;
use secrecy::SecretString;
use serde::Deserialize;

use crate::passwords::pbkdf2::{self, Prf};

/// What a user's password credential becomes.
pub enum Password {
    /// A PHC string to store as it is.
    Hash(String),
    /// A plaintext password from the file, to hash with Argon2id.
    Plain(SecretString),
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Password::Hash(_) => "Password::Hash(..)",
            Password::Plain(_) => "Password::Plain(..)",
        })
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct CredentialData {
    algorithm: Option<String>,
    hash_iterations: Option<u32>,
    #[serde(default)]
    additional_parameters: std::collections::HashMap<String, Vec<String>>,
}

#[derive(Deserialize)]
struct SecretData {
    value: String,
    salt: Option<String>,
}

/// The user's password among `credentials`: `Ok(None)` without one, `Err(reason)` when it is
/// in a form we cannot verify.
pub fn password(credentials: &[CredentialRepresentation]) -> Result<Option<Password>, String> {
    let Some(credential) = credentials
        .iter()
        .find(|c| c.type_.as_deref() == Some("password"))
    else {
        return Ok(None);
    };
    if let Some(value) = &credential.value {
        return Ok(Some(Password::Plain(SecretString::from(value.clone()))));
    }
    convert(credential).map(|hash| Some(Password::Hash(hash)))
}

#[allow(deprecated)] // the pre-7 fields are deprecated in Keycloak's model, and still exported
fn convert(credential: &CredentialRepresentation) -> Result<String, String> {
    let (data, secret) = match (&credential.credential_data, &credential.secret_data) {
        (Some(data), Some(secret)) => (
            serde_json::from_str::<CredentialData>(data)
                .map_err(|e| format!("credentialData is not valid: {e}"))?,
            serde_json::from_str::<SecretData>(secret)
                .map_err(|_| "secretData is not valid".to_owned())?,
        ),
        _ => match &credential.hashed_salted_value {
            Some(value) => (
                CredentialData {
                    algorithm: credential.algorithm.clone(),
                    hash_iterations: credential.hash_iterations.and_then(|n| n.try_into().ok()),
                    ..CredentialData::default()
                },
                SecretData {
                    value: value.clone(),
                    salt: credential.salt.clone(),
                },
            ),
            None => return Err("the password credential carries no hash".into()),
        },
    };
    let decode = |field: &str, text: &str| {
        STANDARD
            .decode(text.trim())
            .map_err(|_| format!("secretData.{field} is not base64"))
    };
    let hash = decode("value", &secret.value)?;
    let salt = decode("salt", secret.salt.as_deref().unwrap_or_default())?;
    let algorithm = data.algorithm.as_deref().unwrap_or("pbkdf2-sha256");
    let iterations = data.hash_iterations.unwrap_or(27_500);
    let prf = match algorithm {
        "pbkdf2" => Some(Prf::Sha1),
        "pbkdf2-sha256" => Some(Prf::Sha256),
        "pbkdf2-sha512" => Some(Prf::Sha512),
        _ => None,
    };
    if let Some(prf) = prf {
        return pbkdf2::phc(prf, iterations, &salt, &hash).ok_or_else(|| {
            format!("the {algorithm} hash has a salt, length or iteration count we cannot store")
        });
    }
    if algorithm == "argon2" {
        return argon2_phc(&data, iterations, &salt, &hash);
    }
    Err(format!(
        "password hash algorithm `{algorithm}` is not supported (pbkdf2, pbkdf2-sha256, pbkdf2-sha512, argon2)"
    ))
}

/// Keycloak's Argon2 parameters (`additionalParameters`: `type`, `version`, `memory` in KiB,
/// `parallelism`; `hashIterations` is t) as a PHC string; absent ones take Keycloak's defaults.
fn argon2_phc(
    data: &CredentialData,
    iterations: u32,
    salt: &[u8],
    hash: &[u8],
) -> Result<String, String> {
    let param = |key: &str, default: &str| {
        data.additional_parameters
            .get(key)
            .and_then(|values| values.first().cloned())
            .unwrap_or_else(|| default.to_owned())
    };
    let variant = match param("type", "id").as_str() {
        "id" => "argon2id",
        "i" => "argon2i",
        "d" => "argon2d",
        other => return Err(format!("argon2 type `{other}` is not known")),
    };
    let version = match param("version", "1.3").as_str() {
        "1.3" | "19" => 19,
        "1.0" | "16" => 16,
        other => return Err(format!("argon2 version `{other}` is not known")),
    };
    let memory: u32 = param("memory", "7168")
        .parse()
        .map_err(|_| "argon2 memory is not a number".to_owned())?;
    let parallelism: u32 = param("parallelism", "1")
        .parse()
        .map_err(|_| "argon2 parallelism is not a number".to_owned())?;
    let text = format!(
        "${variant}$v={version}$m={memory},t={iterations},p={parallelism}${}${}",
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(hash)
    );
    if crate::passwords::is_supported_hash(&text)
        && argon2::password_hash::PasswordHash::new(&text)
            .ok()
            .and_then(|parsed| argon2::Params::try_from(&parsed).ok())
            .is_some()
    {
        Ok(text)
    } else {
        Err("the argon2 hash has parameters we cannot store".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::passwords::{Verdict, verify_blocking};

    fn credential(data: &str, secret: &str) -> CredentialRepresentation {
        CredentialRepresentation {
            type_: Some("password".into()),
            credential_data: Some(data.into()),
            secret_data: Some(secret.into()),
            ..CredentialRepresentation::default()
        }
    }

    fn hashed(prf: Prf, rounds: u32, password: &str) -> CredentialRepresentation {
        let salt = b"sixteen byte slt";
        let mut out = [0u8; 64];
        match prf {
            Prf::Sha1 => {
                ::pbkdf2::pbkdf2_hmac::<sha1::Sha1>(password.as_bytes(), salt, rounds, &mut out)
            }
            Prf::Sha256 => {
                ::pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt, rounds, &mut out);
            }
            Prf::Sha512 => {
                ::pbkdf2::pbkdf2_hmac::<sha2::Sha512>(password.as_bytes(), salt, rounds, &mut out);
            }
        }
        credential(
            &format!(
                r#"{{"hashIterations":{rounds},"algorithm":"{}","additionalParameters":{{}}}}"#,
                prf.ident()
            ),
            &format!(
                r#"{{"value":"{}","salt":"{}","additionalParameters":{{}}}}"#,
                STANDARD.encode(out),
                STANDARD.encode(salt)
            ),
        )
    }

    fn stored(credential: CredentialRepresentation) -> String {
        match password(&[credential]) {
            Ok(Some(Password::Hash(hash))) => hash,
            other => panic!("not a hash: {other:?}"),
        }
    }

    #[test]
    fn pbkdf2_credentials_verify_and_ask_for_a_rehash() {
        for (prf, rounds) in [
            (Prf::Sha256, 27_500),
            (Prf::Sha256, 210_000),
            (Prf::Sha512, 1_000),
            (Prf::Sha1, 1_000),
        ] {
            let hash = stored(hashed(prf, rounds, "kc secret"));
            assert!(
                hash.starts_with(&format!("${}$i={rounds}$", prf.ident())),
                "{hash}"
            );
            assert!(crate::passwords::is_supported_hash(&hash));
            assert_eq!(
                verify_blocking("kc secret", &hash),
                Verdict::MatchNeedsRehash
            );
            assert_eq!(verify_blocking("kc secreT", &hash), Verdict::Mismatch);
        }
    }

    #[test]
    fn the_keycloak_24_admin_credential_converts() {
        // The `admin` user's credential in the 24.0.4 migration export (public test data).
        let hash = stored(credential(
            r#"{"hashIterations":27500,"algorithm":"pbkdf2-sha256","additionalParameters":{}}"#,
            r#"{"value":"OnsOPGVN5ku0lAuW+6IUMhiYyre5C9itUlMBH9xtQgWYYqeYG3kiRkWrdBVWfvv1t5F4r7FnNLqQzZ7R5Fna2w==","salt":"WQWgqINSHrX0yk5oIl4xpw==","additionalParameters":{}}"#,
        ));
        assert_eq!(
            hash,
            "$pbkdf2-sha256$i=27500$WQWgqINSHrX0yk5oIl4xpw$OnsOPGVN5ku0lAuW+6IUMhiYyre5C9itUlMBH9xtQgWYYqeYG3kiRkWrdBVWfvv1t5F4r7FnNLqQzZ7R5Fna2w"
        );
    }

    #[test]
    fn argon2_credentials_verify_and_ask_for_a_rehash() {
        let salt = b"sixteen byte slt";
        let mut out = [0u8; 32];
        argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(7168, 5, 1, Some(32)).expect("params"),
        )
        .hash_password_into(b"kc argon", salt, &mut out)
        .expect("hash");
        let hash = stored(credential(
            r#"{"hashIterations":5,"algorithm":"argon2","additionalParameters":{"hashLength":["32"],"memory":["7168"],"type":["id"],"version":["1.3"],"parallelism":["1"]}}"#,
            &format!(
                r#"{{"value":"{}","salt":"{}","additionalParameters":{{}}}}"#,
                STANDARD.encode(out),
                STANDARD.encode(salt)
            ),
        ));
        assert!(hash.starts_with("$argon2id$v=19$m=7168,t=5,p=1$"), "{hash}");
        assert_eq!(
            verify_blocking("kc argon", &hash),
            Verdict::MatchNeedsRehash
        );
        assert_eq!(verify_blocking("kc argoN", &hash), Verdict::Mismatch);
    }

    #[test]
    fn plaintext_unknown_and_missing_credentials() {
        let plain = CredentialRepresentation {
            type_: Some("password".into()),
            value: Some("password".into()),
            ..CredentialRepresentation::default()
        };
        assert!(matches!(password(&[plain]), Ok(Some(Password::Plain(_)))));
        let otp = CredentialRepresentation {
            type_: Some("otp".into()),
            ..CredentialRepresentation::default()
        };
        assert!(matches!(password(&[otp]), Ok(None)));
        let md5 = credential(
            r#"{"hashIterations":1,"algorithm":"md5"}"#,
            r#"{"value":"AAAA","salt":"AAAA"}"#,
        );
        let reason = password(&[md5]).expect_err("rejected");
        assert!(reason.contains("`md5` is not supported"), "{reason}");
    }
}
