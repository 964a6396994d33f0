-- Schema version 12: an index on corrections(document_identity) (see the SQLite migration of the same number;
-- PostgreSQL had it from its first version, 0003_initial.sql, so this keeps the two backends' versions in step).
CREATE INDEX IF NOT EXISTS corrections_identity ON corrections(document_identity);
