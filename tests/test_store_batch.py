"""Ingest stores documents several per transaction: one that fails rolls back alone, and a failed commit is
reported for every document of the batch (the summary never counts what is not stored)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from citelens.pipeline import STORE_BATCH, Pipeline, read_bytes_input
from citelens.store import open_store

ARTICLE = """<?xml version="1.0"?>
<article><front><article-meta><article-id pub-id-type="doi">10.5555/batch.{n}</article-id>
<title-group><article-title>Batch paper {n}</article-title></title-group>
<pub-date><year>2022</year></pub-date></article-meta></front>
<body><sec><title>Discussion</title><p>Our data agree with earlier work [<xref ref-type="bibr" rid="b1">1</xref>].</p>
</sec></body>
<back><ref-list><ref id="b1"><element-citation><person-group><name><surname>Barnes</surname>
<given-names>T</given-names></name></person-group><year>2001</year>
<article-title>Sentinel behaviour in bacterial colonies</article-title><source>Microbiology</source>
</element-citation></ref></ref-list></back></article>"""


def _inputs(n: int) -> list:
    return [read_bytes_input(f"paper{i}.xml", ARTICLE.format(n=i).encode()) for i in range(n)]


def test_one_failing_document_rolls_back_alone(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store = open_store(store_url)
    pipeline = Pipeline(store, "cues")
    real = pipeline.store_document

    def store_document(doc):  # noqa: ANN001, ANN202
        result = real(doc)  # written, then the document fails: its savepoint must undo the writes
        if doc.doi == "10.5555/batch.3":
            raise RuntimeError("disk on fire")
        return result

    monkeypatch.setattr(pipeline, "store_document", store_document)
    seen: list[tuple[str, str]] = []
    n = STORE_BATCH + 4  # a full batch and part of the next
    summary = pipeline.ingest(_inputs(n), on_progress=lambda item, status: seen.append((item.name, status)))
    assert summary.stored == n - 1
    assert [f.source for f in summary.failed] == ["paper3.xml"] and "disk on fire" in summary.failed[0].problem
    assert seen == [(f"paper{i}.xml", "failed" if i == 3 else "stored") for i in range(n)]  # input order
    assert store.stats().documents == n - 1
    assert store.stats().statements == n - 1  # one statement each; none left by the rolled-back document
    store.close()


def test_failed_commit_reports_the_whole_batch(db_path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    store = open_store(str(db_path))
    pipeline = Pipeline(store, "cues")
    assert pipeline.ingest(_inputs(2)).stored == 2  # a first batch commits
    real = store.transaction
    depth = 0

    @contextmanager
    def transaction() -> Iterator[None]:
        nonlocal depth
        depth += 1
        try:
            with real():
                yield
                if depth == 1:  # the outer transaction: fail as a full disk would at commit
                    raise OSError("database or disk is full")
        finally:
            depth -= 1

    monkeypatch.setattr(store, "transaction", transaction)
    summary = pipeline.ingest([read_bytes_input(f"late{i}.xml", ARTICLE.format(n=100 + i).encode())
                               for i in range(3)])
    assert summary.stored == 0 and summary.statements == 0
    assert sorted(f.source for f in summary.failed) == ["late0.xml", "late1.xml", "late2.xml"]
    assert all("not stored" in f.problem and "disk is full" in f.problem for f in summary.failed)
    monkeypatch.undo()
    assert store.stats().documents == 2  # the rolled-back batch left nothing behind
    store.close()
