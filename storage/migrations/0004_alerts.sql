-- Subscriptions, the outbox every outgoing alert or channel post waits in, and channel posts.

CREATE TABLE chats (
    chat_id     INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,            -- private, group, supergroup, channel
    title       TEXT,
    timezone    TEXT,                     -- the chat's chosen zone, for quiet hours
    quiet_start TEXT,                     -- 'HH:MM' local; NULL = no quiet hours
    quiet_end   TEXT
);

-- '*' stands for every service or every region.
CREATE TABLE subscriptions (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL,
    service    TEXT NOT NULL DEFAULT '*',
    region     TEXT NOT NULL DEFAULT '*',
    min_level  TEXT NOT NULL DEFAULT 'elevated' CHECK (min_level IN ('elevated', 'outage')),
    created_at INTEGER NOT NULL,
    UNIQUE (chat_id, service, region)
);
CREATE INDEX subscriptions_service_region ON subscriptions (service, region);
CREATE INDEX subscriptions_chat ON subscriptions (chat_id);

-- A row waits here until Telegram accepted it. `dedup_key` makes enqueueing idempotent (one
-- alert per transition per chat); `status` moves pending -> sent | failed | dropped, never back.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('alert', 'post', 'edit', 'digest', 'broadcast')),
    dedup_key  TEXT NOT NULL UNIQUE,
    text       TEXT NOT NULL,
    silent     INTEGER NOT NULL DEFAULT 0,
    post_key   TEXT,                      -- the channel post a 'post' creates or an 'edit' edits
    status     TEXT NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'sent', 'failed', 'dropped')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    not_before INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at    INTEGER,
    message_id INTEGER,
    error      TEXT
);
CREATE INDEX outbox_due ON outbox (status, not_before, id);

CREATE TABLE channel_posts (
    post_key     TEXT PRIMARY KEY,
    chat_id      INTEGER NOT NULL,
    message_id   INTEGER,
    last_text    TEXT,
    last_edit_at INTEGER
);
