-- Account webhooks: the endpoints an account registers for the control plane's events about it
-- (instance ready or failed, revisions deployed, rolled back or promoted, subscription and key
-- changes), sent signed per Standard Webhooks like an instance's.
CREATE TABLE account_webhooks (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    url         TEXT NOT NULL,
    -- a JSON array of event types or patterns (`instance.*`, `*`)
    events      TEXT NOT NULL,
    description TEXT,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX account_webhooks_account ON account_webhooks (account_id, id);

-- The outbox (one row per event and endpoint, written in the transaction of the change the event
-- describes, with its delivery log) and each endpoint's signing secrets (sealed under the master
-- key) and standing: the shape of the instance's tables of the same names, so that the instance
-- crate's outbox and delivery code runs on them unchanged.
CREATE TABLE webhook_outbox (
    id               TEXT PRIMARY KEY,
    event_id         TEXT NOT NULL,
    endpoint_id      TEXT NOT NULL,
    event_type       TEXT NOT NULL,
    payload          TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending',
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    claimed_until    BIGINT,
    last_attempt_at  BIGINT,
    last_status      BIGINT,
    last_error       TEXT,
    latency_ms       BIGINT,
    response_excerpt TEXT,
    delivered_at     BIGINT
);
CREATE INDEX webhook_outbox_endpoint ON webhook_outbox (endpoint_id, status, id);
CREATE INDEX webhook_outbox_event ON webhook_outbox (event_id);
CREATE INDEX webhook_outbox_due ON webhook_outbox (status, next_attempt_at);

CREATE TABLE webhook_endpoints (
    id                     TEXT PRIMARY KEY,
    secret_sealed          TEXT NOT NULL,
    previous_secret_sealed TEXT,
    previous_expires_at    BIGINT,
    created_at             BIGINT NOT NULL,
    consecutive_failures   BIGINT NOT NULL DEFAULT 0,
    failing_since          BIGINT,
    disabled_at            BIGINT,
    disabled_reason        TEXT,
    secret_shown_at        BIGINT
);
