-- Schema version 3: the ingest manifest. One row per finished input (a file or an archive member), written in
-- the transaction that stores its document, so a batch interrupted at any point resumes where it stopped.
CREATE TABLE IF NOT EXISTS ingest_manifest (
    input TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,      -- size and modification time (or content hash) when it was stored
    outcome TEXT NOT NULL,          -- stored | metadata | failed
    finished_at TEXT NOT NULL
);
