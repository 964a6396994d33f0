-- Schema version 7: where imported metadata (OpenAlex work records, Crossref author affiliations) places the
-- authors of a work, one row per (work, author position, affiliation number), located by citelens.places.
-- Knowledge flows (citelens.flows) locate a cited work from its own full text when it was ingested (the
-- document_authors rows), else from these rows. Indexes made before this version have none: import the
-- metadata again (`citelens ingest works.jsonl`) to fill them.
CREATE TABLE IF NOT EXISTS work_places (
    work_id INTEGER NOT NULL REFERENCES works(id) ON DELETE CASCADE,
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
