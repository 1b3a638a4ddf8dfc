-- Who made each key (a platform user id and the address they had then), so that keys made by
-- members who have since left the account can be found. NULL for older keys and the system's.
ALTER TABLE api_keys ADD COLUMN created_by TEXT;
ALTER TABLE api_keys ADD COLUMN created_by_email TEXT;
