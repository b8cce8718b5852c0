-- Reaction counts an import brought without their readers (kith exports carry counts, never
-- who reacted). A count is always `imported` plus the comment's rows in comment_reactions, so
-- a check can compare the kept counts with the rows.
ALTER TABLE comment_reaction_counts ADD COLUMN imported BIGINT NOT NULL DEFAULT 0;
