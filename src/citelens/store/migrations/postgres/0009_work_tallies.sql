-- Schema version 9: tallies per cited work, kept by the writer (citelens.store.sql, _count_statements) in the
-- transaction that stores, replaces or corrects statements, so that pages and the API read counts instead of
-- recounting a much-cited work's statements on every request. This migration builds them for an existing
-- index (re-runnable: it starts from empty tables).
--
-- work_tallies: statements per (cited work, label, self-citation, confidence bucket). The bucket answers
-- min_confidence thresholds exactly: -1 for a statement no threshold relabels (a curator's correction, or a
-- label other than supporting/contrasting); else floor(confidence × 100) clamped to 0-100, the same
-- expression as the store's (SQLStore._CONF_BUCKET), so that a reader can count the buckets next to a
-- threshold from the statements themselves and every other bucket from here.
CREATE TABLE IF NOT EXISTS work_tallies (
    work_id BIGINT NOT NULL,
    stance TEXT NOT NULL,             -- the stored label; '' for none
    self_citation INTEGER NOT NULL,
    conf_bucket INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (work_id, stance, self_citation, conf_bucket)
);
-- Statements per (cited work, citing year, label): the report's year chart, institution and journal windows.
-- year_known = 0 (citing_year 0) stands for an unknown year: key columns cannot be NULL.
CREATE TABLE IF NOT EXISTS work_year_tallies (
    work_id BIGINT NOT NULL,
    year_known INTEGER NOT NULL,
    citing_year INTEGER NOT NULL,
    stance TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (work_id, year_known, citing_year, stance)
);
-- One row per cited work: its citing publications (documents with at least one statement citing it; and
-- with at least one that is not a self-citation; a document's statements come and go together), its
-- statements by stored label (unclassified: no label or another one) and its self-citations. What most
-- reads need (tallies without a threshold, the works of an author or a journal) in one row.
CREATE TABLE IF NOT EXISTS work_totals (
    work_id BIGINT PRIMARY KEY,
    publications BIGINT NOT NULL,
    publications_not_self BIGINT NOT NULL,
    statements BIGINT NOT NULL,
    supporting BIGINT NOT NULL,
    contrasting BIGINT NOT NULL,
    mentioning BIGINT NOT NULL,
    unclassified BIGINT NOT NULL,
    self_citations BIGINT NOT NULL
);
DELETE FROM work_tallies;
DELETE FROM work_year_tallies;
DELETE FROM work_totals;
INSERT INTO work_tallies (work_id, stance, self_citation, conf_bucket, n)
SELECT cited_work_id, COALESCE(stance, ''), self_citation,
       CASE WHEN stance IN ('supporting', 'contrasting') AND corrected_by IS NULL
            THEN LEAST(100, GREATEST(0, floor(COALESCE(confidence, 0) * 100)))::integer ELSE -1 END,
       COUNT(*)
FROM statements WHERE cited_work_id IS NOT NULL GROUP BY 1, 2, 3, 4;
INSERT INTO work_year_tallies (work_id, year_known, citing_year, stance, n)
SELECT cited_work_id, CASE WHEN citing_year IS NULL THEN 0 ELSE 1 END, COALESCE(citing_year, 0),
       COALESCE(stance, ''), COUNT(*)
FROM statements WHERE cited_work_id IS NOT NULL GROUP BY 1, 2, 3, 4;
INSERT INTO work_totals (work_id, publications, publications_not_self, statements, supporting, contrasting,
                         mentioning, unclassified, self_citations)
SELECT cited_work_id, COUNT(*), SUM(not_self), SUM(n), SUM(s), SUM(c), SUM(m), SUM(n - s - c - m), SUM(own)
FROM (SELECT cited_work_id, document_id, MAX(CASE WHEN self_citation = 0 THEN 1 ELSE 0 END) AS not_self,
             COUNT(*) AS n, SUM(CASE WHEN stance = 'supporting' THEN 1 ELSE 0 END) AS s,
             SUM(CASE WHEN stance = 'contrasting' THEN 1 ELSE 0 END) AS c,
             SUM(CASE WHEN stance = 'mentioning' THEN 1 ELSE 0 END) AS m,
             SUM(CASE WHEN self_citation = 0 THEN 0 ELSE 1 END) AS own
      FROM statements WHERE cited_work_id IS NOT NULL GROUP BY cited_work_id, document_id) AS pairs
GROUP BY cited_work_id;
