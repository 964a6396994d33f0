-- Schema version 8: the confidence of each author assignment (see the SQLite migration of the same number).
ALTER TABLE document_authors ADD COLUMN IF NOT EXISTS author_confidence DOUBLE PRECISION;
CREATE INDEX IF NOT EXISTS document_authors_ror ON document_authors(ror);
CREATE INDEX IF NOT EXISTS statements_self_cited ON statements(cited_work_id) WHERE self_citation = 1;
