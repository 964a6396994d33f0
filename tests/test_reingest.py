"""A full re-ingest leaves the index as it was: no orphan works left behind by the replaced version."""

from __future__ import annotations

from citelens.pipeline import Pipeline, read_bytes_input
from citelens.store import open_store

# Reference b2 (authors and year, no title, no source, no identifier) cannot match anything, so each
# ingest makes a new, untitled work for it. Reference b1 is an ordinary one.
ARTICLE = b"""<?xml version="1.0"?>
<article><front><article-meta><article-id pub-id-type="doi">10.5555/reingest.1</article-id>
<title-group><article-title>A paper ingested twice</article-title></title-group>
<pub-date><year>2022</year></pub-date></article-meta></front>
<body><sec><title>Discussion</title><p>As shown before [<xref ref-type="bibr" rid="b1">1</xref>,
<xref ref-type="bibr" rid="b2">2</xref>].</p></sec></body>
<back><ref-list>
<ref id="b1"><element-citation><person-group><name><surname>Barnes</surname><given-names>T</given-names></name>
</person-group><year>2001</year><article-title>Sentinel behaviour in bacterial colonies</article-title>
<source>Microbiology</source></element-citation></ref>
<ref id="b2"><element-citation><person-group><name><surname>Felsenstein</surname><given-names>J</given-names>
</name></person-group><year>2004</year><conf-name>Workshop on phylogeny software</conf-name></element-citation></ref>
</ref-list></back></article>"""


def test_full_reingest_adds_no_orphan_works(store_url: str) -> None:
    store = open_store(store_url)
    pipeline = Pipeline(store, "cues")
    for _ in range(3):
        summary = pipeline.ingest([read_bytes_input("paper.xml", ARTICLE)])
        assert summary.stored == 1 and not summary.failed
        if _ == 0:
            first = store.stats()
    last = store.stats()
    assert last.works == first.works  # was +1 per re-ingest: an untitled work nobody cites
    assert store.search_works("Sentinel behaviour in bacterial colonies")
    store.close()


def doi_less(pmid: str = "", pmcid: str = "", title: str = "A paper without a DOI") -> bytes:
    ids = (f'<article-id pub-id-type="pmid">{pmid}</article-id>' if pmid else "") + \
        (f'<article-id pub-id-type="pmc">{pmcid}</article-id>' if pmcid else "")
    return ARTICLE.replace(b'<article-id pub-id-type="doi">10.5555/reingest.1</article-id>', ids.encode()) \
        .replace(b"A paper ingested twice", title.encode())


def test_an_article_without_a_doi_is_one_document_under_any_name(store_url: str) -> None:
    # Before: identified by its file name only, so the same PMID article ingested as a.xml, then by another path
    # or name, was stored once per name and each of its statements counted once per copy.
    store = open_store(store_url)
    pipeline = Pipeline(store, "cues")
    for name in ("a.xml", "/abs/path/a.xml", "renamed.nxml"):
        summary = pipeline.ingest([read_bytes_input(name, doi_less(pmid="31000777"))])
        assert summary.stored == 1 and summary.replaced == (name != "a.xml")
    statement = store.search_statements("As shown before")[1][0]
    store.correct_statement(statement.id, "supporting", "curator@example.org")
    # Its PMCID arrives in a later version: still the same article, and the curator's label follows it.
    pipeline.ingest([read_bytes_input("v2.xml", doi_less(pmid="31000777", pmcid="PMC777"))])
    pipeline.ingest([read_bytes_input("v3.xml", doi_less(pmcid="PMC777"))])
    stats = store.stats()
    assert (stats.documents, stats.statements) == (1, 2)
    again = [s for s in store.search_statements("As shown before")[1] if s.reference_key == statement.reference_key]
    assert again[0].type == "supporting" and again[0].corrected
    # A DOI version replaces a DOI-less copy that has its PMCID.
    with_doi = ARTICLE.replace(b"</article-id>", b'</article-id><article-id pub-id-type="pmc">PMC777</article-id>', 1)
    assert pipeline.ingest([read_bytes_input("doi.xml", with_doi)]).replaced == 1
    assert store.stats().documents == 1
    # Articles with no identifier at all stay one per file name: two names, two documents.
    pipeline.ingest([read_bytes_input("x.xml", doi_less(title="X")), read_bytes_input("y.xml", doi_less(title="Y"))])
    assert store.stats().documents == 3
    store.close()


def test_a_copy_stored_under_its_file_name_by_an_earlier_version_is_replaced(tmp_path) -> None:  # noqa: ANN001
    import sqlite3

    db = tmp_path / "old.db"
    store = open_store(db)
    pipeline = Pipeline(store, "cues")
    pipeline.ingest([read_bytes_input("a.xml", doi_less(pmid="31000777"))])
    store.close()
    with sqlite3.connect(db) as conn:  # as earlier versions named a DOI-less article: by its file name
        conn.execute("UPDATE documents SET identity = 'source:a.xml'")
    store = open_store(db)
    summary = Pipeline(store, "cues").ingest([read_bytes_input("a.xml", doi_less(pmid="31000777"))])
    assert summary.replaced == 1 and store.stats().documents == 1
    store.close()


def test_a_file_without_identifiers_is_one_document_from_any_working_directory(store_url: str, tmp_path,  # noqa: ANN001
                                                                                monkeypatch) -> None:  # noqa: ANN001
    """Before: named as typed, so "sub/a.xml", then "/…/sub/a.xml", then "a.xml" from inside sub/ stored one
    article three times and counted each of its statements three times. Archive members alike."""
    import sqlite3
    import tarfile

    from citelens.pipeline import InputPaths

    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "a.xml").write_bytes(doi_less(title="No identifier at all"))
    with tarfile.open(tmp_path / "batch.tar.gz", "w:gz") as tar:
        tar.add(sub / "a.xml", arcname="inside/b.xml")
    store = open_store(store_url)
    pipeline = Pipeline(store, "cues")
    monkeypatch.chdir(tmp_path)
    assert pipeline.ingest(InputPaths(["sub/a.xml"])).replaced == 0
    for typed, where in ((str(sub / "a.xml"), tmp_path), ("./a.xml", sub), ("../sub/a.xml", sub)):
        monkeypatch.chdir(where)
        summary = pipeline.ingest(InputPaths([typed]))
        assert (summary.stored, summary.replaced) == (1, 1), typed
    monkeypatch.chdir(tmp_path)
    pipeline.ingest(InputPaths(["batch.tar.gz"]))
    monkeypatch.chdir(sub)
    assert pipeline.ingest(InputPaths(["../batch.tar.gz"])).replaced == 1
    assert store.stats().documents == 2  # the file and the archive member: two files, two documents
    sources = sorted({s.citing_source for s in store.iter_statements()})
    assert sources == ["../batch.tar.gz!inside/b.xml", "../sub/a.xml"]  # shown as last typed
    store.close()
    if not store_url.endswith(".db"):
        return
    # An index from before named it as typed: ingesting it again by that name replaces that copy.
    db = tmp_path / "old.db"
    monkeypatch.chdir(tmp_path)
    old = open_store(db)
    Pipeline(old, "cues").ingest(InputPaths(["sub/a.xml"]))
    old.close()
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE documents SET identity = 'source:sub/a.xml'")
    old = open_store(db)
    assert Pipeline(old, "cues").ingest(InputPaths(["sub/a.xml"])).replaced == 1
    assert old.stats().documents == 1
    old.close()
