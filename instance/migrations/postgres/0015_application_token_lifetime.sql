-- An application's own access and ID token lifetime (seconds), never longer than the instance's
-- tokens.access_token_ttl_secs; NULL: the instance's.
ALTER TABLE applications ADD COLUMN access_token_ttl_secs BIGINT;
