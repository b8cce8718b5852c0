-- First-time moderation and the duplicate check look comments up by lower(email): without an
-- index on that expression, each post read every comment of the site.
CREATE INDEX comments_email_lower ON comments (lower(email));
