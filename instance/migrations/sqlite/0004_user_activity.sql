-- The days (UTC day numbers since the epoch) on which each user signed in or refreshed a
-- session: monthly and daily active users.
CREATE TABLE user_activity (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day     BIGINT NOT NULL,
    PRIMARY KEY (user_id, day)
);
CREATE INDEX user_activity_day ON user_activity(day);
