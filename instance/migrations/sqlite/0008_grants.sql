-- Grants: the session an application holds after a code exchange. It lives under the browser
-- session that signed the user in (parent_id), carries the application (client_id) and the
-- scope granted, and has its own refresh-token family, so one application's tokens are revoked
-- without signing the user out of the others; revoking the parent revokes its grants.
ALTER TABLE sessions ADD COLUMN parent_id TEXT;
ALTER TABLE sessions ADD COLUMN client_id TEXT REFERENCES applications(id) ON DELETE CASCADE;
ALTER TABLE sessions ADD COLUMN scope TEXT;
CREATE INDEX sessions_parent_id ON sessions(parent_id);

-- The grant a code's first redemption created: a replay revokes exactly that. And the
-- organization the authorization request signed the user in to (`organization`).
ALTER TABLE authorization_codes ADD COLUMN grant_id TEXT;
ALTER TABLE authorization_codes ADD COLUMN org_id TEXT;

-- What a user allowed a third-party application (first-party ones never ask): the scopes, so
-- that asking for more asks again.
CREATE TABLE consents (
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    scope      TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

-- A rotated client secret that keeps working until previous_secret_expires_at (the grace
-- period the rotation asked for), so that a deployment can switch without downtime.
ALTER TABLE applications ADD COLUMN previous_secret_hash TEXT;
ALTER TABLE applications ADD COLUMN previous_secret_expires_at BIGINT;

-- Issuing a code first drops the codes that expired over an hour ago (oidc/store.rs); without
-- this index that DELETE scanned every code of the last hour, on SQLite's single writer.
CREATE INDEX authorization_codes_expires_at ON authorization_codes(expires_at);
