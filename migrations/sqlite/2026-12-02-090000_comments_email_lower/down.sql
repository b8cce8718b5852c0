DROP INDEX comments_email_lower;
