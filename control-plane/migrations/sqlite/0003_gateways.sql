-- One row per running gateway: the newest route change it has applied, and when it last said
-- so. A deploy answers "deployed" once every gateway heard from recently has applied it.
CREATE TABLE gateways (
    id TEXT PRIMARY KEY,
    seen BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL
);
