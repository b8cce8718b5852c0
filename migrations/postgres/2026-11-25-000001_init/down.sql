DROP TABLE comment_votes;
DROP TABLE comments;
DROP TABLE threads;
DROP TABLE sites;
DROP TABLE server_keys;
