//! The project-wide secrets some imported hashes need to verify: Firebase's signer key. Each is
//! stored once, in a `password_hash_keys` row sealed under the instance's master key (the row's
//! id is the associated data, so a sealed key cannot be moved to another row), and the hashes
//! that need it name that row. A copy of the database without the master key holds no signer
//! key, so its Firebase hashes cannot be attacked offline any more than in Firebase.

use std::sync::Arc;

use secrecy::SecretSlice;

use super::store;
use crate::clock::UnixTime;
use crate::crypto::{MasterKey, constant_time_eq};
use crate::db::Db;

/// Opens and stores sealed hash keys.
#[derive(Clone)]
pub struct HashKeys {
    db: Db,
    master: Arc<MasterKey>,
}

impl std::fmt::Debug for HashKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HashKeys(..)")
    }
}

fn context(id: &str) -> String {
    format!("password-hash-key:{id}")
}

impl HashKeys {
    pub fn new(db: Db, master: Arc<MasterKey>) -> HashKeys {
        HashKeys { db, master }
    }

    /// The key `id`; `None` when there is no such row.
    pub async fn open(&self, id: &str) -> anyhow::Result<Option<SecretSlice<u8>>> {
        let Some(sealed) = store::find_key(&self.db, id).await? else {
            return Ok(None);
        };
        let key = self.master.open(&sealed, &context(id))?;
        Ok(Some(SecretSlice::from(key)))
    }

    /// The id of the stored key of `algorithm` equal to `key`, if there is one.
    pub async fn find(&self, algorithm: &str, key: &[u8]) -> anyhow::Result<Option<String>> {
        for (id, sealed) in store::keys_of(&self.db, algorithm).await? {
            let stored = self.master.open(&sealed, &context(&id))?;
            if constant_time_eq(&stored, key) {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// The id of the stored key of `algorithm` equal to `key`, storing it first when there is
    /// none (a re-run of an import reuses its key).
    pub async fn find_or_insert(
        &self,
        algorithm: &str,
        key: &[u8],
        now: UnixTime,
    ) -> anyhow::Result<String> {
        if let Some(id) = self.find(algorithm, key).await? {
            return Ok(id);
        }
        // Letters and digits only: the id goes into PHC strings.
        let id = format!("hk{}", uuid::Uuid::now_v7().simple());
        let sealed = self.master.seal(key, &context(&id))?;
        store::insert_key(&self.db, &id, algorithm, &sealed, now).await?;
        Ok(id)
    }
}
