from __future__ import annotations

import contextlib
import dataclasses
import gc
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from citelens.document import Document
from citelens.errors import NotFoundError
from citelens.pipeline import Pipeline, read_bytes_input
from citelens.references.resolve import WorkRecord
from citelens.store import Correction, Statement, Store, Tallies, export_row, open_store
from citelens.store.query import Term, parse_query
from tally_check import assert_tallies_match_statements

CITING_TEMPLATE = """<?xml version="1.0"?>
<article xmlns:xlink="http://www.w3.org/1999/xlink"><front><article-meta>
<article-id pub-id-type="doi">{doi}</article-id><title-group><article-title>{title}</article-title></title-group>
<contrib-group><contrib contrib-type="author"><name><surname>{author}</surname><given-names>Z</given-names></name></contrib></contrib-group>
<pub-date><year>{year}</year></pub-date></article-meta></front>
<body><sec sec-type="discussion"><title>Discussion</title><p>{sentence} [<xref ref-type="bibr" rid="b1">1</xref>].</p></sec></body>
<back><ref-list><ref id="b1"><element-citation><person-group><name><surname>Barnes</surname><given-names>T</given-names></name></person-group>
<year>2001</year><article-title>Sentinel behaviour in bacterial colonies</article-title><source>Microbiology</source></element-citation></ref></ref-list></back></article>
"""


def citing(doi: str, sentence: str, year: int = 2021, author: str = "Quist", title: str = "A citing paper") -> bytes:
    return CITING_TEMPLATE.format(doi=doi, sentence=sentence, year=year, author=author, title=title).encode()


def ingest(p: Pipeline, name: str, data: bytes) -> None:
    s = p.ingest([read_bytes_input(name, data)])
    assert not s.failed, s.failed


def test_save_report_and_tallies_update(pipeline: Pipeline, mini_jats: bytes) -> None:
    ingest(pipeline, "mini.xml", mini_jats)
    store = pipeline.store
    barnes = store.search_works("Sentinel behaviour in bacterial colonies")[0]
    t1 = store.tallies(barnes.id)
    assert t1.citing_publications == 1 and t1.total == 3  # intro, methods (author-year), results
    # A new citing article without DOIs for the reference lands on the same work and updates its tallies.
    ingest(pipeline, "c1.xml", citing("10.5555/c1", "Our data are consistent with Barnes"))
    t2 = store.tallies(barnes.id)
    assert t2.citing_publications == 2 and t2.total == 4 and t2.supporting == t1.supporting + 1
    by_section = store.section_tallies(barnes.id)
    assert by_section["discussion"].total == 1 and by_section["introduction"].total == 1
    years = store.year_tallies(barnes.id)
    assert [y.year for y in years] == [2020, 2021]
    total, rows = store.citations(barnes.id, section="discussion")
    assert total == 1 and rows[0].citing_doi == "10.5555/c1" and rows[0].sentence.startswith("Our data")
    assert isinstance(rows[0], Statement) and isinstance(t1, Tallies)
    assert store.get_work("W999999") is None
    with pytest.raises(NotFoundError):
        store.tallies("not-a-work")


def test_reingest_replaces_without_duplicates(pipeline: Pipeline, mini_jats: bytes) -> None:
    ingest(pipeline, "mini.xml", mini_jats)
    before = pipeline.store.stats()
    summary = pipeline.ingest([read_bytes_input("copy-of-mini.xml", mini_jats)])  # same DOI, other name
    assert summary.replaced == 1
    after = pipeline.store.stats()
    for key in ("documents", "statements", "references", "works"):
        assert getattr(after, key) == getattr(before, key), key


def test_sqlite_indexes_one_search_row_per_sentence(db_path: Path, mini_jats: bytes) -> None:
    p = Pipeline(open_store(db_path), "cues")
    ingest(p, "mini.xml", mini_jats)
    ingest(p, "copy-of-mini.xml", mini_jats)
    statements = p.store.stats().statements
    conn = sqlite3.connect(db_path)
    fts_rows = conn.execute("SELECT COUNT(*) FROM contexts_fts").fetchone()[0]
    contexts = conn.execute("SELECT COUNT(*) FROM contexts").fetchone()[0]
    # one indexed row per citing sentence, shared by the statements of its callouts
    assert fts_rows == contexts and 0 < contexts < statements


