CREATE TABLE bans_old (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('email', 'ip', 'name')),
    value TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP NOT NULL,
    UNIQUE (kind, value)
);
INSERT INTO bans_old (id, kind, value, note, created_at)
    SELECT id, kind, value, note, created_at FROM bans WHERE kind <> 'reader';
DROP TABLE bans;
ALTER TABLE bans_old RENAME TO bans;
DROP INDEX comments_reader;
ALTER TABLE comments DROP COLUMN signed_in_with;
ALTER TABLE comments DROP COLUMN reader_id;
DROP TABLE reader_signin_requests;
DROP TABLE reader_sessions;
DROP TABLE readers;
