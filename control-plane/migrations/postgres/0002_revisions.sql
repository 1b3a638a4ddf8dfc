-- Every configuration of an instance is an immutable, numbered revision. instances.revision is
-- the one the instance should run; current_revision the one it runs; last_healthy_revision the
-- last one that became ready (the automatic rollback target).
CREATE TABLE revisions (
    instance_id TEXT NOT NULL REFERENCES instances (id),
    number BIGINT NOT NULL,
    -- the InstanceConfig as JSON
    config TEXT NOT NULL,
    summary TEXT NOT NULL,
    -- initial, dashboard, api, import, customization, plan_change, promotion
    source TEXT NOT NULL,
    -- a platform user id, or NULL for the control plane itself
    author TEXT,
    created_at BIGINT NOT NULL,
    -- pending, deploying, deployed, failed
    outcome TEXT NOT NULL DEFAULT 'pending',
    outcome_detail TEXT,
    deployed_at BIGINT,
    PRIMARY KEY (instance_id, number)
);
CREATE INDEX revisions_created ON revisions (instance_id, created_at);

ALTER TABLE instances ADD COLUMN current_revision BIGINT;
ALTER TABLE instances ADD COLUMN last_healthy_revision BIGINT;

CREATE TABLE customizations (
    id TEXT PRIMARY KEY,
    instance_id TEXT NOT NULL REFERENCES instances (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    prompt TEXT NOT NULL,
    planner TEXT NOT NULL,
    -- proposed, deploying, deployed, failed, cancelled, refused
    status TEXT NOT NULL,
    -- the JSON Patch (RFC 6902) against base_revision's config
    patch TEXT NOT NULL,
    summary TEXT NOT NULL,
    security_notes TEXT NOT NULL DEFAULT '[]',
    base_revision BIGINT NOT NULL,
    revision BIGINT,
    result TEXT,
    author TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX customizations_account_month ON customizations (account_id, created_at);
