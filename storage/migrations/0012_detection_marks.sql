-- Detection judges each reading once. The newest reading judged, per pair, lets a refresh judge
-- only what is new and continue the stored open incident, so a later baseline can never move an
-- incident's start or open it again after its alert went out.
CREATE TABLE detection_marks (
    service       TEXT NOT NULL,
    region        TEXT NOT NULL,
    decided_until INTEGER NOT NULL,
    PRIMARY KEY (service, region)
);
