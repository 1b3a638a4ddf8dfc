//! The `Stripe-Signature` header of webhook deliveries: `t=<unix time>,v1=<hex>[,v1=<hex>...]`,
//! where each `v1` is HMAC-SHA256(endpoint secret, "<t>.<raw body>"). Stripe sends one `v1` per
//! active secret while a secret is being rolled, and may add other schemes (`v0`), which are
//! ignored.

use std::time::Duration;

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Why a delivery was refused. [`SignatureError::message`] is fit for
/// [`Error::InvalidSignature`](crate::error::Error::InvalidSignature).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("{}", self.message())]
    Malformed,
    #[error("{}", self.message())]
    NoSignature,
    #[error("{}", self.message())]
    NoSecret,
    #[error("{}", self.message())]
    Mismatch,
    #[error("{}", self.message())]
    TooOld,
    #[error("{}", self.message())]
    FromTheFuture,
}

impl SignatureError {
    pub fn message(self) -> &'static str {
        match self {
            SignatureError::Malformed => {
                "the Stripe-Signature header is missing or has no valid timestamp"
            }
            SignatureError::NoSignature => "the Stripe-Signature header has no v1 signature",
            SignatureError::NoSecret => "no Stripe webhook secret is configured",
            SignatureError::Mismatch => "no Stripe-Signature v1 signature matches the payload",
            SignatureError::TooOld => "the Stripe-Signature timestamp is too old",
            SignatureError::FromTheFuture => "the Stripe-Signature timestamp is in the future",
        }
    }
}

impl From<SignatureError> for crate::error::Error {
    fn from(err: SignatureError) -> Self {
        crate::error::Error::InvalidSignature(err.message())
    }
}

/// Accepts `payload` when any `v1` signature in `header` is the HMAC of any of `secrets`, and its
/// timestamp is within `tolerance` of `now` (unix seconds) either way.
pub fn verify(
    header: &str,
    payload: &[u8],
    secrets: &[SecretString],
    now: i64,
    tolerance: Duration,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut has_v1 = false;
    let mut signatures = Vec::new();
    for item in header.split(',') {
        let Some((key, value)) = item.trim().split_once('=') else {
            continue;
        };
        match key {
            "t" => {
                timestamp = Some(
                    value
                        .parse::<i64>()
                        .map_err(|_| SignatureError::Malformed)?,
                )
            }
            // A value that is not hex cannot match; keep looking at the others.
            "v1" => {
                has_v1 = true;
                signatures.extend(decode_hex(value));
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if !has_v1 {
        return Err(SignatureError::NoSignature);
    }
    if secrets.is_empty() {
        return Err(SignatureError::NoSecret);
    }
    // Every pair is compared, so the time taken does not tell which secret or signature matched.
    let mut matched = subtle::Choice::from(0);
    for secret in secrets {
        let expected = mac(secret.expose_secret(), timestamp, payload);
        for signature in &signatures {
            matched |= expected.as_slice().ct_eq(signature);
        }
    }
    if !bool::from(matched) {
        return Err(SignatureError::Mismatch);
    }
    let age = i128::from(now) - i128::from(timestamp);
    let tolerance = i128::from(tolerance.as_secs());
    if age > tolerance {
        Err(SignatureError::TooOld)
    } else if -age > tolerance {
        Err(SignatureError::FromTheFuture)
    } else {
        Ok(())
    }
}

/// The `Stripe-Signature` value Stripe would send for `payload` signed with `secret` at `t`.
pub fn sign(payload: &[u8], secret: &str, t: i64) -> String {
    let mac = mac(secret, t, payload);
    let mut header = format!("t={t},v1=");
    for byte in mac {
        header.push_str(&format!("{byte:02x}"));
    }
    header
}

fn mac(secret: &str, timestamp: i64, payload: &[u8]) -> Vec<u8> {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac.finalize().into_bytes().to_vec()
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            text.get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_like_stripe() {
        // Stripe's documented scheme, checked against Python's hmac module:
        // hmac.new(b"whsec_test", b"1700000000.{}", hashlib.sha256).hexdigest()
        assert_eq!(
            sign(b"{}", "whsec_test", 1_700_000_000),
            "t=1700000000,v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
        );
    }
}
