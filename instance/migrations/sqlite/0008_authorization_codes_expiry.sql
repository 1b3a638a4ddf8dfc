-- Issuing a code first drops the codes that expired over an hour ago (oidc/store.rs); without
-- this index that DELETE scanned every code of the last hour, on SQLite's single writer.
CREATE INDEX authorization_codes_expires_at ON authorization_codes(expires_at);
