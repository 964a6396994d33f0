"""Candidate look-ups prefetched per document (``WorkIndex.prefetch_candidates``; the SQL stores' ``_Candidates``)
answer exactly as the per-reference queries would at that moment: references resolve in order, and a later one
finds the works an earlier one of the same document created or enriched. Checked on both backends by comparing
every answer with the database's and the whole outcome with resolution without the prefetch."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from citelens.document import Author, CitationStatement, Document, Reference
from citelens.formats import parse_document
from citelens.references.memory import InMemoryWorkIndex
from citelens.references.resolve import WorkCandidate, WorkRecord, flag_self_citations, resolve_references
from citelens.store import open_store, sql
from citelens.store.sql import SQLStore, _year_windows, authors_json

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo-corpus"


def ref(key: str, title: str = "", family: str = "", year: int | None = None, **kw: Any) -> Reference:
    return Reference(key=key, title=title, authors=[Author(family=family, given="J")] if family else [], year=year,
                     **kw)


def doc(source: str, refs: list[Reference], *, doi: str = "", authors: tuple[str, ...] = ("Nobody",)) -> Document:
    return Document(source=source, title=f"Paper {source}", doi=doi, year=2020,
                    authors=[Author(family=a, given="Q") for a in authors], references=refs)


def tricky_documents() -> list[Document]:
    """Documents whose references depend on works made or changed by earlier references of the same document."""
    first = doc("a.xml", [
        ref("dup1", "Sentinel cells in bacterial colonies", "Barnes", 2001),
        ref("dup2", "Sentinel cells in bacterial colonies.", "Barnes", 2001),  # the same entry twice
        ref("doi_later", "Sentinel cells in bacterial colonies", "Barnes", 2001, doi="10.1/sentinel"),  # enriches
        ref("by_doi", "A garbled title", "Other", 1999, doi="10.1/sentinel"),  # the identifier just added
        ref("no_year", "Colony patterns in bacteria", "Chen"),
        ref("title_key", "Colony patterns in bacteria", "Chen", 2010),  # by title key; gives the work its year
        ref("author_window", "Colony pattern in bacteria", "Chen", 2011),  # now in Chen's 2010-2012 window
        ref("q2010", "Quorum sensing revisited", "Diaz", 2010),
        ref("q2012", "Quorum sensing revisited", "Diaz", 2012),
        ref("pmcid", "Spore coats", "Evans", 2005, pmcid="PMC77"),
        ref("pmid", "Spore walls", "Fox", 2006, pmid="4242"),
        ref("taken", "Spore walls", "Fox", 2006, pmid="4242", pmcid="PMC77"),  # PMC77 is the other work's
        ref("terse1", "", "Smith", 2003, container="Nature", volume="424", pages="12-15"),
        ref("terse2", "", "Smith", 2003, container="Nature", volume="424", pages="12"),
        ref("raw_only", raw="Anonymous. Some report nobody parsed, 1999."),
        ref("raw_again", raw="Anonymous. Some report nobody parsed, 1999."),
    ])
    second = doc("b.xml", [
        ref("ambiguous", "Quorum sensing revisited", "Diaz", 2011),  # 2010 and 2012 score alike: a new work
        ref("after_ambiguous", "Quorum sensing revisited", "Diaz", 2011),  # the new one wins
        ref("again", "Sentinel cells in bacterial colonies", "Barnes", 2002),
        ref("chen_null", "Colony patterns in bacteria", "Chen"),
        ref("cites_a", "Paper a.xml", "Nobody", 2020),
    ], doi="10.1/b")
    # The citing document a cited work already stands for: its own work is an enrichment (kind "article").
    third = doc("c.xml", [ref("cites_b", "Paper b.xml", "Nobody", 2020, doi="10.1/b")], doi="10.1/sentinel",
                authors=("Barnes",))
    return [first, second, third]


def crowded_documents() -> list[Document]:
    """One author's many works in a few years, some sharing a title key: more candidates than the limits."""
    topics = ["kinase signalling", "membrane transport", "gene regulation", "protein folding", "cell division",
              "immune response", "neural circuits", "soil bacteria"]
    refs = [ref(f"w{i}", f"Studies of {t}", "Wang", 2009 + i % 4) for i, t in enumerate(topics)]
    refs += [ref(f"v{i}", f"Studies of {t} in mice", "Wang", 2010 + i % 3) for i, t in enumerate(topics)]
    refs += [ref(f"y{i}", f"Studies of {t}", "Wang", None) for i, t in enumerate(topics[:3])]
    again = [ref(f"again{i}", f"Studies of {t}.", "Wang", 2010 + i % 2) for i, t in enumerate(topics)]
    return [doc("crowded.xml", refs), doc("again.xml", again)]


