-- Digests (docs/mail.md): how often an address, a thread subscription and (in the site
-- settings) the owner get mail; comments waiting for a recipient's next digest; and the
-- digests made, one per recipient, frequency and period end, so that two processes never
-- make the same digest. Times are UTC, written by the application.
ALTER TABLE mail_addresses ADD COLUMN frequency TEXT NOT NULL DEFAULT 'instant';
-- NULL: the address's own frequency.
ALTER TABLE mail_subscriptions ADD COLUMN frequency TEXT;

CREATE TABLE mail_digests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient_key TEXT NOT NULL,
    frequency TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly')),
    period_end TIMESTAMP NOT NULL,
    outbox_id BIGINT,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (recipient_key, frequency, period_end)
);

-- recipient_key: 'address:<mail_addresses.id>' for a reader, 'owner:<sites.id>' for the owner.
CREATE TABLE mail_digest_items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient_key TEXT NOT NULL,
    site_id BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    address_id BIGINT REFERENCES mail_addresses (id) ON DELETE CASCADE,
    comment_id BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    reason TEXT NOT NULL CHECK (reason IN ('reply', 'thread', 'owner')),
    frequency TEXT NOT NULL CHECK (frequency IN ('daily', 'weekly')),
    created_at TIMESTAMP NOT NULL,
    digest_id BIGINT REFERENCES mail_digests (id) ON DELETE CASCADE,
    UNIQUE (recipient_key, comment_id)
);
CREATE INDEX mail_digest_items_pending ON mail_digest_items (frequency, digest_id, created_at);
