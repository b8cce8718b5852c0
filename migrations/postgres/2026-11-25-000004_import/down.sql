DROP INDEX comments_import_key;
ALTER TABLE comments DROP COLUMN body_format;
ALTER TABLE comments DROP COLUMN kind;
ALTER TABLE comments DROP COLUMN import_key;
