-- Webhook endpoints an organization's admins register for their organization's audit events.
-- Each endpoint's signing secret (sealed under the master key) and standing (disabled after
-- sustained failure) are kept in webhook_endpoints under the same id, as for the endpoints of
-- the configuration; its deliveries are webhook_outbox rows naming that id. Deleting the
-- organization deletes its endpoints with their secrets and deliveries.
CREATE TABLE organization_webhook_endpoints (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    url             TEXT NOT NULL,
    events          TEXT NOT NULL,
    description     TEXT,
    created_by      TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX organization_webhook_endpoints_org ON organization_webhook_endpoints(organization_id, id);

ALTER TABLE organization_webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE organization_webhook_endpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY organization_isolation ON organization_webhook_endpoints
    USING (authstack_org_visible(organization_id)) WITH CHECK (authstack_org_visible(organization_id));
