-- Imports match users on the id they had in the system imported from.
CREATE INDEX users_external_id ON users (external_id);
