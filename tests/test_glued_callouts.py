"""Schema 15: search finds the words that superscript citation numbers are glued to.

Nature- and Cell-style articles print citations as superscripts; the stored sentence keeps them as digits glued
to the word before ("lower contrast stimuli1,2."), and both engines read "stimuli1" as one word, so "contrast
stimuli" or "light" missed the sentence (18 % of the demo's statements have such a callout). The text search
indexes now puts a separator before each such callout, found by its stored offsets: the stored sentence is
unchanged, snippets highlight the word, and "Sox2" or "p53" in running text stay one word. A schema-14 index
reads as before and upgrades in place; a filtered search answers as before (SQLite's schema 15 also indexes the
filters).
"""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from citelens.pipeline import ingest_paths
from citelens.store import Store, open_store
from citelens.store.migrations import migration_version
from citelens.store.query import search_sentence, search_text
from citelens.store.records import SEARCH_SEPARATOR
from citelens.web.app import create_app
from test_arrival_index import sql
from test_web import FIXTURES, settings

BODY = """<body>
    <sec sec-type="intro"><title>Introduction</title>
      <p>There is more spatial summation for lower contrast stimuli<sup><xref ref-type="bibr" rid="r1">1</xref>,<xref
      ref-type="bibr" rid="r2">2</xref></sup>. Neurons fire in response to light<sup><xref ref-type="bibr"
      rid="r3">3</xref>–<xref ref-type="bibr" rid="r5">5</xref></sup>. Stem cells express Sox2 in the niche
      [<xref ref-type="bibr" rid="r4">4</xref>]. Telomere damage stabilises p53<sup><xref ref-type="bibr"
      rid="r6">6</xref></sup>.</p>
    </sec>
    <sec sec-type="results"><title>Results</title>
      <p>Our light results agree with earlier reports [<xref ref-type="bibr" rid="r3">3</xref>].</p>
    </sec>
  </body>"""
GLUED = "There is more spatial summation for lower contrast stimuli1,2."
# What each query finds, by sentence: a glued word ("stimuli", "light", "p53" before its callout), a word with a
# digit that is not a callout ("Sox2"), a phrase across the glue, an exclusion, a prefix.
QUERIES = ["contrast stimuli", '"lower contrast stimuli"', "light", "Sox2", "p53", "stimul*", "light -niche",
           "summation OR Sox2"]
FILTERS: list[dict[str, object]] = [{}, {"stance": "mentioning"}, {"section": "results"},
                                    {"year_from": 2020, "exclude_self": True}, {"stance": "supporting",
                                                                                 "min_confidence": 0.5}]


def glued_article(tmp_path: Path) -> Path:
    src = (FIXTURES / "mini-jats.xml").read_text(encoding="utf-8")
    start, end = src.index("<body>"), src.index("</body>") + len("</body>")
    path = tmp_path / "glued.xml"
    path.write_text(src[:start] + BODY + src[end:], encoding="utf-8")
    return path


def build(store_url: str, tmp_path: Path) -> None:
    store = open_store(store_url)
    summary = ingest_paths([glued_article(tmp_path), FIXTURES / "xss-article.xml"], store, classifier="cues")
    store.close()
    assert summary.stored == 2, summary.failed


def found(store: Store, query: str, **filters: object) -> list[str]:
    return [h.sentence for h in store.search_statements(query, limit=50, **filters)[1]]  # type: ignore[arg-type]


def answers(store: Store) -> list[object]:
    out: list[object] = []
    for q in QUERIES:
        for f in FILTERS:
            total, hits = store.search_statements(q, limit=50, **f)  # type: ignore[arg-type]
            out.append((q, f, total, [(h.id, h.sentence, h.snippet.text) for h in hits]))
    return out


# ------------------------------------------------------------------------------------------- the rule itself

