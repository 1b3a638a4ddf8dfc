-- The control plane's own tables. Times are Unix seconds (BIGINT) on both backends.

CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- An account is an organization of the platform instance; this row holds what only the
-- control plane knows about it.
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_by TEXT NOT NULL,
    stripe_customer_id TEXT UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE subscriptions (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id),
    plan TEXT NOT NULL,
    region TEXT NOT NULL,
    -- pending (awaiting payment), active, past_due, suspended, canceled, deleted
    status TEXT NOT NULL,
    provider TEXT NOT NULL,
    stripe_subscription_id TEXT UNIQUE,
    stripe_checkout_session_id TEXT,
    current_period_end BIGINT,
    cancel_at_period_end BIGINT NOT NULL DEFAULT 0,
    -- suspended when payment has not arrived by then
    grace_until BIGINT,
    -- data deleted from then on
    delete_after BIGINT,
    -- `created` of the newest Stripe event applied, so that older events arriving late are ignored
    stripe_event_created BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE instances (
    id TEXT PRIMARY KEY,
    -- NULL for the platform instance
    account_id TEXT REFERENCES accounts (id),
    environment TEXT NOT NULL,
    region TEXT NOT NULL,
    plan TEXT NOT NULL,
    -- provisioning, ready, updating, suspended, deleting, deleted, failed
    state TEXT NOT NULL,
    -- running, suspended, deleted
    desired TEXT NOT NULL,
    revision BIGINT NOT NULL DEFAULT 1,
    endpoint TEXT NOT NULL,
    allowed_origins TEXT NOT NULL DEFAULT '[]',
    -- gateway secret, admin key and master key, sealed under the control plane's master key
    secrets TEXT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX instances_account_environment ON instances (account_id, environment)
    WHERE account_id IS NOT NULL AND state <> 'deleted';

CREATE TABLE instance_steps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id TEXT NOT NULL REFERENCES instances (id),
    at BIGINT NOT NULL,
    step TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX instance_steps_instance ON instance_steps (instance_id, id);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    -- NULL for the platform instance's keys
    account_id TEXT REFERENCES accounts (id),
    instance_id TEXT NOT NULL REFERENCES instances (id),
    environment TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    -- the first characters, to recognise a key in lists
    display_prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    -- set by rotation: the old key works until then
    expires_at BIGINT,
    revoked_at BIGINT,
    replaced_by TEXT
);
CREATE INDEX api_keys_account ON api_keys (account_id, created_at);

-- Stripe event ids already handled: each event is applied exactly once.
CREATE TABLE stripe_events (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    created BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    at BIGINT NOT NULL,
    account_id TEXT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT
);
CREATE INDEX audit_events_account ON audit_events (account_id, id);

-- One row per change that gateways must see (a key revoked or rotated, an instance's state,
-- endpoint or origins changed): gateways poll MAX(id) and drop their caches when it moves.
CREATE TABLE route_changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at BIGINT NOT NULL
);
