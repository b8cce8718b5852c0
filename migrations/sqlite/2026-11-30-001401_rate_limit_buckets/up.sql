-- Rate-limit quotas shared by every kith process on this database (GCRA buckets); see the
-- PostgreSQL migration. On SQLite (one process) kith uses only its in-process limiters, so
-- this table stays empty; it exists so that both backends keep one schema.
CREATE TABLE rate_limit_buckets (
    bucket TEXT PRIMARY KEY,
    tat_us BIGINT NOT NULL,
    emission_us BIGINT NOT NULL,
    burst_us BIGINT NOT NULL,
    allowed BOOLEAN NOT NULL
);
