-- Webmentions: a comment may now be of kind 'webmention', and received mentions wait in a
-- table the verification worker leases rows from (like the mail outbox), one row per site,
-- source and target, so a repeated mention updates rather than duplicates.
ALTER TABLE comments DROP CONSTRAINT comments_kind_check;
ALTER TABLE comments ADD CONSTRAINT comments_kind_check
    CHECK (kind IN ('comment', 'pingback', 'trackback', 'webmention'));

CREATE TABLE webmentions (
    id BIGSERIAL PRIMARY KEY,
    site_id BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    target TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed')),
    outcome TEXT,
    requests INTEGER NOT NULL DEFAULT 1,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_error TEXT,
    comment_id BIGINT REFERENCES comments (id) ON DELETE SET NULL,
    client_ip TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (site_id, source, target)
);
CREATE INDEX webmentions_due ON webmentions (status, next_attempt_at);