def test_only_stored_numeric_callouts_glued_to_a_word_are_split() -> None:
    s = "more summation for lower contrast stimuli48,49."
    at = s.index("48")
    assert search_sentence(s, [(at, at + 2), (at + 3, at + 5)]) == s[:at] + SEARCH_SEPARATOR + s[at:]
    assert search_text(s[:at] + SEARCH_SEPARATOR + s[at:]).endswith("contrast stimuli 48 49")
    assert search_sentence("in response to light2–4.", [(20, 23)]) == f"in response to light{SEARCH_SEPARATOR}2–4."
    # A callout after a space or a bracket needs nothing; nor does a sentence without callouts.
    assert search_sentence("as shown [12].", [(10, 12)]) is None
    assert search_sentence("as shown 12.", [(9, 11)]) is None
    assert search_sentence("Sox2 and CD4 and H2O and V1", []) is None
    # Glued to a word that ends in digits: the word keeps them ("p53" + callout "12").
    assert search_sentence("stabilises p5312.", [(14, 16)]) == f"stabilises p53{SEARCH_SEPARATOR}12."
    # Offsets that do not fit the sentence, or a callout with letters (an author-year one), change nothing.
    assert search_sentence("light2.", [(5, 9), (0, 1)]) is None
    assert search_sentence("Smith2005a", [(5, 10)]) is None
    # A PDF's superscript digits are split off too ("light²"); the upgrade's SQL looks for the same digits.
    assert search_sentence("light².", [(5, 6)]) == f"light{SEARCH_SEPARATOR}²."


# ------------------------------------------------------------------------------------------------ both backends

def test_search_finds_the_word_a_superscript_callout_is_glued_to(store_url: str, tmp_path: Path) -> None:
    build(store_url, tmp_path)
    store = open_store(store_url, readonly=True)
    try:
        assert set(found(store, "contrast stimuli")) == {GLUED}
        assert set(found(store, '"lower contrast stimuli"')) == {GLUED}
        assert "Neurons fire in response to light3–5." in found(store, "light")
        assert set(found(store, "p53")) == {"Telomere damage stabilises p536."}
        # A word with a digit of its own is still one word, found as typed (and not by its letters alone).
        assert set(found(store, "Sox2")) == {"Stem cells express Sox2 in the niche [4]."}
        assert found(store, "Sox") == []
        # The stored sentence, the callout offsets and the statement's own text are unchanged.
        hit = store.search_statements("summation", limit=5)[1][0]
        assert hit.sentence == GLUED and hit.sentence[hit.callout_start:hit.callout_end] in ("1", "2")
        # The snippet highlights the glued word and reads as the sentence does (no separator in it).
        snippet = store.search_statements("stimuli", limit=5)[1][0].snippet
        assert ("stimuli", True) in snippet.parts
        assert SEARCH_SEPARATOR not in snippet.text and "stimuli1,2" in snippet.text
    finally:
        store.close()


def test_the_page_and_api_highlight_the_glued_word(store_url: str, tmp_path: Path) -> None:
    build(store_url, tmp_path)
    with TestClient(create_app(store_url, settings())) as c:
        html = c.get("/search", params={"q": "contrast stimuli"}).text
        assert "<mark>stimuli</mark>1,2" in html and "\x1f" not in html
        api = c.get("/api/search", params={"q": "light"}).json()
        assert "Neurons fire in response to light3–5." in [h["sentence"] for h in api["results"]]
        assert "\x1f" not in str(api)
        assert "Neurons fire in response to <<light>>3–5." in [h["snippet"] for h in api["results"]]


