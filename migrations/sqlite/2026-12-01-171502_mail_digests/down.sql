DROP TABLE mail_digest_items;
DROP TABLE mail_digests;
ALTER TABLE mail_subscriptions DROP COLUMN frequency;
ALTER TABLE mail_addresses DROP COLUMN frequency;
