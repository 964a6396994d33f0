-- Schema version 5: authors as rows, one per (document, author position), with the located affiliation
-- (institution, ROR id, city, region, ISO country) and an author id from disambiguation (authors table).
-- Indexes made before this version get their rows from the stored authors_json (names, ORCID, the first raw
-- affiliation and its tagged institution); place columns and author_id stay empty until the document is
-- ingested again, because locating needs the gazetteer, which SQL cannot reach.
CREATE TABLE IF NOT EXISTS authors (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL DEFAULT '',
    name_key TEXT NOT NULL DEFAULT '',
    orcid TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS authors_name_key ON authors(name_key);
CREATE INDEX IF NOT EXISTS authors_orcid ON authors(orcid);
CREATE TABLE IF NOT EXISTS document_authors (
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    author_id INTEGER REFERENCES authors(id),
    family TEXT NOT NULL DEFAULT '',
    given TEXT NOT NULL DEFAULT '',
    name_key TEXT NOT NULL DEFAULT '',
    orcid TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    affiliation TEXT NOT NULL DEFAULT '',
    institution TEXT NOT NULL DEFAULT '',
    ror TEXT NOT NULL DEFAULT '',
    city TEXT NOT NULL DEFAULT '',
    region TEXT NOT NULL DEFAULT '',
    country TEXT NOT NULL DEFAULT '',
    affiliations_json TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (document_id, position)
);
CREATE INDEX IF NOT EXISTS document_authors_author ON document_authors(author_id);
CREATE INDEX IF NOT EXISTS document_authors_name_key ON document_authors(name_key);
INSERT OR IGNORE INTO document_authors (document_id, position, family, given, name_key, orcid, affiliation,
                                        institution)
SELECT d.id, a.key + 1, COALESCE(json_extract(a.value, '$.family'), ''),
       COALESCE(json_extract(a.value, '$.given'), ''),
       lower(trim(COALESCE(json_extract(a.value, '$.family'), '') || ' '
                  || substr(COALESCE(json_extract(a.value, '$.given'), ''), 1, 1))),
       COALESCE(json_extract(a.value, '$.orcid'), ''),
       COALESCE(json_extract(a.value, '$.affiliations[0].raw'), ''),
       COALESCE(json_extract(a.value, '$.affiliations[0].institution'), '')
FROM documents d, json_each(CASE WHEN json_valid(d.authors_json) THEN d.authors_json ELSE '[]' END) a;
