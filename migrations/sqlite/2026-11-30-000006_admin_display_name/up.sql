-- The name readers see on an admin's replies (never the login name); empty: the site's name.
ALTER TABLE admins ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
