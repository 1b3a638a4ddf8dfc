-- The OpenID Provider's sign-in: flows driven by the hosted pages, the browser sessions that
-- the SSO cookie names, and authorization codes. Every secret is stored as its SHA-256 (hex):
-- flow ids, CSRF tokens, cookies and codes.
CREATE TABLE sign_in_flows (
    id_hash    TEXT PRIMARY KEY,
    csrf_hash  TEXT,
    request    TEXT NOT NULL,
    state      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sign_in_flows_expires_at ON sign_in_flows(expires_at);

CREATE TABLE browser_sessions (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);
CREATE INDEX browser_sessions_session_id ON browser_sessions(session_id);

CREATE TABLE authorization_codes (
    code_hash      TEXT PRIMARY KEY,
    client_id      TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
    redirect_uri   TEXT NOT NULL,
    scope          TEXT NOT NULL,
    code_challenge TEXT,
    nonce          TEXT,
    session_id     TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    used_at        BIGINT
);
CREATE INDEX authorization_codes_session_id ON authorization_codes(session_id);
