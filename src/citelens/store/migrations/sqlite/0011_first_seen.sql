-- Schema version 11: when each citation statement and editorial notice was first stored. Re-ingesting an article
-- replaces its rows and stamps its document anew; alerts then announced every statement of it again ("new" in
-- every collection that holds a work it cites). A statement or notice the replaced version had keeps the time it
-- first arrived; NULL (rows stored before this version, or new ones) means its document's ingested_at.
ALTER TABLE statements ADD COLUMN first_seen TEXT;
ALTER TABLE notices ADD COLUMN first_seen TEXT;
