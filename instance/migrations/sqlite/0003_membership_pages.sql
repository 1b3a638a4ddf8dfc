-- Member pages walk one organization's memberships in id (join) order.
CREATE INDEX memberships_org_id ON memberships(organization_id, id);
