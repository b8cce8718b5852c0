-- Rate-limit quotas shared by every kith process on this database (GCRA buckets).
-- One row per bucket key (`post:192.0.2.1`, `post:192.0.2.0/24`); a row whose theoretical
-- arrival time has passed is a full bucket and is swept by any process.
-- UNLOGGED: no WAL per request (nor traffic to replicas); a crash empties the table, which
-- only refills everybody's quota. fillfactor leaves room for HOT updates in place.
CREATE UNLOGGED TABLE rate_limit_buckets (
    bucket TEXT PRIMARY KEY,
    -- theoretical arrival time: microseconds since the Unix epoch
    tat_us BIGINT NOT NULL,
    -- microseconds per cell at the quota's sustained rate
    emission_us BIGINT NOT NULL,
    -- emission_us times the burst: how far ahead of now tat_us may run
    burst_us BIGINT NOT NULL,
    -- whether the last request on this bucket was let through
    allowed BOOLEAN NOT NULL
) WITH (fillfactor = 70);
