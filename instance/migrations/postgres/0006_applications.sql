-- Registered applications: the OAuth 2.0 / OpenID Connect clients of the instance's OpenID
-- Provider. A confidential client's secret is stored as its SHA-256 (hex); URI lists are JSON
-- arrays.
CREATE TABLE applications (
    id                        TEXT PRIMARY KEY,
    name                      TEXT NOT NULL,
    kind                      TEXT NOT NULL,
    secret_hash               TEXT,
    redirect_uris             TEXT NOT NULL,
    post_logout_redirect_uris TEXT NOT NULL,
    first_party               BIGINT NOT NULL,
    created_at                BIGINT NOT NULL,
    updated_at                BIGINT NOT NULL
);
