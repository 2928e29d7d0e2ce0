-- The outage engine: which pairs have new data, the summaries prepared from them, incidents.

-- A pair is dirty when any writer (this process, or `outagebot import` from cron) stored data
-- for it; `version` lets the refresh clear only what it has seen.
CREATE TABLE dirty_pairs (
    service TEXT NOT NULL,
    region  TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY (service, region)
);

-- What /status shows, prepared in the background: the card and the overview lines, as HTML.
CREATE TABLE summaries (
    service      TEXT NOT NULL,
    region       TEXT NOT NULL,
    made_at      INTEGER NOT NULL,
    level        TEXT NOT NULL,
    rank         TEXT NOT NULL,
    card         TEXT NOT NULL,
    service_line TEXT NOT NULL,
    region_line  TEXT NOT NULL,
    has_data     INTEGER NOT NULL,
    PRIMARY KEY (service, region)
);

CREATE TABLE incidents (
    id          INTEGER PRIMARY KEY,
    service     TEXT NOT NULL,
    region      TEXT NOT NULL,
    opened_at   INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    resolved_at INTEGER,
    peak_count  INTEGER NOT NULL,
    peak_at     INTEGER NOT NULL,
    level       TEXT NOT NULL,
    levels      TEXT NOT NULL,
    UNIQUE (service, region, opened_at)
);
CREATE INDEX incidents_opened ON incidents (opened_at);
CREATE INDEX incidents_pair ON incidents (service, region, opened_at);

-- A source may state what is typical for the pair (Downdetector shows a baseline band).
ALTER TABLE observations ADD COLUMN baseline REAL;

CREATE INDEX observations_service_at ON observations (service, at);
