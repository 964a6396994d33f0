-- Schema version 10: other DOIs of a work (see the SQLite migration of the same number).
CREATE TABLE IF NOT EXISTS work_aliases (
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    work_id BIGINT NOT NULL REFERENCES works(id) ON DELETE CASCADE,
    PRIMARY KEY (kind, value)
);
CREATE INDEX IF NOT EXISTS work_aliases_work ON work_aliases(work_id);
