-- Crowd reports: one person's /report, counted once per pair per time bucket.
-- `reporter` is a keyed hash (HMAC-SHA256) of the Telegram user id, never the id itself, so the
-- file alone cannot tell who reported what. `bucket_at` is the start of the report's bucket.

CREATE TABLE crowd_reports (
    id        INTEGER PRIMARY KEY,
    service   TEXT NOT NULL,
    region    TEXT NOT NULL,
    bucket_at INTEGER NOT NULL,
    reporter  TEXT NOT NULL,
    problem   TEXT NOT NULL CHECK (problem IN
              ('app', 'website', 'login', 'feed', 'messages', 'other')),
    at        INTEGER NOT NULL,
    UNIQUE (service, region, bucket_at, reporter)
);
-- The per-person rolling-hour limit looks up one reporter's recent reports.
CREATE INDEX crowd_reports_reporter_at ON crowd_reports (reporter, at);
-- Problem shares read one pair over a time window.
CREATE INDEX crowd_reports_pair_at ON crowd_reports (service, region, at);

-- Small settings the bot generates for itself, such as the reporter salt.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
