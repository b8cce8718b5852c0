ALTER TABLE reader_signin_requests DROP COLUMN page;
