-- Project-wide secrets that imported password hashes need to verify (Firebase's signer key):
-- one row per key, sealed under the master key (with the row's id as associated data), named
-- by the hashes that need it (`k=` in `$firebase-scrypt$`), rather than repeated in every
-- user's row. Rows are never updated; a user re-hashed to Argon2id no longer needs theirs.
CREATE TABLE password_hash_keys (
    id         TEXT PRIMARY KEY,
    algorithm  TEXT NOT NULL,
    key_sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
