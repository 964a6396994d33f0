-- Schema version 10: other DOIs of a work. A reference whose DOI is not its work's, though it gives the work's
-- title, first author, year, volume and first page, carries a mistyped DOI or another registration of the work
-- (citelens.references.resolve._doi_mistyped). The work keeps its own DOI; the other one is kept here, so that
-- it still finds the work (look-ups by DOI) and later references with it do not make a copy.
CREATE TABLE IF NOT EXISTS work_aliases (
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    work_id INTEGER NOT NULL REFERENCES works(id) ON DELETE CASCADE,
    PRIMARY KEY (kind, value)
);
CREATE INDEX IF NOT EXISTS work_aliases_work ON work_aliases(work_id);
