-- 0007 dropped this index as covered by the UNIQUE (service, region, at, source_id) index. The
-- planner disagreed: for "a pair's latest readings, newest first" it then preferred
-- (service, at) and walked every region of the service, 7 ms instead of 0.3 ms a pair, which made
-- a refresh of 100 pairs take a second. Kept, with this note, so nobody drops it again.
CREATE INDEX IF NOT EXISTS observations_pair_at ON observations (service, region, at);
