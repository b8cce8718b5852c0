-- Spam defences: duplicate fingerprints, the learning spam score, used proof-of-work answers.
ALTER TABLE comments ADD COLUMN fingerprint TEXT;
CREATE INDEX comments_fingerprint ON comments (fingerprint, created_at);

-- Naive Bayes counts per site: in how many spam / ham comments each feature appeared.
-- The row with token '' holds the document counts.
CREATE TABLE spam_tokens (
    site_id BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    token TEXT NOT NULL,
    spam_count BIGINT NOT NULL DEFAULT 0,
    ham_count BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (site_id, token)
);

-- Solved proof-of-work challenges, kept until they expire so none is used twice.
CREATE TABLE used_pow (
    digest TEXT PRIMARY KEY,
    expires_at TIMESTAMP NOT NULL
);
