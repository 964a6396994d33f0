-- Schema version 14: an index on when each citation statement arrived, for alerts and Atom feeds; first_seen is
-- filled in for the statements stored before (see the SQLite migration of the same number). The index holds the
-- id so that a window is answered from the index alone.
UPDATE statements s SET first_seen = d.ingested_at FROM documents d
 WHERE d.id = s.document_id AND s.first_seen IS NULL;
CREATE INDEX IF NOT EXISTS statements_arrival ON statements(cited_work_id, first_seen, id);
