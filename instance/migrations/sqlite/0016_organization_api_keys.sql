-- Machine keys of an organization (`ask_org_…`): stored as the SHA-256 of the key, shown once.
CREATE TABLE organization_api_keys (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    key_hash        TEXT NOT NULL UNIQUE,
    last_four       TEXT NOT NULL,
    permissions     TEXT NOT NULL,
    created_by      TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT,
    last_used_at    BIGINT,
    revoked_at      BIGINT
);
CREATE INDEX organization_api_keys_org ON organization_api_keys(organization_id, id);
