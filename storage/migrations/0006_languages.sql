-- A person's chosen language (/language); without a row, Telegram's language_code decides.
CREATE TABLE languages (
    user_id  INTEGER PRIMARY KEY,
    language TEXT NOT NULL
);
