-- OpenID Connect sign-in that still finishes when the popup loses `window.opener` (a provider
-- page with Cross-Origin-Opener-Policy cuts it): the embed draws the session token itself and
-- sends only its SHA-256 (`poll_hash`, which becomes the session's `token_hash` once the provider
-- vouched for the reader), and the start page sets a cookie in the popup whose SHA-256 is
-- `binding_hash`, so that only the browser that started the flow can finish it. Both NULL for
-- flows started the older way (the session is handed to the opener by postMessage).
ALTER TABLE oidc_flows ADD COLUMN poll_hash TEXT;
ALTER TABLE oidc_flows ADD COLUMN binding_hash TEXT;
