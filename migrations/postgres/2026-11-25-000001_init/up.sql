-- Sites, threads and comments: the core schema. Times are UTC, written by the application.
CREATE TABLE server_keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE sites (
    id BIGSERIAL PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    allowed_origins TEXT NOT NULL,
    settings TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE threads (
    id BIGSERIAL PRIMARY KEY,
    site_id BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    title TEXT NOT NULL,
    url TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    closed BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (site_id, key)
);

CREATE TABLE comments (
    id BIGSERIAL PRIMARY KEY,
    thread_id BIGINT NOT NULL REFERENCES threads (id) ON DELETE CASCADE,
    parent_id BIGINT REFERENCES comments (id) ON DELETE CASCADE,
    root_id BIGINT REFERENCES comments (id) ON DELETE CASCADE,
    depth INTEGER NOT NULL,
    author_name TEXT NOT NULL,
    email TEXT,
    website TEXT,
    body_markdown TEXT NOT NULL,
    body_html TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'spam', 'deleted')),
    held_reason TEXT,
    created_at TIMESTAMP NOT NULL,
    edited_at TIMESTAMP,
    client_ip TEXT,
    user_agent TEXT,
    edit_token_hash TEXT NOT NULL,
    like_count BIGINT NOT NULL DEFAULT 0,
    notify_replies BOOLEAN NOT NULL DEFAULT FALSE,
    pinned BOOLEAN NOT NULL DEFAULT FALSE,
    is_owner BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX comments_thread_status ON comments (thread_id, status, created_at, id);
CREATE INDEX comments_root ON comments (root_id);
CREATE INDEX comments_parent ON comments (parent_id);
CREATE INDEX comments_email ON comments (email);
CREATE INDEX comments_created ON comments (created_at);

CREATE TABLE comment_votes (
    comment_id BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    voter TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('like', 'report')),
    reason TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (comment_id, kind, voter)
);
