-- Schema version 2: the index as first released (kept verbatim: indexes made then are upgraded from here).
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS works (
    id INTEGER PRIMARY KEY,
    doi TEXT, pmid TEXT, pmcid TEXT,
    title TEXT NOT NULL DEFAULT '', title_norm TEXT NOT NULL DEFAULT '', title_key TEXT NOT NULL DEFAULT '',
    authors_json TEXT NOT NULL DEFAULT '[]', first_author TEXT NOT NULL DEFAULT '',
    year INTEGER, container TEXT NOT NULL DEFAULT '', volume TEXT NOT NULL DEFAULT '',
    pages TEXT NOT NULL DEFAULT '', first_page TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL DEFAULT 'reference', work_type TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX IF NOT EXISTS works_doi ON works(doi) WHERE doi IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS works_pmid ON works(pmid) WHERE pmid IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS works_pmcid ON works(pmcid) WHERE pmcid IS NOT NULL;
CREATE INDEX IF NOT EXISTS works_author_year ON works(first_author, year);
CREATE INDEX IF NOT EXISTS works_title_key ON works(title_key);

CREATE TABLE IF NOT EXISTS documents (
    id INTEGER PRIMARY KEY,
    identity TEXT NOT NULL UNIQUE,          -- 'doi:…' or 'source:…': what makes a re-ingest a replacement
    source TEXT NOT NULL, format TEXT NOT NULL,
    work_id INTEGER NOT NULL REFERENCES works(id),
    doi TEXT, title TEXT NOT NULL DEFAULT '', year INTEGER, journal TEXT NOT NULL DEFAULT '',
    authors_json TEXT NOT NULL DEFAULT '[]', article_type TEXT NOT NULL DEFAULT '',
    n_statements INTEGER NOT NULL DEFAULT 0, n_references INTEGER NOT NULL DEFAULT 0,
    ingested_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_work ON documents(work_id);

CREATE TABLE IF NOT EXISTS refs (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    key TEXT NOT NULL, label TEXT NOT NULL DEFAULT '', raw TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '', authors_json TEXT NOT NULL DEFAULT '[]', container TEXT NOT NULL DEFAULT '',
    year INTEGER, volume TEXT NOT NULL DEFAULT '', issue TEXT NOT NULL DEFAULT '', pages TEXT NOT NULL DEFAULT '',
    doi TEXT NOT NULL DEFAULT '', pmid TEXT NOT NULL DEFAULT '', pmcid TEXT NOT NULL DEFAULT '',
    work_id INTEGER REFERENCES works(id), method TEXT NOT NULL DEFAULT '', score REAL
);
CREATE INDEX IF NOT EXISTS refs_document ON refs(document_id);
CREATE INDEX IF NOT EXISTS refs_work ON refs(work_id);

-- One row per citing sentence (with its neighbours): a sentence citing five references is stored once and
-- indexed once; its five statements point at it.
CREATE TABLE IF NOT EXISTS contexts (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    paragraph_index INTEGER NOT NULL DEFAULT 0, sentence_index INTEGER NOT NULL DEFAULT 0,
    section_title TEXT NOT NULL DEFAULT '',
    sentence TEXT NOT NULL, before TEXT NOT NULL DEFAULT '', after TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS contexts_document ON contexts(document_id);

CREATE TABLE IF NOT EXISTS statements (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ref_id INTEGER NOT NULL REFERENCES refs(id) ON DELETE CASCADE,
    cited_work_id INTEGER, citing_work_id INTEGER NOT NULL, citing_year INTEGER,
    context_id INTEGER NOT NULL REFERENCES contexts(id) ON DELETE CASCADE,
    section TEXT NOT NULL,
    callout_start INTEGER NOT NULL, callout_end INTEGER NOT NULL,
    model_stance TEXT, model_confidence REAL, evidence TEXT NOT NULL DEFAULT '',
    stance TEXT, confidence REAL,            -- effective label: a curator's correction, else the model's
    self_citation INTEGER NOT NULL DEFAULT 0,
    corrected_by TEXT, corrected_at TEXT
);
CREATE INDEX IF NOT EXISTS statements_cited ON statements(cited_work_id, stance, document_id);
CREATE INDEX IF NOT EXISTS statements_document ON statements(document_id);
-- Report pages and the API at millions of statements: covering indexes so that a much-cited work's
-- section and year tallies and its first page of statements never read the statement rows themselves.
CREATE INDEX IF NOT EXISTS statements_cited_section ON statements(cited_work_id, section, stance, citing_year DESC, id);
CREATE INDEX IF NOT EXISTS statements_cited_year ON statements(cited_work_id, citing_year, stance);
CREATE INDEX IF NOT EXISTS statements_cited_relevance ON statements(cited_work_id,
    (CASE stance WHEN 'contrasting' THEN 0 WHEN 'supporting' THEN 1 ELSE 2 END), confidence DESC,
    citing_year DESC, id);
CREATE INDEX IF NOT EXISTS statements_cited_newest ON statements(cited_work_id, citing_year DESC, id);

CREATE INDEX IF NOT EXISTS statements_context ON statements(context_id);
-- Search covers the citing sentence (what a user reads as the statement), not its neighbours.
CREATE VIRTUAL TABLE IF NOT EXISTS contexts_fts USING fts5(
    sentence, content='contexts', content_rowid='id', tokenize='porter unicode61'
);
CREATE TRIGGER IF NOT EXISTS contexts_ai AFTER INSERT ON contexts BEGIN
  INSERT INTO contexts_fts(rowid, sentence) VALUES (new.id, new.sentence);
END;
CREATE TRIGGER IF NOT EXISTS contexts_ad AFTER DELETE ON contexts BEGIN
  INSERT INTO contexts_fts(contexts_fts, rowid, sentence) VALUES ('delete', old.id, old.sentence);
END;

CREATE TABLE IF NOT EXISTS notices (
    id INTEGER PRIMARY KEY,
    document_id INTEGER REFERENCES documents(id) ON DELETE CASCADE,
    notice_work_id INTEGER, target_work_id INTEGER NOT NULL, kind TEXT NOT NULL, relation TEXT NOT NULL DEFAULT '',
    doi TEXT NOT NULL DEFAULT '', title TEXT NOT NULL DEFAULT '', date TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS notices_target ON notices(target_work_id);

CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY,
    statement_id INTEGER NOT NULL,
    document_identity TEXT NOT NULL, reference_key TEXT NOT NULL, sentence TEXT NOT NULL,
    old_stance TEXT, stance TEXT NOT NULL, curator TEXT NOT NULL, note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
