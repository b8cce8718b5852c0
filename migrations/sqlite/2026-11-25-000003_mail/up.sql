-- Mail: the outbox the worker sends from, addresses with their opt-in state, thread
-- subscriptions, and one-time links already used. Times are UTC, written by the application.
CREATE TABLE mail_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    unsubscribe_url TEXT,
    sender_name TEXT NOT NULL DEFAULT '',
    comment_id BIGINT,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX mail_outbox_due ON mail_outbox (status, next_attempt_at);
CREATE INDEX mail_outbox_recipient ON mail_outbox (recipient, kind, created_at);

CREATE TABLE mail_addresses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    confirmed_at TIMESTAMP,
    unsubscribed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (site_id, email)
);

CREATE TABLE mail_subscriptions (
    thread_id BIGINT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    address_id BIGINT NOT NULL REFERENCES mail_addresses (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (thread_id, address_id)
);

CREATE TABLE mail_used_links (
    nonce TEXT PRIMARY KEY,
    used_at TIMESTAMP NOT NULL
);

CREATE TABLE mail_notified_comments (
    comment_id BIGINT PRIMARY KEY REFERENCES comments (id) ON DELETE CASCADE,
    notified_at TIMESTAMP NOT NULL
);
