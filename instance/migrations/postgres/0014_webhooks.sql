-- Webhooks: the outbox (one row per event and endpoint, written in the transaction that records
-- the audit event) and each endpoint's signing secret (sealed under the master key).
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
CREATE INDEX webhook_outbox_endpoint ON webhook_outbox(endpoint_id, status, id);
CREATE INDEX webhook_outbox_event ON webhook_outbox(event_id);
CREATE INDEX webhook_outbox_due ON webhook_outbox(status, next_attempt_at);

CREATE TABLE webhook_endpoints (
    id                      TEXT PRIMARY KEY,
    secret_sealed           TEXT NOT NULL,
    previous_secret_sealed  TEXT,
    previous_expires_at     BIGINT,
    created_at              BIGINT NOT NULL
);
