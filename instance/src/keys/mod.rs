//! Signing keys: RS256 key pairs generated per instance, sealed at rest under the master key,
//! rotated on demand. The retiring key stays published in the JWKS until every token it signed
//! has expired.

pub mod routes;
mod store;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use arc_swap::ArcSwap;
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::{KeyPair as _, RSA_PKCS1_SHA256};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Serialize;
use tokio::sync::Mutex;

use crate::clock::{Clock, UnixTime};
use crate::crypto::MasterKey;
use crate::db::Db;
use crate::error::Result;

pub use store::StoredKey;

/// A public key as published in the JWKS (RFC 7517).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Jwk {
    pub kty: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub alg: &'static str,
    pub kid: String,
    pub n: String,
    pub e: String,
}

struct ActiveKey {
    kid: String,
    pair: KeyPair,
}

struct VerifyingKey {
    key: DecodingKey,
    /// When the key stopped signing; `None` while it is the active key.
    retired_at: Option<UnixTime>,
}

/// The keys in memory: one that signs, all that still verify.
struct KeyRing {
    active: ActiveKey,
    verifying: HashMap<String, VerifyingKey>,
    published: Vec<(Jwk, Option<UnixTime>)>,
}

/// The instance's signing keys.
pub struct Keys {
    db: Db,
    master: Arc<MasterKey>,
    clock: Clock,
    ring: ArcSwap<KeyRing>,
    /// Serialises rotations and reloads; also spaces out reloads caused by unknown `kid`s.
    reload: Mutex<Instant>,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("active_kid", &self.ring.load().active.kid)
            .finish_non_exhaustive()
    }
}

/// Seconds a retired key stays published beyond the longest access-token lifetime, for clock skew.
const RETIRED_KEY_GRACE_SECS: i64 = 60;

impl Keys {
    /// Loads the keys, generating the first one on a fresh instance.
    pub async fn load(db: Db, master: Arc<MasterKey>, clock: Clock) -> anyhow::Result<Keys> {
        let stored = store::all(&db).await?;
        let stored = if stored.iter().any(|k| k.retired_at.is_none()) {
            stored
        } else {
            let key = generate(&master, clock.now()).await?;
            store::insert(&db, &key).await?;
            store::all(&db).await?
        };
        let ring = build_ring(&master, stored)?;
        Ok(Keys {
            db,
            master,
            clock,
            ring: ArcSwap::from_pointee(ring),
            reload: Mutex::new(Instant::now()),
        })
    }

    /// Checks that `master` is the key the instance in `db` seals with: it opens the active
    /// signing key. For tools that seal secrets for the instance from outside it (imports).
    pub async fn check_master_key(db: &Db, master: &MasterKey) -> anyhow::Result<()> {
        let stored = store::all(db).await?;
        let active = stored
            .iter()
            .find(|k| k.retired_at.is_none())
            .context("the instance has no signing key yet: start it once first")?;
        master
            .open(&active.private_key_sealed, &active.kid)
            .map(|_| ())
            .context("this is not the instance's master key (AUTHSTACK_MASTER_KEY or DATA_DIR/master.key)")
    }

    /// The master key, for the other secrets the instance seals at rest.
    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    pub fn active_kid(&self) -> String {
        self.ring.load().active.kid.clone()
    }

    /// Signs `claims` as a compact JWS with RS256 and the active key's `kid`.
    ///
    /// Signing here rather than through `jsonwebtoken::encode`, which parses and validates the
    /// DER private key on every call — several times the cost of the RSA operation itself.
    pub fn sign<T: Serialize>(&self, claims: &T) -> Result<String> {
        self.sign_typed(claims, "JWT")
    }

