-- Webhook endpoints disabled after sustained failure: the streak of failed attempts that leads
-- there, and when and why the endpoint was disabled (cleared when it is enabled again). The
-- configuration still lists the endpoint; its queued deliveries wait in the outbox.
ALTER TABLE webhook_endpoints ADD COLUMN consecutive_failures BIGINT NOT NULL DEFAULT 0;
ALTER TABLE webhook_endpoints ADD COLUMN failing_since BIGINT;
ALTER TABLE webhook_endpoints ADD COLUMN disabled_at BIGINT;
ALTER TABLE webhook_endpoints ADD COLUMN disabled_reason TEXT;

-- When the current secret was shown (by a rotation): a rotation keeps the previous secret
-- signing only when it was shown. Until now the list showed every secret.
ALTER TABLE webhook_endpoints ADD COLUMN secret_shown_at BIGINT;
UPDATE webhook_endpoints SET secret_shown_at = created_at;
