-- Schema version 4: collections (a curator's list of works, with alerts). Items keep the DOI (or work id)
-- they were made from, so a work ingested later joins the collection's tallies without editing it.
CREATE TABLE IF NOT EXISTS collections (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    owner TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS collection_items (
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    doi TEXT NOT NULL DEFAULT '',
    work_id INTEGER,
    label TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (collection_id, position)
);
CREATE INDEX IF NOT EXISTS documents_ingested ON documents(ingested_at);
