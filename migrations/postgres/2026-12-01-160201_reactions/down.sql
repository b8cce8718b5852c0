DROP TABLE comment_reaction_counts;
DROP TABLE comment_reactions;
