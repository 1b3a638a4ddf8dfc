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
    use crate::error::Error;
    use axum::http::StatusCode;

    const TOLERANCE: Duration = Duration::from_secs(300);

    fn secrets(values: &[&str]) -> Vec<SecretString> {
        values.iter().map(|s| SecretString::from(*s)).collect()
    }

    #[test]
    fn signs_like_stripe() {
        // Stripe's documented scheme, checked against Python's hmac module:
        // hmac.new(b"whsec_test", b"1700000000.{}", hashlib.sha256).hexdigest()
        assert_eq!(
            sign(b"{}", "whsec_test", 1_700_000_000),
            "t=1700000000,v1=35495024f4ef3f94e5a93e22221544c4b75e9a42300cd965ab81cb85cd994e91"
        );
    }

    const PAYLOAD: &[u8] = br#"{"id":"evt_1RAb3dD5Gf3hT2aBa8cQw3Rt","object":"event"}"#;
    const NOW: i64 = 1_745_000_000;

    #[test]
    fn signature_valid() {
        let header = sign(PAYLOAD, "whsec_current", NOW);
        assert!(header.starts_with("t=1745000000,v1="), "{header}");
        assert_eq!(
            verify(
                &header,
                PAYLOAD,
                &secrets(&["whsec_current"]),
                NOW,
                TOLERANCE
            ),
            Ok(())
        );
    }

    #[test]
    fn signature_one_valid_among_several_v1() {
        let valid = sign(PAYLOAD, "whsec_current", NOW);
        let valid_v1 = valid.split_once(",v1=").expect("a v1").1;
        let forged = "0".repeat(64);
        let header = format!("t={NOW},v1={forged},v1=nothex,v1={valid_v1},v0={forged}");
        assert_eq!(
            verify(
                &header,
                PAYLOAD,
                &secrets(&["whsec_current"]),
                NOW,
                TOLERANCE
            ),
            Ok(())
        );
        // Spaces after commas, as some proxies write them.
        let spaced = header.replace(',', ", ");
        assert_eq!(
            verify(
                &spaced,
                PAYLOAD,
                &secrets(&["whsec_current"]),
                NOW,
                TOLERANCE
            ),
            Ok(())
        );
    }

    #[test]
    fn signature_secret_rotation() {
        let both = secrets(&["whsec_old", "whsec_new"]);
        for secret in ["whsec_old", "whsec_new"] {
            let header = sign(PAYLOAD, secret, NOW);
            assert_eq!(
                verify(&header, PAYLOAD, &both, NOW, TOLERANCE),
                Ok(()),
                "{secret}"
            );
        }
        // During a roll Stripe signs with both secrets in one header.
        let old = sign(PAYLOAD, "whsec_old", NOW);
        let new = sign(PAYLOAD, "whsec_new", NOW);
        let header = format!("{old},v1={}", new.split_once(",v1=").expect("a v1").1);
        assert_eq!(
            verify(&header, PAYLOAD, &secrets(&["whsec_new"]), NOW, TOLERANCE),
            Ok(())
        );
        let header = sign(PAYLOAD, "whsec_retired", NOW);
        assert_eq!(
            verify(&header, PAYLOAD, &both, NOW, TOLERANCE),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn signature_stale_and_future_timestamps() {
        let s = secrets(&["whsec_current"]);
        let tolerance = TOLERANCE.as_secs() as i64;
        let at_edge = sign(PAYLOAD, "whsec_current", NOW - tolerance);
        assert_eq!(verify(&at_edge, PAYLOAD, &s, NOW, TOLERANCE), Ok(()));
        let stale = sign(PAYLOAD, "whsec_current", NOW - tolerance - 1);
        assert_eq!(
            verify(&stale, PAYLOAD, &s, NOW, TOLERANCE),
            Err(SignatureError::TooOld)
        );
        let ahead = sign(PAYLOAD, "whsec_current", NOW + tolerance);
        assert_eq!(verify(&ahead, PAYLOAD, &s, NOW, TOLERANCE), Ok(()));
        let future = sign(PAYLOAD, "whsec_current", NOW + tolerance + 1);
        assert_eq!(
            verify(&future, PAYLOAD, &s, NOW, TOLERANCE),
            Err(SignatureError::FromTheFuture)
        );
        let ancient = sign(PAYLOAD, "whsec_current", i64::MIN);
        assert_eq!(
            verify(&ancient, PAYLOAD, &s, i64::MAX, TOLERANCE),
            Err(SignatureError::TooOld)
        );
    }

    #[test]
    fn signature_tampered_payload() {
        let s = secrets(&["whsec_current"]);
        let header = sign(PAYLOAD, "whsec_current", NOW);
        let tampered = String::from_utf8_lossy(PAYLOAD).replace("evt_1", "evt_2");
        assert_eq!(
            verify(&header, tampered.as_bytes(), &s, NOW, TOLERANCE),
            Err(SignatureError::Mismatch)
        );
        for header in [format!("t={NOW},v1="), format!("t={NOW},v1=nothex")] {
            assert_eq!(
                verify(&header, PAYLOAD, &s, NOW, TOLERANCE),
                Err(SignatureError::Mismatch),
                "{header:?}"
            );
        }
        // The timestamp is signed too.
        let moved = header.replace("t=1745000000", "t=1745000001");
        assert_eq!(
            verify(&moved, PAYLOAD, &s, NOW, TOLERANCE),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn signature_garbled_header() {
        let s = secrets(&["whsec_current"]);
        let v1 = sign(PAYLOAD, "whsec_current", NOW);
        let v1 = v1.split_once(',').expect("two parts").1;
        for header in [
            String::new(),
            "garbage".to_owned(),
            v1.to_owned(),
            format!("t=soon,{v1}"),
            format!("t=,{v1}"),
            format!("t=1745000000.5,{v1}"),
        ] {
            assert_eq!(
                verify(&header, PAYLOAD, &s, NOW, TOLERANCE),
                Err(SignatureError::Malformed),
                "{header:?}"
            );
        }
    }

    #[test]
    fn signature_missing_v1() {
        let s = secrets(&["whsec_current"]);
        let v0 = sign(PAYLOAD, "whsec_current", NOW).replace("v1=", "v0=");
        for header in [format!("t={NOW}"), v0] {
            assert_eq!(
                verify(&header, PAYLOAD, &s, NOW, TOLERANCE),
                Err(SignatureError::NoSignature),
                "{header:?}"
            );
        }
    }

    #[test]
    fn signature_without_configured_secret() {
        let header = sign(PAYLOAD, "whsec_current", NOW);
        assert_eq!(
            verify(&header, PAYLOAD, &[], NOW, TOLERANCE),
            Err(SignatureError::NoSecret)
        );
    }

    #[test]
    fn signature_error_is_invalid_signature() {
        let err = Error::from(SignatureError::TooOld);
        assert!(matches!(err, Error::InvalidSignature(_)), "{err:?}");
        assert_eq!(err.status(), StatusCode::BAD_REQUEST);
        assert_eq!(err.to_string(), SignatureError::TooOld.message());
    }
}
