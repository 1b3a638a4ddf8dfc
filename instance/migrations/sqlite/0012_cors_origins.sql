-- The browser origins a public application (spa, native) calls the token, revocation and
-- userinfo endpoints from: a JSON array of origins (`https://app.example.com`, lowercase, no
-- path), each compared exactly with a request's `Origin`. Confidential applications keep the
-- empty list.
ALTER TABLE applications ADD COLUMN allowed_cors_origins TEXT NOT NULL DEFAULT '[]';
