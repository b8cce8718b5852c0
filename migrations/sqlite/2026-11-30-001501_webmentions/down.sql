DROP TABLE webmentions;
DELETE FROM comments WHERE kind = 'webmention';
ALTER TABLE comments ADD COLUMN kind_old TEXT NOT NULL DEFAULT 'comment'
    CHECK (kind_old IN ('comment', 'pingback', 'trackback'));
UPDATE comments SET kind_old = kind;
ALTER TABLE comments DROP COLUMN kind;
ALTER TABLE comments RENAME COLUMN kind_old TO kind;
