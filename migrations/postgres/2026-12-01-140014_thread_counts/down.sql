ALTER TABLE threads DROP COLUMN approved_count;
