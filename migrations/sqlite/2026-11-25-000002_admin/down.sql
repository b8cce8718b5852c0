DROP TABLE report_reviews;
DROP TABLE bans;
DROP TABLE login_failures;
DROP TABLE admin_setup_tokens;
DROP TABLE admin_sessions;
DROP TABLE admins;
