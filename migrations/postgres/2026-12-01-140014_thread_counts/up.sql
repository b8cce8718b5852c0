-- Each thread keeps the number of its approved comments, so counts are read, not scanned.
-- Every change of a comment's status goes through db::comments, which adjusts it in the same
-- transaction. Backfilled here from the rows already stored.
ALTER TABLE threads ADD COLUMN approved_count BIGINT NOT NULL DEFAULT 0;
UPDATE threads SET approved_count = (
    SELECT count(*) FROM comments
    WHERE comments.thread_id = threads.id AND comments.status = 'approved'
);
