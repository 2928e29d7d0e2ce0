-- Outside sources (status pages, IODA, OONI): how each one is doing, what it watches, and the
-- latest structured reading behind the card's connectivity and blocking lines. What a source
-- says for the timeline lands as ordinary events through the import path; these tables only
-- keep what an event's text cannot (numbers to compare, freshness, failures).

-- One row per configured source, keyed by its name in the sources file.
CREATE TABLE source_health (
    name                 TEXT PRIMARY KEY,
    kind                 TEXT NOT NULL,
    last_run_at          INTEGER,
    last_success_at      INTEGER,
    last_error_at        INTEGER,
    last_error           TEXT,             -- short reason, for the card ("timed out after 10 s")
    last_error_detail    TEXT,             -- which request, how many attempts, for /sources
    failing_since        INTEGER,          -- first failure of the current streak; NULL when healthy
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    items_last_run       INTEGER NOT NULL DEFAULT 0
);

-- What each source covers, so a card can say which source behind it is failing.
-- '*' stands for every service or every region (IODA covers every service in a country).
CREATE TABLE source_targets (
    source  TEXT NOT NULL,
    service TEXT NOT NULL,
    region  TEXT NOT NULL,
    PRIMARY KEY (source, service, region)
);
CREATE INDEX source_targets_pair ON source_targets (region, service);

-- The latest reading of one connectivity signal (IODA: bgp, ping-slash24, merit-nt) in a region,
-- replaced on every successful run.
CREATE TABLE connectivity_readings (
    source       TEXT NOT NULL,
    region       TEXT NOT NULL,
    signal       TEXT NOT NULL,
    region_name  TEXT,                     -- as the source names it, a fallback for the catalog's
    at           INTEGER NOT NULL,         -- time of the latest value
    current      REAL NOT NULL,
    baseline     REAL NOT NULL,
    drop_pct     REAL NOT NULL,            -- 0 when at or above normal
    outage_since INTEGER,                  -- start of the source's own ongoing outage event, if any
    PRIMARY KEY (source, region, signal)
);
CREATE INDEX connectivity_readings_region ON connectivity_readings (region);

-- The latest blocking measurement of one domain of a service in a region (OONI), replaced on
-- every successful run.
CREATE TABLE blocking_readings (
    source       TEXT NOT NULL,
    service      TEXT NOT NULL,
    region       TEXT NOT NULL,
    domain       TEXT NOT NULL,
    anomalies    INTEGER NOT NULL,         -- anomalous or confirmed-blocked measurements
    measurements INTEGER NOT NULL,         -- measurements that completed (failures left out)
    window_days  INTEGER NOT NULL,
    window_end   INTEGER NOT NULL,         -- the window is [end - days, end)
    at           INTEGER NOT NULL,         -- when it was fetched
    PRIMARY KEY (source, service, region, domain)
);
CREATE INDEX blocking_readings_pair ON blocking_readings (service, region);
