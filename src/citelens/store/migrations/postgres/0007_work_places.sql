-- Schema version 7: where imported metadata places a work's authors (see the SQLite migration of the same number).
CREATE TABLE IF NOT EXISTS work_places (
    work_id BIGINT NOT NULL REFERENCES works(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    n INTEGER NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    institution TEXT NOT NULL DEFAULT '',
    ror TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (work_id, position, n)
);
CREATE INDEX IF NOT EXISTS work_places_ror ON work_places(ror);
