CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    slug       TEXT NOT NULL UNIQUE,
    logo_url   TEXT,
    branding   TEXT NOT NULL DEFAULT '{}',
    settings   TEXT NOT NULL DEFAULT '{}',
    created_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE roles (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    key             TEXT NOT NULL,
    name            TEXT NOT NULL,
    description     TEXT,
    permissions     TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (organization_id, key)
);

CREATE TABLE memberships (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (organization_id, user_id)
);
CREATE INDEX memberships_user_id ON memberships(user_id);
CREATE INDEX memberships_org_role ON memberships(organization_id, role);

CREATE TABLE invitations (
    id               TEXT PRIMARY KEY,
    organization_id  TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email            TEXT NOT NULL,
    email_normalized TEXT NOT NULL,
    role             TEXT NOT NULL,
    token_hash       TEXT NOT NULL UNIQUE,
    invited_by       TEXT,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    accepted_at      BIGINT,
    cancelled_at     BIGINT
);
CREATE INDEX invitations_org ON invitations(organization_id, email_normalized);

ALTER TABLE sessions ADD COLUMN org_id TEXT;
CREATE INDEX audit_events_org ON audit_events(organization_id, id);

-- Row-level security: a second wall between organizations behind the scoping in the code.
-- Organization-scoped statements run in a transaction that sets authstack.org_id to the
-- organization, or to '*' for the few cross-organization reads (a user's own memberships,
-- accepting an invitation by token). Unset means nothing is visible: forgetting to scope fails
-- closed. FORCE applies the policies to the table owner, which the service connects as.
CREATE FUNCTION authstack_org_visible(org TEXT) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce(current_setting('authstack.org_id', true), '') IN (org, '*') $$;

ALTER TABLE roles ENABLE ROW LEVEL SECURITY;
ALTER TABLE roles FORCE ROW LEVEL SECURITY;
CREATE POLICY organization_isolation ON roles
    USING (authstack_org_visible(organization_id)) WITH CHECK (authstack_org_visible(organization_id));

ALTER TABLE memberships ENABLE ROW LEVEL SECURITY;
ALTER TABLE memberships FORCE ROW LEVEL SECURITY;
CREATE POLICY organization_isolation ON memberships
    USING (authstack_org_visible(organization_id)) WITH CHECK (authstack_org_visible(organization_id));

ALTER TABLE invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE invitations FORCE ROW LEVEL SECURITY;
CREATE POLICY organization_isolation ON invitations
    USING (authstack_org_visible(organization_id)) WITH CHECK (authstack_org_visible(organization_id));

ALTER TABLE organizations ENABLE ROW LEVEL SECURITY;
ALTER TABLE organizations FORCE ROW LEVEL SECURITY;
CREATE POLICY organization_isolation ON organizations
    USING (authstack_org_visible(id)) WITH CHECK (authstack_org_visible(id));

-- Events are written from everywhere; reading organization events needs the scope.
ALTER TABLE audit_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_events FORCE ROW LEVEL SECURITY;
CREATE POLICY organization_isolation ON audit_events
    USING (organization_id IS NULL OR authstack_org_visible(organization_id)) WITH CHECK (true);
