//! Small cryptographic building blocks: opaque secrets, their stored hashes, and the master key
//! that seals private keys at rest.

use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore;
use rand::rngs::OsRng;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

/// A fresh secret: `prefix` followed by `bytes` random bytes in base64url.
pub fn random_secret(prefix: &str, bytes: usize) -> SecretString {
    let mut buf = vec![0u8; bytes];
    OsRng.fill_bytes(&mut buf);
    SecretString::from(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(&buf)))
}

/// The form in which secrets (refresh tokens, emailed tokens, admin keys) are stored.
pub fn sha256_hex(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut out = String::with_capacity(64);
    for byte in digest {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// The AES-256-GCM key that encrypts signing keys at rest.
pub struct MasterKey(Aes256Gcm);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

const MASTER_KEY_FILE: &str = "master.key";

impl MasterKey {
    /// Uses `configured` (base64 of 32 bytes) when given, else `data_dir/master.key`, creating
    /// that file (mode 0600) on first start.
    pub fn load_or_create(
        configured: Option<&SecretString>,
        data_dir: &Path,
    ) -> anyhow::Result<Self> {
        if let Some(encoded) = configured {
            return Self::from_base64(encoded.expose_secret()).context("AUTHSTACK_MASTER_KEY");
        }
        let path = data_dir.join(MASTER_KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                Self::from_base64(text.trim()).with_context(|| format!("{}", path.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut key = [0u8; 32];
                OsRng.fill_bytes(&mut key);
                write_private_file(&path, STANDARD.encode(key).as_bytes())?;
                Self::from_bytes(&key)
            }
            Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }

    /// Uses `configured` when given, else `data_dir/master.key`, which must exist: for tools
    /// that run beside an instance and must seal under its key, never a new one.
    pub fn load_existing(
        configured: Option<&SecretString>,
        data_dir: &Path,
    ) -> anyhow::Result<Self> {
        if let Some(encoded) = configured {
            return Self::from_base64(encoded.expose_secret()).context("AUTHSTACK_MASTER_KEY");
        }
        let path = data_dir.join(MASTER_KEY_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "reading {} (give the instance's AUTHSTACK_MASTER_KEY when it is not there)",
                path.display()
            )
        })?;
        Self::from_base64(text.trim()).with_context(|| format!("{}", path.display()))
    }

    fn from_base64(encoded: &str) -> anyhow::Result<Self> {
        let bytes = STANDARD
            .decode(encoded.trim())
            .context("master key is not base64")?;
        Self::from_bytes(&bytes)
    }

    fn from_bytes(bytes: &[u8]) -> anyhow::Result<Self> {
        anyhow::ensure!(bytes.len() == 32, "master key must be 32 bytes");
        Ok(MasterKey(
            Aes256Gcm::new_from_slice(bytes).context("master key")?,
        ))
    }

    /// Encrypts `plaintext`, binding it to `context` (e.g. a key id) as associated data.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> anyhow::Result<String> {
        let mut nonce = [0u8; 12];
        OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .0
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("sealing failed"))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ciphertext);
        Ok(STANDARD.encode(out))
    }

    /// Decrypts what [`MasterKey::seal`] produced for the same `context`.
    pub fn open(&self, sealed: &str, context: &str) -> anyhow::Result<Vec<u8>> {
        let bytes = STANDARD
            .decode(sealed)
            .context("sealed value is not base64")?;
        anyhow::ensure!(bytes.len() > 12, "sealed value too short");
        let (nonce, ciphertext) = bytes.split_at(12);
        self.0
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| anyhow::anyhow!("cannot decrypt with this master key"))
    }
}

/// Creates `path` readable and writable by its owner only.
pub fn write_private_file(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents)?;
    file.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_in_their_context() {
        let key = MasterKey::from_bytes(&[7u8; 32]).expect("key");
        let sealed = key.seal(b"private", "kid-1").expect("seal");
        assert_eq!(key.open(&sealed, "kid-1").expect("open"), b"private");
        assert!(key.open(&sealed, "kid-2").is_err());
        let other = MasterKey::from_bytes(&[8u8; 32]).expect("key");
        assert!(other.open(&sealed, "kid-1").is_err());
    }

    #[test]
    fn secrets_are_long_and_prefixed() {
        let s = random_secret("rt_", 32);
        assert!(s.expose_secret().starts_with("rt_"));
        assert_eq!(s.expose_secret().len(), 3 + 43);
        assert_eq!(sha256_hex("abc").len(), 64);
    }
}
