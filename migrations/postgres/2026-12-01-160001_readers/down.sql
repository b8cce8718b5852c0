DELETE FROM bans WHERE kind = 'reader';
ALTER TABLE bans DROP CONSTRAINT bans_kind_check;
ALTER TABLE bans ADD CONSTRAINT bans_kind_check CHECK (kind IN ('email', 'ip', 'name'));
DROP INDEX comments_reader;
ALTER TABLE comments DROP COLUMN signed_in_with;
ALTER TABLE comments DROP COLUMN reader_id;
DROP TABLE reader_signin_requests;
DROP TABLE reader_sessions;
DROP TABLE readers;
