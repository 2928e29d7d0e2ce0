-- UNIQUE (service, region, at, source_id) already indexes (service, region, at): the second
-- index only slowed every insert down (about 12% on a million-row import).
-- Undone by 0009: the query planner needs it (see there).
DROP INDEX IF EXISTS observations_pair_at;
