-- Times are integer Unix seconds in UTC: sortable, compact, and the same in SQLite and PostgreSQL.

CREATE TABLE sources (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    url         TEXT,
    description TEXT
);

CREATE TABLE observations (
    id         INTEGER PRIMARY KEY,
    service    TEXT NOT NULL,
    region     TEXT NOT NULL,
    at         INTEGER NOT NULL,
    count      INTEGER NOT NULL CHECK (count >= 0),
    source_id  INTEGER NOT NULL REFERENCES sources (id),
    url        TEXT,
    qualifier  TEXT NOT NULL DEFAULT 'exact' CHECK (qualifier IN ('exact', 'at_least', 'about')),
    precision  TEXT NOT NULL DEFAULT 'minute' CHECK (precision IN ('minute', 'day')),
    note       TEXT,
    UNIQUE (service, region, at, source_id)
);
CREATE INDEX observations_pair_at ON observations (service, region, at);

CREATE TABLE events (
    id        INTEGER PRIMARY KEY,
    service   TEXT NOT NULL,
    region    TEXT NOT NULL,
    at        INTEGER NOT NULL,
    precision TEXT NOT NULL DEFAULT 'minute' CHECK (precision IN ('minute', 'day')),
    kind      TEXT NOT NULL CHECK (kind IN
              ('report', 'statement', 'claim', 'confirmation', 'ban', 'restoration', 'note')),
    text      TEXT NOT NULL,
    source_id INTEGER NOT NULL REFERENCES sources (id),
    url       TEXT,
    UNIQUE (service, region, at, source_id, text)
);
CREATE INDEX events_pair_at ON events (service, region, at);

CREATE TABLE restrictions (
    id        INTEGER PRIMARY KEY,
    service   TEXT NOT NULL,
    region    TEXT NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('block', 'throttle', 'shutdown')),
    status    TEXT NOT NULL CHECK (status IN ('active', 'lifted')),
    start     TEXT NOT NULL,
    "end"     TEXT,
    authority TEXT NOT NULL,
    grounds   TEXT NOT NULL,
    note      TEXT,
    UNIQUE (service, region, kind, start)
);
CREATE INDEX restrictions_region ON restrictions (region, service);

CREATE TABLE restriction_steps (
    id             INTEGER PRIMARY KEY,
    restriction_id INTEGER NOT NULL REFERENCES restrictions (id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    "on"           TEXT NOT NULL,
    text           TEXT NOT NULL,
    source_id      INTEGER NOT NULL REFERENCES sources (id),
    url            TEXT,
    UNIQUE (restriction_id, "on", text)
);

CREATE TABLE restriction_sources (
    restriction_id INTEGER NOT NULL REFERENCES restrictions (id) ON DELETE CASCADE,
    source_id      INTEGER NOT NULL REFERENCES sources (id),
    PRIMARY KEY (restriction_id, source_id)
);
