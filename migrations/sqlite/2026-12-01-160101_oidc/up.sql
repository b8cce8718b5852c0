-- Sign-in flows with OpenID Connect providers and GitHub, between the reader leaving for the
-- provider and coming back: kept in the database (not in a process's memory) so that any
-- process sharing it can finish the flow. `state_hash` is the SHA-256 of the `state` parameter
-- sent to the provider; a row is deleted when its callback arrives (so a replayed state or code
-- is refused) and once `expires_at` passed. Times are UTC.
CREATE TABLE oidc_flows (
    state_hash TEXT PRIMARY KEY,
    site_id BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    origin TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX oidc_flows_expires ON oidc_flows (expires_at);
