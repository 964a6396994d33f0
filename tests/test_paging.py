"""Deep pages of a work's statements, the newest statements of a collection's works and a collection's warnings:
the store reads a page's ids before their rows, and a collection reads the model's threshold once; these tests
pin what the answers are (every page joins up to the whole list, in its documented order), on every backend."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest

import citelens.stance
from citelens.check import warnings_for
from citelens.collection import collection_rows
from citelens.pipeline import Pipeline, read_bytes_input
from citelens.serialize import as_dict
from citelens.store import Statement, Store, open_store
from test_work_tallies import HashClassifier, _article

FIXED = [f"10.7777/w{k}" for k in range(4)]  # the works every synthetic article cites
SORTS = ("relevance", "newest", "oldest", "confidence")
FILTERS: tuple[dict[str, object], ...] = (
    {}, {"stance": "supporting"}, {"stance": "mentioning", "min_confidence": 0.7}, {"min_confidence": 0.7},
    {"section": "results"}, {"exclude_self": True}, {"year_from": 2020})


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    p = Pipeline(open_store(store_url), HashClassifier())
    rng = random.Random(5)
    stored: list[int] = []
    for n in range(12):
        assert not p.ingest([read_bytes_input(f"t{n}.xml", _article(rng, n, 0, stored))]).failed
        stored.append(n)
    every = list(p.store.iter_statements())
    for s in every[::7]:  # curators' corrections: confidence 1.0, another label
        p.store.correct_statement(s.id, "contrasting", "cur")
    yield p.store
    p.store.close()


def _key(sort: str, s: Statement) -> tuple[object, ...]:
    """The order each sort documents (the store's ORDER BY, written out)."""
    year = s.citing_year if s.citing_year is not None else -1
    if sort == "newest":
        return (-year, s.id)
    if sort == "oldest":
        return (year, s.id)
    if sort == "confidence":
        return (-(s.confidence or 0.0), s.id)
    rank = {"contrasting": 0, "supporting": 1}.get(s.type or "", 2)
    return (rank, -(s.confidence or 0.0), -year, s.id)


def test_pages_of_a_works_statements_join_up_to_the_whole_list_in_order(store: Store) -> None:
    """Read page by page (2 a page) to past the end, every sort and filter gives each statement once, in the same
    order as one page holding all of them — the ids of a page are read first, then their rows."""
    works = [w.id for w in (store.get_work(d) for d in FIXED) if w is not None]
    assert works
    for wid in works:
        for sort in SORTS:
            for f in FILTERS:
                total, whole = store.citations(wid, sort=sort, limit=10_000, **f)  # type: ignore[arg-type]
                assert total == len(whole)
                paged: list[Statement] = []
                for offset in range(0, total + 4, 2):
                    t, rows = store.citations(wid, sort=sort, limit=2, offset=offset, **f)  # type: ignore[arg-type]
                    assert t == total and len(rows) == max(0, min(2, total - offset))
                    paged += rows
                assert paged == whole, (wid, sort, f)
                assert all(s.cited_work_id == wid for s in whole)
                if not f.get("min_confidence") and sort != "relevance":
                    # (with a threshold, relevance ranks by the counted label, and sure labels first)
                    assert [s.id for s in whole] == [s.id for s in sorted(whole, key=lambda s: _key(sort, s))]
    # The statements on a page are the stored ones, joined to their sentence, article and reference.
    _total, rows = store.citations(works[0], sort="newest", limit=3, offset=4)
    assert rows and rows == [store.get_statement(s.id) for s in rows]


def test_newest_statements_of_works_are_the_first_of_all_of_them(store: Store) -> None:
    """statements_since(limit=n) is the first n of the whole window, newest first (ties by id, newest id first),
    each with the statement as get_statement gives it."""
    works = [w.id for w in (store.get_work(d) for d in FIXED) if w is not None]
    everything = store.statements_since(works, "2000-01-01", limit=10_000)
    assert len(everything) == sum(store.citations(w, limit=1)[0] for w in works)
    assert [(at, s.id) for at, s in everything] == sorted(((at, s.id) for at, s in everything), reverse=True)
    for n in (1, 3, len(everything) - 1):
        assert store.statements_since(works, "2000-01-01", limit=n) == everything[:n]
    assert all(s == store.get_statement(s.id) for _at, s in everything)


def test_a_collections_warnings_read_the_models_threshold_once(store: Store,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Every row's heavy-contrast warning counts the labels at the installed model's threshold, read once for the
    whole collection (it looks for the model's files on each read)."""
    reads: list[int] = []

    def threshold() -> float:
        reads.append(1)
        return 0.7

    monkeypatch.setattr(citelens.stance, "recommended_min_confidence", threshold)
    c = store.create_collection("list", "me", [(d, None, "") for d in FIXED] + [("10.9999/none", None, "")])
    rows = collection_rows(store, c.id)
    assert len(reads) == 1
    assert [r["found"] for r in rows] == [True] * len(FIXED) + [False]
    for r in rows[:-1]:
        work = as_dict(store.get_work(r["doi"]))
        sure = as_dict(store.tallies(work["id"], min_confidence=0.7))
        assert r["warnings"] == warnings_for(work, as_dict(store.tallies(work["id"])), sure)
    assert any(r["warnings"] for r in rows), "the fixture has a heavily contrasted work (corrected to contrasting)"


def test_tallies_of_many_works_are_each_works_tallies(store: Store) -> None:
    """What a collection's page reads in one go equals each work's own tallies, at every threshold (on and next to
    the confidence buckets' edges), for works no statement cites too."""
    works = sorted({s.cited_work_id for s in store.iter_statements() if s.cited_work_id})
    uncited = [w.id for w in (store.get_work(f"10.5555/t{n}") for n in range(12)) if w is not None
               and store.tallies(w.id).total == 0]
    assert works and uncited
    asked = [*works, *uncited, works[0]]  # a work named twice is one key
    for t in (None, 0.0, 0.3, 0.5, 0.695, 0.7, 0.705, 1.0, 1.5):
        assert store.tallies_of_works(asked, min_confidence=t) == {
            w: store.tallies(w, min_confidence=t) for w in asked}, t
    assert store.tallies_of_works([]) == {}
