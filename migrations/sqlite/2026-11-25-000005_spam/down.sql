DROP TABLE used_pow;
DROP TABLE spam_tokens;
DROP INDEX comments_fingerprint;
ALTER TABLE comments DROP COLUMN fingerprint;