def test_sqlite_writer_page_cache_is_bounded_and_configurable(db_path: Path, mini_jats: bytes,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """The writable connection gets a bounded page cache (CITELENS_SQLITE_CACHE_MB, KiB as a negative
    cache_size); 0 keeps SQLite's default; read-only connections keep the default; a bad value falls back."""
    from citelens.store.sqlite import DEFAULT_WRITER_CACHE_MB, SQLiteStore

    def cache_size(store: Store) -> int:
        assert isinstance(store, SQLiteStore)
        return int(store.conn.execute("PRAGMA cache_size").fetchone()[0])

    sqlite_default = int(sqlite3.connect(":memory:").execute("PRAGMA cache_size").fetchone()[0])
    monkeypatch.delenv("CITELENS_SQLITE_CACHE_MB", raising=False)
    store = open_store(db_path)
    assert cache_size(store) == -DEFAULT_WRITER_CACHE_MB * 1024
    ingest(Pipeline(store, "cues"), "mini.xml", mini_jats)
    store.close()
    reader = open_store(db_path, readonly=True)
    assert cache_size(reader) == sqlite_default
    reader.close()
    for value, expected in (("16", -16 * 1024), ("0", sqlite_default), ("lots", -DEFAULT_WRITER_CACHE_MB * 1024),
                            ("-5", -DEFAULT_WRITER_CACHE_MB * 1024)):
        monkeypatch.setenv("CITELENS_SQLITE_CACHE_MB", value)
        store = open_store(db_path)
        assert cache_size(store) == expected, value
        assert store.stats().statements > 0
        store.close()


def test_search_filters_and_safe_queries(pipeline: Pipeline, mini_jats: bytes) -> None:
    ingest(pipeline, "mini.xml", mini_jats)
    store = pipeline.store
    total, rows = store.search_statements("growth arrest")
    assert total >= 1 and [t for t, hit in rows[0].snippet.parts if hit] == ["growth", "arrest"]
    assert "growth arrest" in rows[0].snippet.text
    assert store.search_statements("growth", section="methods")[0] == 0
    # the documented syntax: stemming, phrases, prefixes, OR (AND binds tighter)
    assert store.search_statements("observing growth")[0] == store.search_statements("observe growth")[0] >= 1
    assert store.search_statements('"growth arrest"')[0] == total
    assert store.search_statements('"arrest growth"')[0] == 0
    assert store.search_statements("arre*")[0] == total
    assert store.search_statements("zzzunknown OR arrest")[0] == total
    assert store.search_statements("zzzunknown arrest")[0] == 0
    # a leading "-" leaves out statements with a word or phrase; alone, it has nothing to leave out of
    barnes, with_contrast = (store.search_statements(q, limit=100) for q in ("barnes", "barnes contrast"))
    assert barnes[0] > with_contrast[0] >= 1
    without = store.search_statements("barnes -contrast", limit=100)
    assert without[0] == barnes[0] - with_contrast[0]
    assert not any("contrast" in r.sentence.lower() for r in without[1])
    assert store.search_statements('barnes -"growth arrest"')[0] == without[0]
    assert store.search_statements("barnes -contr*")[0] == without[0]
    assert store.search_statements("-barnes")[0] == barnes[0]
    assert store.search_statements("zzzunknown OR barnes -contrast")[0] == without[0]
    assert store.search_statements("growth-arrest")[0] == total  # a hyphen inside a word is no exclusion
    # a term or a group repeated is read once: 250 copies of "arre*" fit in 500 characters, and each copy was another
    # pass over the index (6 s on the demo, minutes on a large index)
    assert parse_query("arre*" * 250 + " OR arre*arre* OR x -y -y") == [
        [Term(("arre",), prefix=True)], [Term(("x",)), Term(("y",), excluded=True)]]
    assert store.search_statements("arre*" * 250)[0] == store.search_statements("arre* OR arre*")[0] == total
    # engine syntax characters in user input never raise
    for q in ['"unbalanced', "NEAR(", "a OR", "*", "col:umn", "AND AND", "-x", "a -", "- -", "-* x", "a -\"\"",
              "'); DROP TABLE works;--",
              "a & b | !c", "x:* <-> y", "(", "\\", "%s %(x)s ?"]:
        store.search_statements(q)
    assert store.search_statements("")[0] == 0


def test_corrections_override_and_survive_reingest(pipeline: Pipeline, mini_jats: bytes) -> None:
    ingest(pipeline, "mini.xml", mini_jats)
    store = pipeline.store
    work = store.search_works("Sentinel behaviour")[0]
    _, rows = store.citations(work.id, section="introduction")
    sid = rows[0].id
    out = store.correct_statement(sid, "supporting", "curator@example.org", "test")
    assert out.type == "supporting" and out.corrected and out.model_stance == rows[0].model_stance
    assert store.tallies(work.id).supporting >= 1
    ingest(pipeline, "mini.xml", mini_jats)  # re-ingest: the correction is re-applied
    _, rows = store.citations(work.id, section="introduction")
    assert rows[0].type == "supporting" and rows[0].corrected_by == "curator@example.org"
    assert rows[0].confidence == 1.0
    corrections = list(store.iter_corrections())
    assert len(corrections) == 1 and corrections[0].stance == "supporting" and corrections[0].note == "test"
    with pytest.raises(ValueError):
        store.correct_statement(sid, "bogus", "x")


def test_retraction_notice_links_to_retracted_work(pipeline: Pipeline) -> None:
    notice = b"""<article article-type="retraction" xmlns:xlink="http://www.w3.org/1999/xlink"><front><article-meta>
    <article-id pub-id-type="doi">10.5555/retraction</article-id><title-group><article-title>Retraction: Bad paper</article-title>
    </title-group><related-article related-article-type="retracted-article" ext-link-type="uri"
    xlink:href="info:doi/10.5555/bad"/></article-meta></front><body><p>Retracted.</p></body></article>"""
    ingest(pipeline, "retraction.xml", notice)
    work = pipeline.store.get_work("10.5555/BAD")
    assert work is not None and work.retracted and work.notices[0].kind == "retraction"
    notice = pipeline.store.get_work("10.5555/retraction")
    assert notice is not None and work.notices[0].notice_work_id == notice.id


def test_metadata_records_enrich_resolution(pipeline: Pipeline) -> None:
    meta = (b'{"DOI": "10.7777/barnes", "title": ["Sentinel behaviour in bacterial colonies"], '
            b'"author": [{"family": "Barnes", "given": "T"}], "issued": {"date-parts": [[2001]]}, '
            b'"container-title": ["Microbiology"]}\nnot json\n')
    summary = pipeline.ingest([read_bytes_input("works.jsonl", meta)])
    assert summary.metadata_records == 1 and len(summary.failed) == 1 and "line 2" in summary.failed[0].problem
    ingest(pipeline, "c1.xml", citing("10.5555/c1", "We cite Barnes"))
    work = pipeline.store.get_work("10.7777/barnes")
    assert work is not None and pipeline.store.tallies(work.id).total == 1
    assert work.kind == "metadata" and work.title == "Sentinel behaviour in bacterial colonies"


def test_older_sqlite_index_is_upgraded_in_place(tmp_path: Path, mini_jats: bytes) -> None:
    from citelens.store.sqlite import SCHEMA_VERSION

    db = tmp_path / "v2.db"
    p = Pipeline(open_store(db), "cues")
    ingest(p, "mini.xml", mini_jats)
    before = p.store.stats()
    p.store.close()
    # What the first release (schema 2, migrations/sqlite/0002_baseline.sql) left on disk: no manifest table.
    conn = sqlite3.connect(db)
    conn.execute("DROP TABLE ingest_manifest")
    conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    conn = sqlite3.connect(db)  # and without the per-work tallies (schema 9): the upgrade counts them in place
    for table in ("work_tallies", "work_year_tallies", "work_totals"):
        conn.execute(f"DROP TABLE {table}")
    conn.commit()
    conn.close()
    store = open_store(db)
    assert store.upgraded_from == 2  # what `citelens ingest` announces
    after = store.stats()
    assert after.schema_version == SCHEMA_VERSION >= 3
    assert (after.documents, after.statements, after.works) == (before.documents, before.statements, before.works)
    assert_tallies_match_statements(store)
    store.mark_input_finished("mini.xml", "x", "stored")
    assert store.finished_inputs() == {"mini.xml": "x"}
    store.close()


def citing_kim_2002(doi: str, ref_doi: str) -> bytes:
    """An article citing one 2002 Crop Science article (title, author, year, volume and pages) with ``ref_doi``."""
    cited = ("<ref id='b1'><element-citation><person-group><name><surname>Kim</surname><given-names>J</given-names>"
             "</name></person-group><year>2002</year><article-title>Genetic variation for grain quality in rice"
             "</article-title><source>Crop Sci</source><volume>42</volume><fpage>739</fpage><lpage>745</lpage>"
             f"<pub-id pub-id-type='doi'>{ref_doi}</pub-id></element-citation></ref>")
    xml = citing(doi, "As shown before")
    start, end = xml.index(b"<ref id"), xml.index(b"</ref-list>")
    return xml[:start] + cited.encode() + xml[end:]


def test_another_doi_of_a_work_finds_it_and_goes_with_it(pipeline: Pipeline) -> None:
    """A reference with a mistyped DOI joins its work (same title, author, year, volume, first page); looking the
    mistyped DOI up finds the work, and the alias goes when the work does."""
    ingest(pipeline, "a.xml", citing_kim_2002("10.5555/a", "10.2135/cropsci2002.0739"))
    ingest(pipeline, "b.xml", citing_kim_2002("10.5555/b", "10.2135/cropsci2002.7390"))
    store = pipeline.store
    work = store.get_work("10.2135/cropsci2002.0739")
    assert work is not None and work.doi == "10.2135/cropsci2002.0739"
    via_alias = store.get_work("10.2135/cropsci2002.7390")
    assert via_alias is not None and via_alias.id == work.id
    assert store.tallies(work.id).citing_publications == 2
    ingest(pipeline, "b.xml", citing_kim_2002("10.5555/b", "10.2135/cropsci2002.7390"))  # re-ingest: still one alias
    assert store.get_work("10.2135/cropsci2002.7390").id == work.id  # type: ignore[union-attr]
    assert store.tallies(work.id).citing_publications == 2
    # Both citing articles replaced by versions that cite something else: the work goes, and its alias with it.
    ingest(pipeline, "a.xml", citing("10.5555/a", "As shown before"))
    ingest(pipeline, "b.xml", citing("10.5555/b", "As shown before"))
    assert store.get_work("10.2135/cropsci2002.0739") is None
    assert store.get_work("10.2135/cropsci2002.7390") is None


def test_a_work_shows_the_doi_most_citing_documents_give(pipeline: Pipeline) -> None:
    """The first reference made the work with a mistyped DOI; two later documents give the right one, which was
    kept as an alias while the report page linked the typo. The DOI most citing documents give is now the work's
    and the typo its alias: either finds the work, and nothing is counted twice. A tie keeps the first."""
    typo, right = "10.2135/cropsci2002.7390", "10.2135/cropsci2002.0739"
    store = pipeline.store
    ingest(pipeline, "a.xml", citing_kim_2002("10.5555/a", typo))
    ingest(pipeline, "b.xml", citing_kim_2002("10.5555/b", right))
    work = store.get_work(typo)
    assert work is not None and work.doi == typo  # one document each: the first DOI stays
    ingest(pipeline, "c.xml", citing_kim_2002("10.5555/c", right.upper()))
    moved = store.get_work(typo)
    assert moved is not None and moved.id == work.id and moved.doi == right
    assert store.get_work(right).id == work.id  # type: ignore[union-attr]
    assert store.tallies(work.id).citing_publications == 3
    assert store.stats().works == 4  # three citing articles and the one cited work
    ingest(pipeline, "a.xml", citing_kim_2002("10.5555/a", typo))  # re-ingest of the typo's document: nothing moves back
    ingest(pipeline, "d.xml", citing_kim_2002("10.5555/d", typo))
    assert store.get_work(typo).doi == right  # type: ignore[union-attr]
    assert store.tallies(work.id).citing_publications == 4
    assert_tallies_match_statements(store)


def test_a_work_is_found_by_its_pmid_or_pmcid_as_people_write_them(pipeline: Pipeline) -> None:
    """"PMID:26635547", a PubMed address, "pmcid PMC…" or a PMC address find the work as the bare id does (the
    report page and `citelens report` said 404 to "PMID:…")."""
    xml = citing("10.5555/ids", "As shown before").replace(
        b'<article-id pub-id-type="doi">', b'<article-id pub-id-type="pmid">26635547</article-id>'
        b'<article-id pub-id-type="pmc">PMC4712345</article-id><article-id pub-id-type="doi">')
    ingest(pipeline, "ids.xml", xml)
    store = pipeline.store
    work = store.get_work("10.5555/ids")
    assert work is not None and work.pmid == "26635547" and work.pmcid == "PMC4712345"
    for ident in ("26635547", "PMID:26635547", "pmid 26635547", "https://pubmed.ncbi.nlm.nih.gov/26635547/",
                  "PMC4712345", "pmc4712345", "PMCID: PMC4712345",
                  "https://www.ncbi.nlm.nih.gov/pmc/articles/PMC4712345/", "doi:10.5555/IDS"):
        found = store.get_work(ident)
        assert found is not None and found.id == work.id, ident
    for ident in ("PMID:26635548", "PMC", "PMID:", "x" * 5000, "9" * 5000):
        assert store.get_work(ident) is None, ident[:20]


def test_stats_list_every_resolution_method(pipeline: Pipeline, mini_jats: bytes) -> None:
    """`citelens stats --json` documents resolution_methods {doi, pmid, pmcid, fuzzy, new}: a method no
    reference took is there with 0 (pmcid was missing on the demo)."""
    ingest(pipeline, "mini.xml", mini_jats)
    methods = pipeline.store.stats().resolution_methods
    assert set(methods) >= {"doi", "pmid", "pmcid", "fuzzy", "new"} and methods["pmcid"] == 0
    assert sum(methods.values()) == pipeline.store.stats().references


def test_an_index_whose_path_holds_uri_characters_opens_read_only(tmp_path: Path, mini_jats: bytes) -> None:
    """A read-only open goes through a file: URI; "?", "#" and "%" in the path ended or changed it ("a?b.db"
    opened, and made, an empty "a")."""
    folder = tmp_path / "odd name?#%20"
    folder.mkdir()
    db = folder / "in?dex#1%20.db"
    store = open_store(db)
    Pipeline(store, "cues").ingest([read_bytes_input("mini.xml", mini_jats)])
    store.close()
    reader = open_store(db, readonly=True)
    assert reader.stats().documents == 1
    reader.close()
    assert sorted(p.name for p in folder.iterdir() if not p.name.endswith(("-wal", "-shm"))) == [db.name]


def test_a_new_index_gets_its_whole_schema_in_one_transaction(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader that opens the file while the first writer makes it sees no tables or all of them: made one
    migration per transaction, a reader in between failed "vtable constructor failed: contexts_fts" (CI)."""
    import citelens.store.sqlite as sqlite_store
    from citelens.errors import StoreError
    from citelens.store.migrations import Migration, migrations

    real = migrations("sqlite")
    broken = [*real, Migration(real[-1].version + 1, "broken", "CREATE TABLE oops (x INT); SELECT * FROM nowhere;")]
    monkeypatch.setattr(sqlite_store, "migrations", lambda backend: broken)
    monkeypatch.setattr(sqlite_store, "SCHEMA_VERSION", broken[-1].version)
    db = tmp_path / "new.db"
    with pytest.raises(StoreError):
        open_store(db)
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []  # nothing half-made
    conn.close()
    monkeypatch.undo()
    store = open_store(db)
    assert store.schema_version == real[-1].version
    store.close()


def test_database_from_a_newer_or_unknown_schema_is_refused(tmp_path: Path) -> None:
    from citelens.errors import StoreError

    for version, message in (("99", "newer CiteLens"), ("1", "no CiteLens release")):
        db = tmp_path / f"v{version}.db"
        conn = sqlite3.connect(db)
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', ?)", (version,))
        conn.commit()
        conn.close()
        with pytest.raises(StoreError, match=message):
            open_store(db)
    (tmp_path / "junk.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError):
        open_store(tmp_path / "junk.db")


def test_ingest_workers_come_from_a_fork_server_that_never_opened_a_database(monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing as mp
    import sys
    import threading

    from citelens.pipeline import _worker_context

    server = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
    assert _worker_context().get_start_method() == server
    # Forked only when the caller has opened no database (fork=True: the ingest command, before it opens the
    # index), on Linux, and while no other thread runs (a fork copies one thread; another's locks stay locked).
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert _worker_context(fork=True).get_start_method() == "fork"
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert _worker_context(fork=True).get_start_method() == server
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(sys, "platform", "darwin")
    assert _worker_context(fork=True).get_start_method() == server


def test_ingest_command_with_workers_stores_the_same_as_without(tmp_path: Path, mini_jats: bytes) -> None:
    """The command's workers are forked before it opens the index (a separate process, so that nothing but
    the command runs in it, as for a user): the index is the same as a one-process ingest's."""
    import os
    import subprocess
    import sys

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.xml").write_bytes(mini_jats)
    for i in range(3):
        (folder / f"b{i}.xml").write_bytes(citing(f"10.5555/f{i}", "Our data are consistent with Barnes"))
    (folder / "c.xml").write_bytes(b"<broken")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    exports = []
    for jobs in ("1", "2"):
        db = tmp_path / f"j{jobs}.db"
        r = subprocess.run([sys.executable, "-c", "from citelens.cli import main; main()", "ingest", str(folder),
                            "--db", str(db), "--classifier", "cues", "--jobs", jobs, "--quiet"],
                           capture_output=True, text=True, env=env, timeout=120)
        assert r.returncode == 1, r.stderr  # c.xml fails, the rest is stored
        assert "c.xml" in r.stderr and "Stored 4 document(s)" in r.stderr
        store = open_store(db, readonly=True)
        exports.append([{k: v for k, v in export_row(x).items() if k != "statement_id"} for x in store.iter_statements()])
        store.close()
    assert exports[0] == exports[1] and len(exports[0]) > 3


@pytest.mark.parametrize(("how", "workers_option", "status", "message"), [
    ("ctrl-c", "--jobs=2", 1, "Aborted!"), ("sigterm", "--jobs=2", -15, "Stopped (SIGTERM)."),
    ("ctrl-c", "--dask=local[2]", 1, "Aborted!"), ("sigterm", "--dask=local[2]", -15, "Stopped (SIGTERM)."),
])
def test_an_interrupted_ingest_with_workers_stops_cleanly(tmp_path: Path, mini_jats: bytes, how: str,
                                                          workers_option: str, status: int, message: str) -> None:
    """Ctrl-C (SIGINT to the whole process group, as a terminal sends it) or SIGTERM to the command (`timeout`,
    `kill`, a batch scheduler's time limit) during an ingest with workers (its own, or a local Dask cluster's):
    the command stops promptly with its message (exit status 1, or ended by SIGTERM after its clean-up), no
    worker prints a traceback or outlives it, and the index keeps whole stored batches only."""
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    import psutil

    from citelens.pipeline import STORE_BATCH

    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(1500):  # long enough to be interrupted after its first stored batches
        (folder / f"p{i:04d}.xml").write_bytes(mini_jats.replace(b"10.9999/JTB.2020.001", f"10.5555/int.{i}".encode()))
    db = tmp_path / "i.db"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    proc = subprocess.Popen([sys.executable, "-c", "from citelens.cli import run; run()", "ingest", str(folder),
                             "--db", str(db), "--classifier", "cues", workers_option, "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        stored = 0
        while stored == 0 and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                    stored = conn.execute("SELECT count(*) FROM documents").fetchone()[0]
            except sqlite3.Error:  # not created yet
                pass
        assert stored and proc.poll() is None, "the ingest ended before it could be interrupted"
        workers = psutil.Process(proc.pid).children(recursive=True)
        assert workers
        if how == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == status and message in err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err[-2000:]
    psutil.wait_procs(workers, timeout=10)
    assert not [w for w in workers if w.is_running() and w.status() != psutil.STATUS_ZOMBIE]
    store = open_store(db, readonly=True)
    assert store.stats().documents % STORE_BATCH == 0 and store.stats().documents >= STORE_BATCH
    store.close()


def test_a_sigterm_while_the_workers_start_ends_the_command(tmp_path: Path, mini_jats: bytes) -> None:
    """SIGTERM while ``ingest --jobs 2`` starts its worker processes (a moment a loaded machine makes likely): the command still ends, by the signal, and no worker outlives it. The stop
    used to escape the pool's clean-up there; at exit its still-running supervisor thread replaced each worker
    being stopped, and the command waited for the replacement forever."""
    import os
    import signal
    import subprocess
    import sys

    import psutil

    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(40):
        (folder / f"p{i:02d}.xml").write_bytes(mini_jats.replace(b"10.9999/JTB.2020.001", f"10.5555/st.{i}".encode()))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src")}
    # The signal arrives once the pool's threads run, before it is set up to be stopped (the moment seen
    # under load, where the pool registers its clean-up).
    script = ("import os, signal, multiprocessing.pool as mpp\n"
              "finalize = mpp.util.Finalize\n"
              "def stopped_here(obj, *args, **kwargs):\n"
              "    if isinstance(obj, mpp.Pool):\n"
              "        os.kill(os.getpid(), signal.SIGTERM)\n"
              "    return finalize(obj, *args, **kwargs)\n"
              "mpp.util.Finalize = stopped_here\n"
              "from citelens.cli import run; run()\n")
    proc = subprocess.Popen([sys.executable, "-c", script, "ingest", str(folder), "--db", str(tmp_path / "i.db"),
                             "--classifier", "cues", "--jobs=2", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            leftover = [p for p in psutil.process_iter() if p.pid != proc.pid and _in_group(p, proc.pid)]
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            pytest.fail(f"the command did not end after SIGTERM ({len(leftover)} other process(es) left)")
    assert proc.returncode == -signal.SIGTERM and "Stopped (SIGTERM)." in err
    assert "Traceback" not in err, err[-2000:]
    assert not [p for p in psutil.process_iter() if _in_group(p, proc.pid)]


def _in_group(process: Any, pgid: int) -> bool:
    import os

    try:
        return os.getpgid(process.pid) == pgid and process.status() != "zombie"
    except Exception:  # noqa: BLE001 - gone meanwhile (psutil's or the OS's error)
        return False


def test_ingest_refuses_workers_running_another_classifier(tmp_path: Path, mini_jats: bytes) -> None:
    from citelens.pipeline import worker_pool

    store = open_store(tmp_path / "i.db")
    with worker_pool("cues", 2) as workers, pytest.raises(ValueError, match="classifier"):
        Pipeline(store, "linear").ingest([read_bytes_input("a.xml", mini_jats)], workers=workers)
    store.close()


def test_parallel_ingest_stores_the_same_as_serial(tmp_path: Path, mini_jats: bytes) -> None:
    from citelens.pipeline import ingest_paths

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.xml").write_bytes(mini_jats)
    (folder / "b.xml").write_bytes(citing("10.5555/c1", "Our data are consistent with Barnes"))
    (folder / "c.xml").write_bytes(b"<broken")
    (folder / "works.jsonl").write_bytes(b'{"DOI": "10.7777/x", "title": "Sentinel behaviour in bacterial colonies",'
                                         b' "author": [{"family": "Barnes"}], "issued": {"date-parts": [[2001]]}}\n')
    exports = []
    for jobs in (1, 2):
        store = open_store(tmp_path / f"j{jobs}.db")
        s = ingest_paths([folder], store, "cues", jobs=jobs)
        assert s.stored == 2 and s.metadata_records == 1 and [Path(f.source).name for f in s.failed] == ["c.xml"]
        # The parallel ingest exempts what it loaded from the garbage collector while it runs, and no longer.
        assert gc.get_freeze_count() == 0
        rows = [{k: v for k, v in export_row(r).items() if k != "statement_id"} for r in store.iter_statements()]
        exports.append(rows)
        assert store.get_work("10.7777/x") is not None
        store.close()
    assert exports[0] == exports[1]


# ------------------------------------------------------------------------------ the same on every backend

SEARCHES = ["growth", "growth arrest", '"growth arrest"', "cell*", "protein OR gene", "bacteri* colon*",
            "we show", "consistent with", "in contrast", "the", "model", "zzznothing OR sentinel"]


def _untimed(rows: Any) -> Any:
    """Rows without the times corrections were made (made a few seconds apart on the two backends)."""
    if isinstance(rows, tuple):
        return tuple(_untimed(r) for r in rows)
    if isinstance(rows, list):
        return [_untimed(r) for r in rows]
    if isinstance(rows, Statement):
        return dataclasses.replace(rows, corrected_at=bool(rows.corrected_at))
    if isinstance(rows, Correction):
        return dataclasses.replace(rows, created_at="")
    return rows


def _same_results(sqlite_store: Store, pg_store: Store) -> None:
    a, b = sqlite_store, pg_store
    sa, sb = a.stats().to_dict(), b.stats().to_dict()
    for key in ("database_bytes", "bytes_per_statement", "backend", "schema_version"):
        sa.pop(key), sb.pop(key)
    assert sa == sb
    assert sa["statements"] > 0
    for n in range(1, sa["works"] + 1):
        wid = f"W{n}"
        assert a.get_work(wid) == b.get_work(wid), wid
        assert a.tallies(wid) == b.tallies(wid), wid
        assert a.section_tallies(wid) == b.section_tallies(wid), wid
        assert a.year_tallies(wid) == b.year_tallies(wid), wid
        for sort in ("relevance", "newest", "oldest", "confidence"):
            assert _untimed(a.citations(wid, sort=sort, limit=1000)) == _untimed(
                b.citations(wid, sort=sort, limit=1000)), (wid, sort)
        assert a.references_of(wid) == b.references_of(wid), wid
    assert [export_row(r) for r in a.iter_statements()] == [export_row(r) for r in b.iter_statements()]
    assert _untimed(list(a.iter_corrections())) == _untimed(list(b.iter_corrections()))
    for q in SEARCHES:
        for filters in ({}, {"stance": "mentioning"}, {"section": "introduction", "exclude_self": True}):
            ta, ha = a.search_statements(q, limit=10_000, **filters)
            tb, hb = b.search_statements(q, limit=10_000, **filters)
            # The same statements; the order may differ (BM25 in SQLite, ts_rank in PostgreSQL).
            assert ta == tb and {h.id for h in ha} == {h.id for h in hb}, (q, filters)
    for q in ("sentinel", "barnes", "cell", "10.9999/cited.2001.1"):
        assert [w.id for w in a.search_works(q)] == [w.id for w in b.search_works(q)], q
    assert a.most_cited_works(20) == b.most_cited_works(20)
    # Authors, institutions and journals (issue 10) read the same rows on both backends.
    authors_a = list(a.iter_document_authors())
    assert authors_a == list(b.iter_document_authors())
    for author_id in {x.author_id for x in authors_a if x.author_id}:
        assert a.author_profile(author_id) == b.author_profile(author_id), author_id
    for ror in {x.ror for x in authors_a if x.ror}:
        assert a.institution_profile(ror, this_year=2026) == b.institution_profile(ror, this_year=2026), ror
    journals = {w.container for w in (a.get_work(f"W{n}") for n in range(1, sa["works"] + 1)) if w and w.container}
    for name in sorted(journals):
        hits = a.find_journals(name)
        assert hits == b.find_journals(name), name
        for hit in hits:
            assert a.journal_profile(hit.issn or hit.eissn, this_year=2026) == b.journal_profile(
                hit.issn or hit.eissn, this_year=2026), hit


def _ingest_both(paths: list[Path], db: Path, pg: str) -> tuple[Store, Store]:
    from citelens.pipeline import ingest_paths

    stores = []
    for target in (db, pg):
        store = open_store(target)
        summary = ingest_paths(paths, store, "cues")
        assert summary.stored, summary.failed
        # a curator's correction and a re-ingest (replacement) happen on both
        first = next(iter(store.iter_statements()))
        store.correct_statement(first.id, "contrasting", "curator", "same on both")
        ingest_paths(paths[:1], store, "cues")
        stores.append(store)
    return stores[0], stores[1]


@pytest.mark.postgres
def test_postgres_gives_the_same_results_as_sqlite(tmp_path: Path, pg_url: str) -> None:
    fixtures = Path(__file__).parent / "fixtures"
    paths = [fixtures / "mini-jats.xml", fixtures / "xss-article.xml", fixtures / "xss-retraction.xml",
             fixtures / "grobid_sample.tei.xml"]
    a, b = _ingest_both(paths, tmp_path / "a.db", pg_url)
    _same_results(a, b)


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_gives_the_same_results_as_sqlite_on_real_articles(tmp_path: Path, pg_url: str,
                                                                   shared_data: Path) -> None:
    paths = sorted((shared_data / "plos-starter").glob("*.xml"))[:25]
    a, b = _ingest_both(paths, tmp_path / "a.db", pg_url)
    _same_results(a, b)


@pytest.mark.postgres
def test_postgres_store_refuses_a_newer_schema_and_keeps_odd_text(pg_url: str, mini_jats: bytes) -> None:
    import psycopg

    from citelens.errors import StoreError

    store = open_store(pg_url)
    p = Pipeline(store, "cues")
    ingest(p, "c.xml", citing("10.5555/c", "Results agree with Barnes"))
    # NUL cannot be stored in PostgreSQL text (XML cannot carry it, a PDF's text can): it is replaced.
    doc = Document(source="nul.json", title="Nul\x00title", year=2020, work_id=store.create_work(
        WorkRecord(title="Nul\x00title")))
    store.save_document(doc)
    assert store.stats().documents == 2
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="newer CiteLens"):
        open_store(pg_url)
    with pytest.raises(StoreError, match="not a CiteLens index"):
        open_store(pg_url.replace("search_path%3D", "search_path%3Dnone_"), readonly=True)
    with pytest.raises(StoreError, match="cannot connect"):
        open_store("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


@pytest.mark.postgres
def test_postgres_connection_errors_give_the_servers_reason(pg_url: str, caplog: pytest.LogCaptureFixture) -> None:
    # A wrong database, role or URL said only "pool initialization incomplete after 10.0 sec" (after four
    # "error connecting in 'citelens'" warnings from the pool); now the server's or libpq's reason, no password.
    from urllib.parse import urlsplit

    from citelens.errors import StoreError

    base = urlsplit(pg_url)
    server = f"{base.scheme}://{base.netloc}"
    with pytest.raises(StoreError, match='database "citelens_no_such_db" does not exist'):
        open_store(f"{server}/citelens_no_such_db")
    with pytest.raises(StoreError, match='role "citelens_no_such_role" does not exist') as err:
        open_store(f"{base.scheme}://citelens_no_such_role:s3cret@{base.hostname}:{base.port}/postgres",
                   readonly=True)
    assert "s3cret" not in str(err.value)
    with pytest.raises(StoreError, match="not a valid PostgreSQL URL") as err:
        open_store("postgresql://a:s3cret@[::1/x")
    assert "s3cret" not in str(err.value)
    assert not [r for r in caplog.records if r.name.startswith("psycopg")]  # no pool was started


def test_min_confidence_counts_unsure_labels_as_mentioning(pipeline: Pipeline) -> None:
    ingest(pipeline, "c1.xml", citing("10.5555/c1", "Our data are consistent with the findings of Barnes"))
    ingest(pipeline, "c2.xml", citing("10.5555/c2", "In contrast to Barnes, we found no such effect"))
    store = pipeline.store
    barnes = store.search_works("Sentinel behaviour in bacterial colonies")[0]
    every = store.tallies(barnes.id)
    assert every.supporting == 1 and every.contrasting == 1
    assert store.tallies(barnes.id, min_confidence=0.0) == every
    # Above every model confidence: both labels count as mentioning; nothing is lost from the totals.
    strict = store.tallies(barnes.id, min_confidence=1.0)
    assert (strict.supporting, strict.contrasting, strict.mentioning) == (0, 0, every.mentioning + 2)
    assert strict.total == every.total and strict.citing_publications == every.citing_publications
    assert store.section_tallies(barnes.id, min_confidence=1.0)["discussion"].supporting == 0
    # A curator's correction counts as set, whatever the model's confidence was.
    _, rows = store.citations(barnes.id, stance="contrasting")
    store.correct_statement(rows[0].id, "contrasting", "curator")
    assert store.tallies(barnes.id, min_confidence=1.0).contrasting == 1


def test_min_confidence_lists_statements_as_the_tallies_count_them(pipeline: Pipeline) -> None:
    """With a threshold, --type / type= lists a statement under the label the tallies count it under, the
    totals agree with the tallies, and each statement keeps its own label and confidence."""
    ingest(pipeline, "c1.xml", citing("10.5555/c1", "Our data are consistent with the findings of Barnes"))
    ingest(pipeline, "c2.xml", citing("10.5555/c2", "In contrast to Barnes, we found no such effect", year=2022))
    store = pipeline.store
    barnes = store.search_works("Sentinel behaviour in bacterial colonies")[0]
    for threshold in (None, 0.0, 1.0):
        tallies = store.tallies(barnes.id, min_confidence=threshold)
        years = store.year_tallies(barnes.id, min_confidence=threshold)
        for stance in ("supporting", "contrasting", "mentioning"):
            total, rows = store.citations(barnes.id, stance=stance, min_confidence=threshold, limit=100)
            assert total == len(rows) == getattr(tallies, stance), (threshold, stance)
            assert sum(getattr(y, stance) for y in years) == total
            hits_total, _ = store.search_statements("barnes", stance=stance, min_confidence=threshold)
            assert hits_total == total
    # Above every model confidence, the two model labels are listed as mentioning, with their own labels.
    total, rows = store.citations(barnes.id, stance="mentioning", min_confidence=1.0, limit=100)
    assert {r.type for r in rows} >= {"supporting", "contrasting"}
    # "relevance" puts only labels that pass the threshold first; the list itself is every statement.
    _, first = store.citations(barnes.id, limit=1)
    assert first[0].type == "contrasting"
    total_all, _ = store.citations(barnes.id, min_confidence=1.0)
    assert total_all == store.tallies(barnes.id).total
    # Pages join up, whatever the threshold: sure contrasting, sure supporting, then the rest by confidence.
    for threshold in (0.0, 1.0):
        whole = store.citations(barnes.id, min_confidence=threshold, limit=100)[1]
        assert [store.citations(barnes.id, min_confidence=threshold, limit=1, offset=k)[1][0].id
                for k in range(len(whole))] == [r.id for r in whole]
        if threshold == 1.0:  # nothing is sure: all by confidence
            assert [r.confidence for r in whole] == sorted((r.confidence for r in whole), reverse=True)
        else:
            assert whole[0].type == "contrasting"
    # A curator's correction counts as set at any threshold.
    _, rows = store.citations(barnes.id, stance="contrasting")
    store.correct_statement(rows[0].id, "contrasting", "curator")
    assert store.citations(barnes.id, stance="contrasting", min_confidence=1.0)[0] == 1


def _schema_objects(conn: Any) -> tuple[dict[str, set[str]], set[str]]:
    """{table: columns} and the index names of the current schema."""
    cols: dict[str, set[str]] = {}
    for table, column in conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"):
        cols.setdefault(table, set()).add(column)
    indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")}
    return cols, indexes


@pytest.mark.postgres
def test_older_postgres_index_is_upgraded_in_place(pg_url: str, mini_jats: bytes) -> None:
    """An index made at PostgreSQL's oldest schema version is upgraded by the migrations, its data intact."""
    import psycopg

    from citelens.store.migrations import migrations
    from citelens.store.postgres import SCHEMA_VERSION, close_pools

    oldest = migrations("postgres")[0]
    store = open_store(pg_url)
    p = Pipeline(store, "cues")
    ingest(p, "mini.xml", mini_jats)
    ingest(p, "c1.xml", citing("10.5555/c1", "Our data are consistent with the findings of Barnes", author="Quist"))
    first = next(iter(store.iter_statements()))
    store.correct_statement(first.id, "contrasting", "curator", "kept across the upgrade")
    store.mark_input_finished("c1.xml", "f", "stored")

    def snapshot(s: Store) -> dict[str, Any]:
        stats = s.stats().to_dict()
        for key in ("database_bytes", "bytes_per_statement", "schema_version"):
            stats.pop(key)
        n = stats["works"]
        return {"stats": stats, "works": [s.get_work(f"W{i}") for i in range(1, n + 1)],
                "tallies": [s.tallies(f"W{i}") for i in range(1, n + 1)],
                "rows": [export_row(r) for r in s.iter_statements()],
                "corrections": list(s.iter_corrections()), "search": s.search_statements("Barnes", limit=100),
                "manifest": s.finished_inputs(),
                "authors": [(a.citing_source, a.position, a.name) for a in s.iter_document_authors()]}

    before = snapshot(store)
    store.close()
    close_pools(pg_url)
    schema = pg_url.rsplit("search_path%3D", 1)[1]
    with psycopg.connect(pg_url, autocommit=True) as conn:
        # What the oldest release's migration alone makes, in a scratch schema ...
        conn.execute(f"CREATE SCHEMA {schema}_old")
        try:
            conn.execute(f"SET search_path = {schema}_old")
            conn.execute(oldest.sql)
            old_cols, old_indexes = _schema_objects(conn)
        finally:
            conn.execute(f"DROP SCHEMA {schema}_old CASCADE")
        # ... and this index taken back to it: every table, column and index added since dropped.
        conn.execute(f"SET search_path = {schema}")
        cols, indexes = _schema_objects(conn)
        for table in set(cols) - set(old_cols):
            conn.execute(f'DROP TABLE IF EXISTS "{table}" CASCADE')
        for table in set(cols) & set(old_cols):
            for column in cols[table] - old_cols[table]:
                conn.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}" CASCADE')
        for index in indexes - old_indexes:
            conn.execute(f'DROP INDEX IF EXISTS "{index}"')
        conn.execute("UPDATE meta SET value = %s WHERE key = 'schema_version'", (str(oldest.version),))
        assert _schema_objects(conn) == (old_cols, old_indexes)
    upgraded = open_store(pg_url)
    assert upgraded.schema_version == SCHEMA_VERSION > oldest.version
    assert upgraded.upgraded_from == oldest.version  # what `citelens ingest` announces
    assert open_store(pg_url).upgraded_from is None  # once
    after = snapshot(upgraded)
    assert after == before  # statements, tallies, corrections, search, manifest; authors rebuilt from the documents
    ingest(Pipeline(upgraded, "cues"), "c2.xml", citing("10.5555/c2", "In contrast to Barnes, we found nothing"))
    assert upgraded.stats().documents == before["stats"]["documents"] + 1
    upgraded.close()


def test_ingest_workers_keep_blas_to_their_thread_budget(tmp_path: Path) -> None:
    """numpy's BLAS threads follow CITELENS_THREADS (set in every ingest worker), as onnxruntime's do."""
    import os
    import subprocess
    import sys

    code = ("from citelens.pipeline import limit_native_threads; limit_native_threads();"
            "from threadpoolctl import threadpool_info;"
            "print(sorted({i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas'}))")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"), "CITELENS_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", "import numpy;" + code], capture_output=True, text=True, env=env,
                         timeout=60, check=True).stdout
    assert out.strip() in ("[1]", "[]")  # [] where numpy has no BLAS thread pool to limit


@pytest.fixture
def ro_folder() -> Iterator[Path]:
    """A folder another user can reach (pytest's own tmp folders are private to their owner)."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="citelens-ro-"))
    folder.chmod(0o755)
    yield folder
    folder.chmod(0o755)
    shutil.rmtree(folder)


def _read_in_read_only_folder(db: Path) -> tuple[int, str]:
    """Open ``db`` read-only as a user who cannot write its folder; (exit code, output). Not root: the folder is
    made read-only; root writes anywhere, so the open runs as ``nobody`` through setpriv (skipped where it can't)."""
    import os
    import shutil
    import subprocess
    import sys

    code = ("import sys; from citelens.store import open_store; from citelens.errors import StoreError\n"
            "try:\n s = open_store(sys.argv[1], readonly=True); print(s.stats().documents); s.close()\n"
            "except StoreError as e:\n print(e); sys.exit(1)\n")
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src}
    if os.geteuid() != 0:
        cmd = [sys.executable, "-c", code, str(db)]
    else:
        setpriv = shutil.which("setpriv")
        cmd = [setpriv or "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", code,
               str(db)]
        probe = subprocess.run([*cmd[:5], "-c", "import citelens"], env=env, capture_output=True) \
            if setpriv else None
        if probe is None or probe.returncode != 0:
            pytest.skip("root, and no unprivileged user can run this interpreter (setpriv)")
    db.parent.chmod(0o555)
    db.chmod(0o444)
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    finally:
        db.parent.chmod(0o755)
        db.chmod(0o644)
    return done.returncode, done.stdout + done.stderr


def test_an_index_in_a_read_only_folder_is_read(ro_folder: Path, mini_jats: bytes) -> None:
    """A WAL index on a read-only mount or in a folder the reader cannot write: mode=ro alone failed ("attempt to
    write a readonly database": SQLite makes -shm beside the file), so `citelens serve` and every reading
    command refused an index they only had to read. Now it is read as immutable."""
    db = ro_folder / "index.db"
    store = open_store(db)
    Pipeline(store, "cues").ingest([read_bytes_input("mini.xml", mini_jats)])
    store.close()
    with contextlib.closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert sorted(p.name for p in ro_folder.iterdir()) == ["index.db"]  # closed cleanly: no -wal, no -shm
    rc, out = _read_in_read_only_folder(db)
    assert (rc, out.strip()) == (0, "1")
    assert sorted(p.name for p in ro_folder.iterdir()) == ["index.db"]


def test_unfinished_writes_in_a_read_only_folder_are_named_not_skipped(ro_folder: Path,
                                                                       mini_jats: bytes) -> None:
    """A -wal beside the file holds writes the file lacks: read as immutable they would be silently missing, so
    the reader says what to do instead."""
    db = ro_folder / "index.db"
    store = open_store(db)
    Pipeline(store, "cues").ingest([read_bytes_input("mini.xml", mini_jats)])
    store.close()
    writer = sqlite3.connect(db)
    writer.execute("PRAGMA wal_autocheckpoint=0")
    writer.execute("CREATE TABLE later (x)")
    writer.commit()
    (ro_folder / "index.db-shm").unlink(missing_ok=True)  # as a copy of the folder without its -shm
    wal = (ro_folder / "index.db-wal").read_bytes()
    writer.close()  # the last connection checkpoints and removes -wal: put it back as it was
    (ro_folder / "index.db-wal").write_bytes(wal)
    (ro_folder / "index.db-shm").unlink(missing_ok=True)
    (ro_folder / "index.db-wal").chmod(0o444)
    rc, out = _read_in_read_only_folder(db)
    assert rc == 1 and "index.db-wal holds writes not yet in the database file" in out


@pytest.mark.parametrize(("raw", "size"), [("", 10), ("4", 4), ("abc", 10), ("0", 10), ("-3", 10), ("2.5", 10)])
def test_postgres_pool_size_setting_falls_back_to_its_default(monkeypatch: pytest.MonkeyPatch, raw: str,
                                                              size: int) -> None:
    # CITELENS_PG_POOL_SIZE=abc was read at import: a ValueError traceback from `citelens stats`, `serve` …
    from citelens.store.postgres import pool_size

    monkeypatch.setenv("CITELENS_PG_POOL_SIZE", raw)
    assert pool_size() == size


@pytest.mark.postgres
def test_postgres_reads_survive_a_server_that_closed_the_pooled_connections(pg_url: str, mini_jats: bytes) -> None:
    # After a PostgreSQL restart every idle pooled connection is dead: the web server answered 500
    # (AdminShutdown: terminating connection due to administrator command) once per pooled connection.
    import psycopg

    store = open_store(pg_url)
    ingest(Pipeline(store, "cues"), "c.xml", citing("10.5555/c", "Results agree with Barnes"))
    store.close()
    reader = open_store(pg_url, readonly=True)
    before = reader.stats()
    pids = {r["pid"] for r in reader._rows("SELECT pg_backend_pid() AS pid")}  # noqa: SLF001
    with psycopg.connect(pg_url, autocommit=True) as admin:
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert reader.stats().statements == before.statements == 1
    pids = {r["pid"] for r in reader._rows("SELECT pg_backend_pid() AS pid")}  # noqa: SLF001
    with psycopg.connect(pg_url, autocommit=True) as admin:
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    assert reader.search_statements("agree")[0] == 1
    reader.close()


@pytest.mark.postgres
def test_postgres_a_transaction_whose_connection_broke_is_an_error(pg_url: str, mini_jats: bytes) -> None:
    # A statement that failed on the lost connection was caught (a document's savepoint in an ingest batch); then
    # the transaction ended without a commit and without an error, so the batch counted as stored what was not.
    import contextlib

    import psycopg

    from citelens.errors import StoreError

    store = open_store(pg_url)
    ingest(Pipeline(store, "cues"), "c.xml", citing("10.5555/c", "Results agree with Barnes"))
    with pytest.raises(StoreError, match="was lost: the transaction was not committed"), store.transaction():
        store.create_work(WorkRecord(title="Never committed"))
        pid = store._rows("SELECT pg_backend_pid() AS pid")[0]["pid"]  # noqa: SLF001
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        with contextlib.suppress(psycopg.OperationalError):  # as a document's savepoint catches it
            store._rows("SELECT 1")  # noqa: SLF001
    assert store.stats().documents == 1 and not store.search_works("Never committed")
    ingest(Pipeline(store, "cues"), "d.xml", citing("10.5555/d", "Results agree with Barnes"))  # a fresh connection
    assert store.stats().documents == 2
    store.close()


def test_many_works_are_read_together_as_one_by_one(pipeline: Pipeline) -> None:
    """get_works (a collection's works, a ranking page's works: a few queries in all) finds each identifier as
    get_work does: work ids, DOIs in any form, another DOI of a work, PMIDs and PMCIDs, a retracted work with its
    notice, the work a document is (its full-text source); identifiers that name nothing are left out."""
    ingest(pipeline, "a.xml", citing_kim_2002("10.5555/a", "10.2135/cropsci2002.0739"))
    ingest(pipeline, "b.xml", citing_kim_2002("10.5555/b", "10.2135/cropsci2002.7390"))
    ingest(pipeline, "ids.xml", citing("10.5555/ids", "As shown before").replace(
        b'<article-id pub-id-type="doi">', b'<article-id pub-id-type="pmid">26635547</article-id>'
        b'<article-id pub-id-type="pmc">PMC4712345</article-id><article-id pub-id-type="doi">'))
    ingest(pipeline, "retraction.xml", b"""<article article-type="retraction" xmlns:xlink="http://www.w3.org/1999/xlink">
    <front><article-meta><article-id pub-id-type="doi">10.5555/retraction</article-id><title-group><article-title>
    Retraction: Bad paper</article-title></title-group><related-article related-article-type="retracted-article"
    ext-link-type="uri" xlink:href="info:doi/10.5555/a"/></article-meta></front><body><p>Retracted.</p></body>
    </article>""")
    store = pipeline.store
    a = store.get_work("10.5555/a")
    assert a is not None and a.retracted and a.full_text_source
    idents = ["10.2135/cropsci2002.0739", "10.2135/CROPSCI2002.7390", "https://doi.org/10.5555/A", a.id,
              a.id.lower(), "26635547", "PMID:26635547", "pmc4712345", "10.5555/b", "10.5555/retraction",
              "10.5555/nothing", "W999999", "PMC", "x" * 500, "10.5555/a", "W1"]
    expected = {i: w for i in idents if (w := store.get_work(i)) is not None}
    assert len(expected) == 11 and expected["10.2135/CROPSCI2002.7390"] == expected["10.2135/cropsci2002.0739"]
    assert store.get_works(idents) == expected
    assert store.get_works(idents[::-1]) == expected
    assert store.get_works([]) == {}
    # More than one IN list of identifiers.
    many = [f"10.5555/none{i}" for i in range(1200)] + ["10.5555/ids"] + [f"W{10**6 + i}" for i in range(1200)]
    assert store.get_works(many) == {"10.5555/ids": store.get_work("10.5555/ids")}
