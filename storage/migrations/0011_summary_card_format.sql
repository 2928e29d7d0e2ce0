-- Prepared cards carry the layout they were rendered in. Cards stored before this column are
-- the long card of before issue 16 (format 1): the bot re-prepares them at start instead of
-- serving them until each pair happens to refresh.
ALTER TABLE summaries ADD COLUMN card_format INTEGER NOT NULL DEFAULT 1;
