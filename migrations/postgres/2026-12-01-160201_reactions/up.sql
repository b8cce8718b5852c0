-- Reactions (👍 ❤️ 😄 🎉 😕 👀 beside the like): one row per reader, reaction and comment, and
-- the maintained per-comment count of each reaction, so a thread page reads counts, never
-- scans the readers' rows. A table of its own: comment_votes' CHECK on kind cannot be altered
-- on SQLite. The reaction ids are checked by the application (src/domain/reaction.rs). The
-- voter is the same keyed hash likes use (or a signed-in reader's id). Times are UTC.
CREATE TABLE comment_reactions (
    comment_id BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    reaction TEXT NOT NULL,
    voter TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (comment_id, reaction, voter)
);

CREATE TABLE comment_reaction_counts (
    comment_id BIGINT NOT NULL REFERENCES comments (id) ON DELETE CASCADE,
    reaction TEXT NOT NULL,
    total BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (comment_id, reaction)
);
