-- Schema version 8: the confidence of each author assignment (citelens.people.match_confidence): 1.0 for an
-- ORCID match or an author with no namesake, the weighed evidence for a merge, 1 − the best rejected namesake
-- for a new author. NULL for rows assigned before this version (their evidence was not weighed).
ALTER TABLE document_authors ADD COLUMN author_confidence REAL;
-- Author and institution pages look rows up by author id and by ROR id.
CREATE INDEX IF NOT EXISTS document_authors_ror ON document_authors(ror);
-- An author page counts the self-citations among the statements citing all the author's works: a small
-- partial index answers it without reading the statement rows.
CREATE INDEX IF NOT EXISTS statements_self_cited ON statements(cited_work_id) WHERE self_citation = 1;
