-- Rate-limit events (failed logins, signups, mails), shared by every replica of the instance
-- that uses this database (the default when AUTHSTACK_REDIS_URL is not set). One row per key
-- an accepted event counted against; refused attempts are never stored. `attempt` ties the rows
-- of one reservation together so that a successful login can take its attempt back.
CREATE TABLE rate_limit_events (
    key     TEXT NOT NULL,
    at_ms   BIGINT NOT NULL,
    attempt TEXT NOT NULL,
    PRIMARY KEY (key, at_ms, attempt)
);
CREATE INDEX rate_limit_events_at ON rate_limit_events(at_ms);
