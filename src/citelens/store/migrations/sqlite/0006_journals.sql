-- Schema version 6: journals. A work keeps its journal's print and electronic ISSN (from JATS <issn>, TEI
-- <idno type="ISSN|eISSN">, Crossref ISSN/issn-type, OpenAlex source.issn); journal_names keeps every title
-- and abbreviation seen with an ISSN, so that works known only from a reference ("PLoS Biol", no ISSN) are
-- counted for the journal too. Indexes made before this version keep empty ISSNs until their articles or
-- metadata are ingested again: the ISSN was never stored before.
ALTER TABLE works ADD COLUMN issn TEXT NOT NULL DEFAULT '';
ALTER TABLE works ADD COLUMN eissn TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS works_issn ON works(issn, eissn);
CREATE INDEX IF NOT EXISTS works_eissn ON works(eissn, issn);
CREATE INDEX IF NOT EXISTS works_container_lower ON works(lower(container), issn, eissn);
CREATE TABLE IF NOT EXISTS journal_names (
    issn TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (issn, name)
);
CREATE INDEX IF NOT EXISTS journal_names_lower ON journal_names(lower(name));
