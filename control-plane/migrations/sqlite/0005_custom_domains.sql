-- An instance's custom domain: the customer proves control of it with a TXT record at
-- `_authstack-challenge.<domain>` holding `token`; once verified, the gateway routes requests
-- whose Host is the domain to the instance and the instance's issuer is `https://<domain>`.
-- One domain per instance; a domain belongs to at most one instance.
CREATE TABLE custom_domains (
    instance_id TEXT PRIMARY KEY REFERENCES instances (id),
    domain TEXT NOT NULL UNIQUE,
    token TEXT NOT NULL,
    verified_at BIGINT,
    created_at BIGINT NOT NULL
);
