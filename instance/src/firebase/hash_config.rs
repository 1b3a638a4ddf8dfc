//! A Firebase project's password hash parameters, as the console shows them (Authentication,
//! Users, "Password hash parameters"):
//!
//! ```text
//! hash_config {
//!   algorithm: SCRYPT,
//!   base64_signer_key: <...>,
//!   base64_salt_separator: <...>,
//!   rounds: 8,
//!   mem_cost: 14,
//! }
//! ```
//!
//! read from that text pasted into a file, from a JSON object with the same names, or from
//! flags and the environment. The signer key is a secret: it is never printed, and not kept in
//! `Debug`.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretSlice};

use super::decode_base64;
use crate::passwords::firebase::Parameters;

/// The parameters, signer key included.
pub struct HashConfig {
    pub signer_key: SecretSlice<u8>,
    pub parameters: Parameters,
}

impl std::fmt::Debug for HashConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HashConfig")
            .field("parameters", &self.parameters)
            .finish_non_exhaustive()
    }
}

impl HashConfig {
    /// From the parts: the signer key and salt separator in base64.
    pub fn new(
        base64_signer_key: &str,
        base64_salt_separator: &str,
        rounds: u32,
        mem_cost: u32,
    ) -> anyhow::Result<HashConfig> {
        // The decoder's message could quote the key: say only what is wrong.
        let signer_key = decode_base64(base64_signer_key)
            .filter(|k| !k.is_empty())
            .ok_or_else(|| anyhow::anyhow!("base64_signer_key is not base64"))?;
        anyhow::ensure!(
            (10..=64).contains(&signer_key.len()),
            "base64_signer_key must be 10 to 64 bytes (Firebase's are 64), not {}",
            signer_key.len()
        );
        let salt_separator = decode_base64(base64_salt_separator)
            .ok_or_else(|| anyhow::anyhow!("base64_salt_separator is not base64"))?;
        anyhow::ensure!(
            salt_separator.len() <= 48,
            "base64_salt_separator must be at most 48 bytes"
        );
        let parameters = Parameters {
            rounds,
            mem_cost,
            salt_separator,
        };
        parameters.check().map_err(anyhow::Error::msg)?;
        Ok(HashConfig {
            signer_key: SecretSlice::from(signer_key),
            parameters,
        })
    }

    /// From a file's text: the console's `hash_config { ... }` block, or a JSON object with the
    /// same names (`algorithm` optional; when given it must be `SCRYPT`).
    pub fn parse(text: &str) -> anyhow::Result<HashConfig> {
        let fields = if text.trim_start().starts_with('{') {
            let object: BTreeMap<String, serde_json::Value> = serde_json::from_str(text)
                .map_err(|e| anyhow::anyhow!("the hash parameters are not a JSON object: {e}"))?;
            object
                .into_iter()
                .map(|(name, value)| {
                    let value = match value {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (name, value)
                })
                .collect()
        } else {
            console_fields(text)?
        };
        const KNOWN: [&str; 5] = [
            "algorithm",
            "base64_signer_key",
            "base64_salt_separator",
            "rounds",
            "mem_cost",
        ];
        if let Some(unknown) = fields.keys().find(|k| !KNOWN.contains(&k.as_str())) {
            anyhow::bail!("unknown hash parameter {unknown}");
        }
        if let Some(algorithm) = fields.get("algorithm")
            && !algorithm.eq_ignore_ascii_case("scrypt")
        {
            anyhow::bail!(
                "the project hashes with {algorithm}: only Firebase's SCRYPT is imported"
            );
        }
        let field = |name: &str| {
            fields
                .get(name)
                .ok_or_else(|| anyhow::anyhow!("the hash parameters lack {name}"))
        };
        let number = |name: &str| -> anyhow::Result<u32> {
            field(name)?
                .parse()
                .map_err(|_| anyhow::anyhow!("{name} is not a number"))
        };
        HashConfig::new(
            field("base64_signer_key")?,
            field("base64_salt_separator")?,
            number("rounds")?,
            number("mem_cost")?,
        )
    }

    /// The signer key's bytes.
    pub fn signer_key(&self) -> &[u8] {
        self.signer_key.expose_secret()
    }
}

/// `name: value` lines of the console's block; braces, the block's name and trailing commas
/// are ignored.
fn console_fields(text: &str) -> anyhow::Result<BTreeMap<String, String>> {
    let mut fields = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim().trim_end_matches(',').trim();
        if line.is_empty() || line == "}" || line.ends_with('{') {
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            anyhow::bail!("the hash parameters have a line that is not `name: value`");
        };
        let value = value.trim().trim_matches('"');
        fields.insert(name.trim().to_owned(), value.to_owned());
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sample parameters of github.com/firebase/scrypt's README, as the console shows them.
    const CONSOLE: &str = "hash_config {
  algorithm: SCRYPT,
  base64_signer_key: jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==,
  base64_salt_separator: Bw==,
  rounds: 8,
  mem_cost: 14,
}
";

    #[test]
    fn the_console_block_and_json_read_alike() {
        let console = HashConfig::parse(CONSOLE).expect("console text");
        assert_eq!(console.parameters.rounds, 8);
        assert_eq!(console.parameters.mem_cost, 14);
        assert_eq!(console.parameters.salt_separator, [7]);
        assert_eq!(console.signer_key().len(), 64);
        let json = HashConfig::parse(
            r#"{"base64_signer_key": "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==",
                "base64_salt_separator": "Bw==", "rounds": 8, "mem_cost": 14}"#,
        )
        .expect("json");
        assert_eq!(json.parameters, console.parameters);
        assert_eq!(json.signer_key(), console.signer_key());
        assert!(
            !format!("{console:?}").contains("jxspr8"),
            "no key in Debug"
        );
    }

    #[test]
    fn wrong_parameters_are_refused_without_quoting_the_key() {
        let err = HashConfig::parse(&CONSOLE.replace("SCRYPT", "HMAC_SHA256"))
            .expect_err("other algorithm")
            .to_string();
        assert!(err.contains("HMAC_SHA256"), "{err}");
        let err = HashConfig::parse(&CONSOLE.replace("jxspr8Ki0", "jx!pr8Ki0"))
            .expect_err("not base64")
            .to_string();
        assert!(!err.contains("jx!pr8"), "{err}");
        assert!(HashConfig::parse(&CONSOLE.replace("mem_cost: 14", "mem_cost: 20")).is_err());
        assert!(HashConfig::parse(&CONSOLE.replace("rounds: 8,\n", "")).is_err());
        assert!(HashConfig::parse(&CONSOLE.replace("rounds", "round")).is_err());
    }
}
