-- A restriction is one source's record of a block: two sources recording the same block on the
-- same day (a tracker row, an observatory's annotation) are two records shown side by side,
-- never one merged row whose wording the later import overwrites. `origin` (the first source a
-- record names) joins the natural key. SQLite cannot change a table's UNIQUE constraint in
-- place, so the three tables are rebuilt, children first, so no cascade deletes anything.

CREATE TABLE restrictions_new (
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
    origin    TEXT NOT NULL DEFAULT '',
    UNIQUE (service, region, kind, start, origin)
);

INSERT INTO restrictions_new (id, service, region, kind, status, start, "end", authority,
                              grounds, note, origin)
SELECT r.id, r.service, r.region, r.kind, r.status, r.start, r."end", r.authority, r.grounds,
       r.note,
       COALESCE((SELECT MIN(s.name) FROM restriction_sources rs JOIN sources s
                 ON s.id = rs.source_id WHERE rs.restriction_id = r.id), '')
FROM restrictions r;

CREATE TABLE restriction_steps_new (
    id             INTEGER PRIMARY KEY,
    restriction_id INTEGER NOT NULL REFERENCES restrictions_new (id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    "on"           TEXT NOT NULL,
    text           TEXT NOT NULL,
    source_id      INTEGER NOT NULL REFERENCES sources (id),
    url            TEXT,
    UNIQUE (restriction_id, "on", text)
);
INSERT INTO restriction_steps_new SELECT id, restriction_id, position, "on", text, source_id, url
FROM restriction_steps;

CREATE TABLE restriction_sources_new (
    restriction_id INTEGER NOT NULL REFERENCES restrictions_new (id) ON DELETE CASCADE,
    source_id      INTEGER NOT NULL REFERENCES sources (id),
    PRIMARY KEY (restriction_id, source_id)
);
INSERT INTO restriction_sources_new SELECT restriction_id, source_id FROM restriction_sources;

DROP TABLE restriction_sources;
DROP TABLE restriction_steps;
DROP TABLE restrictions;
ALTER TABLE restrictions_new RENAME TO restrictions;
ALTER TABLE restriction_steps_new RENAME TO restriction_steps;
ALTER TABLE restriction_sources_new RENAME TO restriction_sources;
CREATE INDEX restrictions_region ON restrictions (region, service);
