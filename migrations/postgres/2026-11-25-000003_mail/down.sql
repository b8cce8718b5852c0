DROP TABLE mail_notified_comments;
DROP TABLE mail_used_links;
DROP TABLE mail_subscriptions;
DROP TABLE mail_addresses;
DROP TABLE mail_outbox;