def test_a_schema_14_index_reads_as_before_and_upgrades_in_place(store_url: str, tmp_path: Path) -> None:
    """Read-only, an index made before schema 15 answers as it did (the glued words missed); opened to write, it is
    upgraded (search_sentence filled in, the full-text index rebuilt) and answers as a new index does."""
    build(store_url, tmp_path)
    store = open_store(store_url)
    expected = answers(store)
    store.close()
    postgres = store_url.startswith("postgresql")
    version = migration_version("postgres" if postgres else "sqlite", "search_sentence")
    if postgres:
        import psycopg

        with psycopg.connect(store_url) as conn:  # search_text as schema 14's writer made it
            rows = conn.execute("SELECT id, sentence FROM contexts").fetchall()
        sql(store_url, "ALTER TABLE contexts DROP COLUMN search_sentence",
            *[f"UPDATE contexts SET search_text = '{search_text(s).replace(chr(39), chr(39) * 2)}' WHERE id = {i}"
              for i, s in rows],
            f"UPDATE meta SET value = '{version - 1}' WHERE key = 'schema_version'")
    else:
        sql(store_url, "DROP TRIGGER contexts_ai", "DROP TRIGGER contexts_ad", "DROP TABLE contexts_fts",
            "DROP VIEW contexts_search", "ALTER TABLE contexts DROP COLUMN search_sentence",
            "DROP INDEX statements_context_filters", "CREATE INDEX statements_context ON statements(context_id)",
            "CREATE VIRTUAL TABLE contexts_fts USING fts5(sentence, content='contexts', content_rowid='id',"
            " tokenize='porter unicode61')",
            "CREATE TRIGGER contexts_ai AFTER INSERT ON contexts BEGIN"
            " INSERT INTO contexts_fts(rowid, sentence) VALUES (new.id, new.sentence); END",
            "CREATE TRIGGER contexts_ad AFTER DELETE ON contexts BEGIN INSERT INTO contexts_fts(contexts_fts,"
            " rowid, sentence) VALUES ('delete', old.id, old.sentence); END",
            "INSERT INTO contexts_fts(contexts_fts) VALUES ('rebuild')",
            f"UPDATE meta SET value = '{version - 1}' WHERE key = 'schema_version'")
    old = open_store(store_url, readonly=True)
    try:
        assert old.schema_version == version - 1
        assert found(old, "contrast stimuli") == [] and found(old, "Sox2")  # as schema 14 answered
        before = answers(old)
        # Every query and filter whose answer the glue did not touch reads exactly as on a new index.
        untouched = [a for a in expected if a[0] in ("Sox2", "summation OR Sox2")]
        assert untouched and all(a in before for a in untouched)
    finally:
        old.close()
    upgraded = open_store(store_url)
    try:
        assert upgraded.schema_version == version and upgraded.upgraded_from == version - 1
        assert answers(upgraded) == expected
    finally:
        upgraded.close()
    if not postgres:
        import sqlite3

        conn = sqlite3.connect(store_url)
        conn.execute("INSERT INTO contexts_fts(contexts_fts, rank) VALUES ('integrity-check', 1)")
        conn.close()


def test_reingesting_and_removing_keeps_the_full_text_index_whole(store_url: str, tmp_path: Path) -> None:
    """The full-text index is told to forget exactly the text it indexed (a glued sentence's search text): a
    re-ingested article is found once, by its new text only."""
    build(store_url, tmp_path)
    article = glued_article(tmp_path)
    article.write_text(article.read_text(encoding="utf-8").replace("lower contrast", "higher contrast"),
                       encoding="utf-8")
    store = open_store(store_url)
    try:
        ingest_paths([article], store, classifier="cues")
        assert found(store, "lower contrast stimuli") == []
        assert set(found(store, "higher contrast stimuli")) == {GLUED.replace("lower", "higher")}
        assert len(found(store, "stimuli")) == 2  # the sentence's two statements, once each
    finally:
        store.close()
    if not store_url.startswith("postgresql"):
        import sqlite3

        conn = sqlite3.connect(store_url)
        conn.execute("INSERT INTO contexts_fts(contexts_fts, rank) VALUES ('integrity-check', 1)")
        conn.close()


def test_a_filtered_search_is_answered_from_the_filter_index(tmp_path: Path) -> None:
    """SQLite: the filters a search joins each match to are in the index on the statements' sentence, so they are
    tested there (the plan never reads a statement row to count). PostgreSQL's planner did not use such an index."""
    db = tmp_path / "i.db"
    build(str(db), tmp_path)
    store = open_store(db)
    try:
        plan = " ".join(str(tuple(r)) for r in store.conn.execute(  # type: ignore[attr-defined]
            "EXPLAIN QUERY PLAN SELECT COUNT(*) FROM contexts_fts f JOIN statements s ON s.context_id = f.rowid"
            " WHERE contexts_fts MATCH 'light' AND s.stance = 'contrasting' AND s.section = 'results'"))
        assert "COVERING INDEX statements_context_filters" in plan, plan
    finally:
        store.close()
