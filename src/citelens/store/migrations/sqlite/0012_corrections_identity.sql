-- Schema version 12: an index on corrections(document_identity). Storing an article looks up its curators'
-- corrections by its identity (to apply them again); without it every document stored scanned the whole table.
-- PostgreSQL had it from its first version.
CREATE INDEX IF NOT EXISTS corrections_identity ON corrections(document_identity);
