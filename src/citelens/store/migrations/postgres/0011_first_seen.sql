-- Schema version 11: when each citation statement and editorial notice was first stored (see the SQLite
-- migration of the same number).
ALTER TABLE statements ADD COLUMN IF NOT EXISTS first_seen TEXT;
ALTER TABLE notices ADD COLUMN IF NOT EXISTS first_seen TEXT;
