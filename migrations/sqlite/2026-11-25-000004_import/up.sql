-- Imports: where a comment came from (so importing a file twice adds nothing), what kind of
-- comment it is (WordPress pingbacks and trackbacks are kept and marked), and whether its
-- source text is markdown (written here) or HTML (imported from WordPress or Disqus).
ALTER TABLE comments ADD COLUMN import_key TEXT;
ALTER TABLE comments ADD COLUMN kind TEXT NOT NULL DEFAULT 'comment'
    CHECK (kind IN ('comment', 'pingback', 'trackback'));
ALTER TABLE comments ADD COLUMN body_format TEXT NOT NULL DEFAULT 'markdown'
    CHECK (body_format IN ('markdown', 'html'));
CREATE UNIQUE INDEX comments_import_key ON comments (thread_id, import_key);
