-- Schema version 13: a notice's reasons (one a line) and the source's own id of it (Retraction Watch's Record ID);
-- see the SQLite migration of the same number.
ALTER TABLE notices ADD COLUMN IF NOT EXISTS reasons TEXT NOT NULL DEFAULT '';
ALTER TABLE notices ADD COLUMN IF NOT EXISTS source_id TEXT NOT NULL DEFAULT '';
