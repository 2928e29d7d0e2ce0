-- Keep about reporters only what the rate limit needs, for as long as it needs it.
-- `reporter` becomes nullable: a report's keyed hash is erased once the report leaves the
-- hourly rate window, and the report stays (counts and problem shares need it). Hashes stored
-- before this migration were keyed with `meta.reporter_salt`, which lived in this same file, so
-- anyone with a copy could try every user id against them: they are all erased now, and the key
-- with them. The key now lives outside the database (a key file, or OUTAGEBOT_REPORT_SALT).

CREATE TABLE crowd_reports_new (
    id        INTEGER PRIMARY KEY,
    service   TEXT NOT NULL,
    region    TEXT NOT NULL,
    bucket_at INTEGER NOT NULL,
    reporter  TEXT,
    problem   TEXT NOT NULL CHECK (problem IN
              ('app', 'website', 'login', 'feed', 'messages', 'other')),
    at        INTEGER NOT NULL,
    UNIQUE (service, region, bucket_at, reporter)
);
INSERT INTO crowd_reports_new (id, service, region, bucket_at, reporter, problem, at)
    SELECT id, service, region, bucket_at, NULL, problem, at FROM crowd_reports;
DROP TABLE crowd_reports;
ALTER TABLE crowd_reports_new RENAME TO crowd_reports;

-- The per-person rolling-hour limit looks up one reporter's recent reports.
CREATE INDEX crowd_reports_reporter_at ON crowd_reports (reporter, at);
-- Problem shares read one pair over a time window.
CREATE INDEX crowd_reports_pair_at ON crowd_reports (service, region, at);
-- Erasing finds the hashes still stored that have left the window, without reading the rest.
CREATE INDEX crowd_reports_named_at ON crowd_reports (at) WHERE reporter IS NOT NULL;

DELETE FROM meta WHERE key = 'reporter_salt';