def demo_documents(n: int = 6) -> list[Document]:
    return [parse_document(p.read_bytes(), p.name) for p in sorted(DEMO.glob("*.xml"))[:n]]


class _Rollback(Exception):
    pass


def resolve_and_undo(store: SQLStore, docs: list[Document], *, prefetch: bool,
                     monkeypatch: pytest.MonkeyPatch) -> tuple[list[Any], list[dict[str, Any]]]:
    """Resolve ``docs`` in order (one scope each, as the pipeline does), then roll everything back: (each document's
    and reference's work, method and score; the works table), work ids counted from the run's first."""
    with monkeypatch.context() as m:
        if prefetch:
            real = store.find_work_candidates

            def checked(first_author: str, year: int | None, title_key: str) -> list[WorkCandidate]:
                answer = real(first_author, year, title_key)
                held, store._candidates = store._candidates, None
                try:
                    assert answer == real(first_author, year, title_key), (first_author, year, title_key)
                finally:
                    store._candidates = held
                return answer

            m.setattr(store, "find_work_candidates", checked)
            m.setattr(store, "_PREFETCH_CANDIDATES", True)  # SQLite keeps its per-key queries unless told
        else:
            m.setattr(store, "prefetch_candidates", lambda keys: None)
        try:
            with store.transaction():
                for d in docs:
                    with store.transaction(), store.identifier_scope(d):
                        resolve_references(d, store)
                works = [dict(r) for r in store._rows("SELECT * FROM works ORDER BY id")]
                raise _Rollback
        except _Rollback:
            pass
    # PostgreSQL's sequence goes on after a rollback: number works from the run's first.
    base = min(w["id"] for w in works) - 1

    def n(wid: str | None) -> int | None:
        return int(wid[1:]) - base if wid else None

    outcome = [(n(d.work_id), [(r.key, n(r.work_id), r.resolution_method, r.resolution_score) for r in d.references])
               for d in docs]
    return outcome, [{**w, "id": w["id"] - base} for w in works]


@pytest.mark.parametrize(("documents", "limits"), [(tricky_documents, None), (demo_documents, None),
                                                    (crowded_documents, None), (crowded_documents, (3, 1))])