    /// [`Keys::sign`] with the header's `typ` (`logout+jwt` for a logout token, so that it
    /// cannot pass for another kind of token where the type is checked).
    pub fn sign_typed<T: Serialize>(&self, claims: &T, typ: &str) -> Result<String> {
        let ring = self.ring.load();
        let header = serde_json::json!({ "alg": "RS256", "typ": typ, "kid": ring.active.kid });
        let mut message =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).map_err(anyhow::Error::from)?);
        message.push('.');
        message.push_str(
            &URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).map_err(anyhow::Error::from)?),
        );
        let mut signature = vec![0u8; ring.active.pair.public_modulus_len()];
        ring.active
            .pair
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message.as_bytes(),
                &mut signature,
            )
            .map_err(|_| anyhow::anyhow!("RSA signing failed"))?;
        message.push('.');
        message.push_str(&URL_SAFE_NO_PAD.encode(signature));
        Ok(message)
    }

    /// The key that verifies tokens with `kid`, reloading from the database once if the key is
    /// unknown (another replica may have rotated).
    pub async fn decoding_key(&self, kid: &str) -> Option<DecodingKey> {
        if let Some(key) = self.ring.load().verifying.get(kid) {
            return Some(key.key.clone());
        }
        {
            let mut last = self.reload.lock().await;
            if last.elapsed() >= Duration::from_secs(1) {
                *last = Instant::now();
                if let Err(err) = self.reload_ring().await {
                    tracing::warn!(error = %format!("{err:#}"), "reloading signing keys failed");
                }
            }
        }
        self.ring.load().verifying.get(kid).map(|k| k.key.clone())
    }

    /// Is `kid` a retired key whose tokens can no longer be valid? Used to refuse tokens early.
    pub fn is_expired_key(&self, kid: &str, max_token_ttl: i64) -> bool {
        let ring = self.ring.load();
        matches!(ring.verifying.get(kid), Some(VerifyingKey { retired_at: Some(at), .. })
            if self.clock.now() > at + max_token_ttl + RETIRED_KEY_GRACE_SECS)
    }

    /// The public keys to publish: the active key and retired keys whose tokens may still be
    /// valid given the access-token lifetime.
    pub fn jwks(&self, max_token_ttl: i64) -> Vec<Jwk> {
        let now = self.clock.now();
        self.ring
            .load()
            .published
            .iter()
            .filter(|(_, retired)| {
                retired.is_none_or(|at| now <= at + max_token_ttl + RETIRED_KEY_GRACE_SECS)
            })
            .map(|(jwk, _)| jwk.clone())
            .collect()
    }

    /// Generates a new active key; the current one retires and stays published for its tokens.
    pub async fn rotate(&self) -> Result<String> {
        let _guard = self.reload.lock().await;
        let key = generate(&self.master, self.clock.now()).await?;
        store::rotate_to(&self.db, &key, self.clock.now()).await?;
        self.reload_ring().await?;
        Ok(key.kid)
    }

    /// Drops retired keys that can no longer verify any live token.
    pub async fn prune(&self, max_token_ttl: i64) -> Result<u64> {
        let cutoff = self.clock.now() - max_token_ttl - RETIRED_KEY_GRACE_SECS;
        Ok(store::delete_retired_before(&self.db, cutoff).await?)
    }

    async fn reload_ring(&self) -> anyhow::Result<()> {
        let stored = store::all(&self.db).await?;
        self.ring.store(Arc::new(build_ring(&self.master, stored)?));
        Ok(())
    }

    pub fn algorithm() -> Algorithm {
        Algorithm::RS256
    }
}

fn build_ring(master: &MasterKey, stored: Vec<StoredKey>) -> anyhow::Result<KeyRing> {
    let mut active = None;
    let mut verifying = HashMap::new();
    let mut published = Vec::new();
    for key in stored {
        let n = URL_SAFE_NO_PAD
            .decode(&key.public_n)
            .context("stored modulus")?;
        let e = URL_SAFE_NO_PAD
            .decode(&key.public_e)
            .context("stored exponent")?;
        verifying.insert(
            key.kid.clone(),
            VerifyingKey {
                key: DecodingKey::from_rsa_raw_components(&n, &e),
                retired_at: key.retired_at,
            },
        );
        published.push((
            Jwk {
                kty: "RSA",
                use_: "sig",
                alg: "RS256",
                kid: key.kid.clone(),
                n: key.public_n.clone(),
                e: key.public_e.clone(),
            },
            key.retired_at,
        ));
        if key.retired_at.is_none() {
            let der = master.open(&key.private_key_sealed, &key.kid)?;
            let pair = KeyPair::from_pkcs8(&der)
                .map_err(|e| anyhow::anyhow!("stored key {}: {e}", key.kid))?;
            active = Some(ActiveKey { kid: key.kid, pair });
        }
    }
    let active = active.context("no active signing key")?;
    Ok(KeyRing {
        active,
        verifying,
        published,
    })
}

/// Generates an RSA-2048 key pair off the async threads and seals its private half.
async fn generate(master: &MasterKey, now: UnixTime) -> anyhow::Result<StoredKey> {
    let pair = tokio::task::spawn_blocking(|| KeyPair::generate(KeySize::Rsa2048))
        .await
        .context("key generation task")?
        .map_err(|_| anyhow::anyhow!("RSA key generation failed"))?;
    let kid = format!("key_{}", uuid::Uuid::now_v7().simple());
    let pkcs8 = pair
        .as_der()
        .map_err(|_| anyhow::anyhow!("encoding the private key"))?;
    let public = pair.public_key();
    Ok(StoredKey {
        public_n: URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
        public_e: URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
        private_key_sealed: master.seal(pkcs8.as_ref(), &kid)?,
        kid,
        created_at: now,
        retired_at: None,
    })
}
