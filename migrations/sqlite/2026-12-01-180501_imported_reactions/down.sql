ALTER TABLE comment_reaction_counts DROP COLUMN imported;
