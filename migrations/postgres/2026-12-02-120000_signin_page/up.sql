-- E-mail-link sign-in that finishes in the browser that asked with one click: the page the
-- reader asked from (on the request's origin), so that the link's page can send them back to
-- it with the one-time code in the URL's fragment, where the embed finds it and exchanges it
-- with the browser secret it kept. NULL: the page was not given (the code is typed instead).
ALTER TABLE reader_signin_requests ADD COLUMN page TEXT;
