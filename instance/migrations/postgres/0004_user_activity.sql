-- The days (UTC day numbers since the epoch) on which each user signed in or refreshed a
-- session: monthly and daily active users.
CREATE TABLE user_activity (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    day     BIGINT NOT NULL,
    PRIMARY KEY (user_id, day)
);
CREATE INDEX user_activity_day ON user_activity(day);

-- What earlier releases kept of it: each user's last sign-in and each session's last activity.
INSERT INTO user_activity (user_id, day)
SELECT id, last_login_at / 86400 FROM users WHERE last_login_at IS NOT NULL
UNION
SELECT user_id, last_active_at / 86400 FROM sessions;
