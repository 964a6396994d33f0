-- Schema version 15: search finds the words that superscript citation numbers are glued to, and filtered
-- searches test their filters from an index.
-- Many articles print citations as superscripts, which reach the stored sentence as digits glued to the word
-- before ("lower contrast stimuli48,49."): FTS5 read "stimuli48" as one word, so "contrast stimuli" missed it
-- (18 % of the demo's statements). The stored sentence stays as it is (it is shown and exported, and callout
-- offsets point into it); search_sentence holds the text that search reads instead, a separator between each
-- word and its glued callout (citelens.store.query.search_sentence), NULL where it would be the sentence itself.
ALTER TABLE contexts ADD COLUMN search_sentence TEXT;
-- What the full-text index reads: its snippets and 'delete' re-read the text it indexed, which is now this.
CREATE VIEW IF NOT EXISTS contexts_search(id, sentence) AS
  SELECT id, COALESCE(search_sentence, sentence) FROM contexts;
DROP TRIGGER IF EXISTS contexts_ai;
DROP TRIGGER IF EXISTS contexts_ad;
DROP TABLE IF EXISTS contexts_fts;
-- The index itself is rebuilt after this script, once the store has filled in search_sentence for the sentences
-- stored before (a Python step: the rule needs the sentence's callouts and Unicode letters).
CREATE VIRTUAL TABLE IF NOT EXISTS contexts_fts USING fts5(
    sentence, content='contexts_search', content_rowid='id', tokenize='porter unicode61'
);
CREATE TRIGGER IF NOT EXISTS contexts_ai AFTER INSERT ON contexts BEGIN
  INSERT INTO contexts_fts(rowid, sentence) VALUES (new.id, COALESCE(new.search_sentence, new.sentence));
END;
CREATE TRIGGER IF NOT EXISTS contexts_ad AFTER DELETE ON contexts BEGIN
  INSERT INTO contexts_fts(contexts_fts, rowid, sentence)
    VALUES ('delete', old.id, COALESCE(old.search_sentence, old.sentence));
END;
-- A search with a filter (type, section, years, self-citations, a threshold) joins every text match to its
-- statements: with the filtered columns in the index on context_id, each is tested there, not on the statement's
-- row ("expression" with type=contrasting, 10,823 of 270,447 matches in 1 M statements: see docs/benchmarks.md).
-- It serves everything the index on context_id alone served, so that one goes.
CREATE INDEX IF NOT EXISTS statements_context_filters ON statements(context_id, stance, section, citing_year,
    self_citation, confidence, corrected_by);
DROP INDEX IF EXISTS statements_context;
