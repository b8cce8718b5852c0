-- Readers who signed in (issue 16): by an e-mail link or an OpenID Connect / OAuth provider.
-- Signing in is optional; anonymous comments stay as they were. Times are UTC.

-- One identity per site: 'email' with the lower-cased address as subject, or a configured
-- provider id ('github', 'google', …) with the provider's stable subject. The e-mail column
-- holds only a provider-verified address and is never published.
CREATE TABLE readers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    subject TEXT NOT NULL,
    email TEXT,
    display_name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    UNIQUE (site_id, provider, subject)
);

-- Reader sessions: only the SHA-256 of the bearer token is stored; shared by every process.
CREATE TABLE reader_sessions (
    token_hash TEXT PRIMARY KEY,
    reader_id BIGINT NOT NULL REFERENCES readers (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX reader_sessions_reader ON reader_sessions (reader_id);
CREATE INDEX reader_sessions_expires ON reader_sessions (expires_at);

-- A pending e-mail-link sign-in: the address and name asked for, the origin of the page that
-- asked, and the hash of the secret only that page's tab holds. Opening the mailed link sets
-- the hash of a short one-time code; the tab exchanges secret + code for a session.
CREATE TABLE reader_signin_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    display_name TEXT NOT NULL,
    origin TEXT NOT NULL,
    browser_hash TEXT NOT NULL UNIQUE,
    code_hash TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX reader_signin_requests_expires ON reader_signin_requests (expires_at);

-- The signed-in reader who wrote a comment (NULL: anonymous, or the reader was deleted), and
-- the provider they had signed in with ('email', 'github', …), kept with the comment so that
-- threads show a "verified" mark without a join and the admin area how the author was known.
ALTER TABLE comments ADD COLUMN reader_id BIGINT REFERENCES readers (id) ON DELETE SET NULL;
ALTER TABLE comments ADD COLUMN signed_in_with TEXT;
CREATE INDEX comments_reader ON comments (reader_id);

-- Bans may name a signed-in identity: kind 'reader', value 'provider:subject'. SQLite cannot
-- change a CHECK constraint in place, so the table is rebuilt (nothing references it).
CREATE TABLE bans_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('email', 'ip', 'name', 'reader')),
    value TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    UNIQUE (kind, value)
);
INSERT INTO bans_new (id, kind, value, note, created_at) SELECT id, kind, value, note, created_at FROM bans;
DROP TABLE bans;
ALTER TABLE bans_new RENAME TO bans;
