DROP TABLE webmentions;
DELETE FROM comments WHERE kind = 'webmention';
ALTER TABLE comments DROP CONSTRAINT comments_kind_check;
ALTER TABLE comments ADD CONSTRAINT comments_kind_check
    CHECK (kind IN ('comment', 'pingback', 'trackback'));