def test_prefetched_candidates_answer_as_the_database(store_url: str, documents: Any, limits: tuple[int, int] | None,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    if limits:  # an author's window and a title key with more works than find_work_candidates takes
        monkeypatch.setattr(sql, "_AUTHOR_LIMIT", limits[0])
        monkeypatch.setattr(sql, "_TITLE_LIMIT", limits[1])
    store = open_store(store_url)
    assert isinstance(store, SQLStore)
    with_prefetch = resolve_and_undo(store, documents(), prefetch=True, monkeypatch=monkeypatch)
    without = resolve_and_undo(store, documents(), prefetch=False, monkeypatch=monkeypatch)
    assert with_prefetch == without
    store.close()


def outcome_by_key(store_url: str) -> dict[str, tuple[str | None, str]]:
    store = open_store(store_url)
    docs = tricky_documents()
    for d in docs:
        with store.transaction(), store.identifier_scope(d):
            resolve_references(d, store)
    out = {r.key: (r.work_id, r.resolution_method) for d in docs for r in d.references}
    out.update({d.source: (d.work_id, "") for d in docs})
    store.close()
    return out


def test_later_references_find_works_of_earlier_ones_in_the_same_document(store_url: str) -> None:
    got = outcome_by_key(store_url)
    work = {k: w for k, (w, _) in got.items()}
    method = {k: m for k, (_, m) in got.items()}
    # Duplicate entries and an enrichment: one work, found by fuzzy match, then by the DOI the third one added.
    assert work["dup1"] == work["dup2"] == work["doi_later"] == work["by_doi"] == work["again"]
    assert [method[k] for k in ("dup1", "dup2", "doi_later", "by_doi")] == ["new", "fuzzy", "fuzzy", "doi"]
    # A work made without a year, found by its title key, given a year, then found in the author's window.
    assert work["no_year"] == work["title_key"] == work["author_window"] == work["chen_null"]
    assert method["author_window"] == "fuzzy"
    # Identifiers already held stay with their work.
    assert work["taken"] == work["pmid"] != work["pmcid"] and method["taken"] == "pmid"
    assert work["terse1"] == work["terse2"] and method["terse2"] == "fuzzy"
    assert work["raw_only"] == work["raw_again"]
    # Two candidates within 0.01: a new work, which the next identical reference then finds.
    assert len({work["q2010"], work["q2012"], work["ambiguous"]}) == 3
    assert work["after_ambiguous"] == work["ambiguous"] and method["after_ambiguous"] == "fuzzy"
    # The citing documents: c.xml is the work a.xml's references found by DOI, and b.xml the one c.xml cites.
    assert work["c.xml"] == work["by_doi"] and work["cites_b"] == work["b.xml"]


def test_the_stores_resolve_as_the_in_memory_index(store_url: str) -> None:
    memory = InMemoryWorkIndex()
    docs = tricky_documents()
    for d in docs:
        resolve_references(d, memory)
    expected = {r.key: (r.work_id, r.resolution_method) for d in docs for r in d.references}
    expected.update({d.source: (d.work_id, "") for d in docs})
    assert outcome_by_key(store_url) == expected


def test_an_index_without_prefetch_is_asked_per_reference() -> None:
    class Plain:  # a WorkIndex written before prefetch_candidates, not subclassing the protocol
        def __init__(self) -> None:
            self.inner = InMemoryWorkIndex()
            self.find_work_by_identifier = self.inner.find_work_by_identifier
            self.find_work_candidates = self.inner.find_work_candidates
            self.create_work = self.inner.create_work
            self.enrich_work = self.inner.enrich_work

    d = resolve_references(doc("a.xml", [ref("x", "Quorum sensing revisited", "Diaz", 2011),
                                         ref("y", "Quorum sensing revisited.", "Diaz", 2011)]), Plain())  # type: ignore[arg-type]
    assert d.references[0].work_id == d.references[1].work_id


def test_prefetch_outside_a_scope_does_nothing(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "i.db"))
    assert isinstance(store, SQLStore)
    with store.transaction():
        wid = store.create_work(WorkRecord(title="Colony patterns in bacteria", authors=[Author("Chen")], year=2010))
        store.prefetch_candidates([("chen", 2010, "colonypatternsinbacteria")])
        assert store._candidates is None
        assert [c.work_id for c in store.find_work_candidates("chen", 2010, "colonypatternsinbacteria")] == [wid]
    store.close()


def test_sqlite_keeps_its_per_key_queries(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "i.db"))
    assert isinstance(store, SQLStore)
    d = doc("a.xml", [ref("x", "Colony patterns in bacteria", "Chen", 2010)])
    with store.transaction(), store.identifier_scope(d):
        store.prefetch_candidates([("chen", 2010, "colonypatternsinbacteria")])
        assert store._candidates is None
    store.close()


