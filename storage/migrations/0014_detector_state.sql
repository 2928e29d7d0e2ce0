-- A refresh that did not keep a pair's detector in memory used to rebuild it from six weeks of
-- readings, which made a surge of a thousand dirty pairs cost their history. The detector's
-- packed state (baseline look-backs, residual pool, a run in progress), stored with the mark
-- it was judged to, lets it continue from a few kilobytes. NULL: rebuild from the readings.
ALTER TABLE detection_marks ADD COLUMN state BLOB;
