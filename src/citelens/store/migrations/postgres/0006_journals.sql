-- Schema version 6: journals (see the SQLite migration of the same number).
ALTER TABLE works ADD COLUMN IF NOT EXISTS issn TEXT NOT NULL DEFAULT '';
ALTER TABLE works ADD COLUMN IF NOT EXISTS eissn TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS works_issn ON works(issn, eissn);
CREATE INDEX IF NOT EXISTS works_eissn ON works(eissn, issn);
CREATE INDEX IF NOT EXISTS works_container_lower ON works(lower(container), issn, eissn);
CREATE TABLE IF NOT EXISTS journal_names (
    issn TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (issn, name)
);
CREATE INDEX IF NOT EXISTS journal_names_lower ON journal_names(lower(name));
