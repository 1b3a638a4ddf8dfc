-- OpenID Connect Back-Channel Logout 1.0: where a `web` application wants to be told, server
-- to server, that a sign-in it holds a grant under has ended (a logout token POSTed there).
ALTER TABLE applications ADD COLUMN backchannel_logout_uri TEXT;