def test_a_key_with_more_works_than_the_limit_is_left_to_the_database(store_url: str,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A common surname's window (or a title key) with more works than find_work_candidates takes is not fetched
    whole for every document: the prefetch takes one work more than the limit, and such a key is not held."""
    monkeypatch.setattr(sql, "_AUTHOR_LIMIT", 3)
    monkeypatch.setattr(sql, "_TITLE_LIMIT", 1)
    store = open_store(store_url)
    assert isinstance(store, SQLStore)
    monkeypatch.setattr(store, "_PREFETCH_CANDIDATES", True)
    d = doc("a.xml", [ref("x", "Colony patterns in bacteria", "Chen", 2010)])
    with store.transaction():
        wangs = [store.create_work(WorkRecord(title=f"Wang study {i}", authors=[Author("Wang")], year=2010 + i % 2))
                 for i in range(5)]
        chen = [store.create_work(WorkRecord(title="Colony patterns in bacteria", authors=[Author("Chen")], year=y))
                for y in (2010, 2011)]
        lee = store.create_work(WorkRecord(title="Lee alone with a long title", authors=[Author("Lee")], year=2010))
        with store.identifier_scope(d):
            store.prefetch_candidates([("wang", 2010, ""), ("lee", 2010, "leealonewithalongtitle"),
                                       ("chen", None, "colonypatternsinbacteria")])
            cache = store._candidates
            assert cache is not None
            assert not cache.covers_author("wang", 2010) and cache.covers_author("lee", 2010)
            assert cache.covers_author("chen", 2011)  # every year of Chen: 2 works, within the limit
            assert "leealonewithalongtitle" in cache.by_title and "colonypatternsinbacteria" not in cache.by_title  # 2 > 1
            # Answered from the database as before: the first works by id, the limit applied there.
            assert [c.work_id for c in store.find_work_candidates("wang", 2010, "")] == wangs[:3]
            assert [c.work_id for c in store.find_work_candidates("lee", 2010, "leealonewithalongtitle")] == [lee]
            assert [c.work_id for c in store.find_work_candidates("", None, "colonypatternsinbacteria")] == chen[:1]
    store.close()


def test_year_windows_cover_each_year_within_one_once() -> None:
    assert _year_windows({2001}) == [(2000, 2002)]
    assert _year_windows({2001, 2002, 2008}) == [(2000, 2003), (2007, 2009)]
    assert _year_windows({2001, 2004}) == [(2000, 2005)]  # 2002 and 2003 touch: one range
    assert _year_windows({2001, 2005}) == [(2000, 2002), (2004, 2006)]


def test_authors_json_is_json_dumps() -> None:
    rng = random.Random(7)
    alphabet = ["a", "Z", "é", '"', "\\", "\n", "\x00", "\u2028", "\ud800", "😀", "/", "'"]
    for _ in range(2000):
        authors = [Author(family="".join(rng.choices(alphabet, k=rng.randint(0, 6))),
                          given="".join(rng.choices(alphabet, k=rng.randint(0, 3)))) for _ in range(rng.randint(0, 4))]
        assert authors_json(authors) == json.dumps([{"family": a.family, "given": a.given} for a in authors],
                                                   ensure_ascii=False)
    odd = [Author(family=None, given="x")]  # type: ignore[arg-type]  # not a str: json.dumps decides
    assert authors_json(odd) == '[{"family": null, "given": "x"}]'


def test_self_citations_by_surname_and_initial() -> None:
    d = doc("a.xml", [ref("same", "t1", "Okafor", 2015), ref("other_initial", "t2", "Okafor", 2015),
                      ref("no_initial", "t3", "Lindqvist", 2015), ref("short", "t4", "O", 2015)],
            authors=("Okafor", "Lindqvist", "O"))
    d.authors[0].given = "Ada"
    d.references[0].authors[0].given = "A."
    d.references[1].authors[0].given = "Bea"
    d.references[2].authors[0].given = ""
    d.statements = [CitationStatement(reference_key=r.key, sentence="s", callout_start=0, callout_end=1)
                    for r in d.references]
    flag_self_citations(d)
    # Lindqvist cited without a given name counts; a one-letter surname never does.
    assert [s.self_citation for s in d.statements] == [True, False, True, False]

