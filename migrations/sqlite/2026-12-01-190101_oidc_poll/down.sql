ALTER TABLE oidc_flows DROP COLUMN binding_hash;
ALTER TABLE oidc_flows DROP COLUMN poll_hash;
