"""S2ORC / s2orc-doc2json JSON (citelens.formats.s2orc): hand-made fixtures written from the published schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from citelens.errors import InputError, MalformedInputError, UnsupportedFormatError
from citelens.formats import detect_format, parse_document
from citelens.pipeline import ingest_paths
from citelens.store import open_store

FIXTURES = Path(__file__).parent / "fixtures" / "s2orc"
DOC2JSON = FIXTURES / "doc2json-paper.json"
RELEASE = FIXTURES / "release-paper.json"


def test_sniffed_from_content_not_name() -> None:
    assert detect_format(DOC2JSON.read_bytes(), "paper.json") == "s2orc"
    assert detect_format(RELEASE.read_bytes(), "no-suffix") == "s2orc"
    assert detect_format(b'{"name": "package"}', "package.json") == "json"


def test_doc2json_paper() -> None:
    doc = parse_document(DOC2JSON.read_bytes(), DOC2JSON.name)
    assert doc.format == "s2orc"
    assert doc.title.startswith("Soil moisture memory")
    assert [(a.family, a.given) for a in doc.authors] == [("Okafor", "Amara N."), ("Nyberg", "Lars")]
    assert doc.year == 2021 and doc.doi == "10.5555/jfa.2021.0042"
    assert doc.abstract.startswith("We relate")
    refs = {r.key: r for r in doc.references}
    assert len(refs) == 6
    koster = refs["BIBREF0"]
    assert (koster.title, koster.container, koster.year, koster.pages, koster.doi) == (
        "Persistence of soil moisture anomalies", "J. Hydrometeorol", 2004, "1049-1063", "10.5555/jhm-0001")
    assert koster.label == "1" and koster.raw.startswith("Koster RD.")
    assert refs["BIBREF3"].pmid == "12345678"
    assert refs["BIBREF1"].raw  # rebuilt from the fields when raw_text is empty
    intro, methods, results = doc.paragraphs[:3]
    assert intro.section == "introduction"
    # "[2]–[4]": one callout naming 2, 3 and 4; 3 inferred.
    rng = intro.callouts[1]
    assert rng.reference_keys == ["BIBREF1", "BIBREF2", "BIBREF3"] and rng.inferred_keys == ["BIBREF2"]
    assert intro.text[rng.start : rng.end] == "[2]–[4]"
    assert [c.reference_keys for c in intro.callouts] == [["BIBREF0"], ["BIBREF1", "BIBREF2", "BIBREF3"], ["BIBREF4"]]
    for p in doc.paragraphs:
        for c in p.callouts:
            assert p.text[c.start : c.end] == c.text
    # "Methods::Field sampling": the sub-heading is the title, the section comes from the outer heading.
    assert (methods.section, methods.section_title) == ("methods", "Field sampling")
    assert [c.reference_keys for c in methods.callouts] == [["BIBREF5"]]  # [7] has ref_id null
    assert any("not linked" in w for w in doc.warnings)
    assert results.section == "results"
    assert any(p.kind == "caption" and p.text.startswith("Figure 1") for p in doc.paragraphs)


def test_release_envelope_and_bad_spans() -> None:
    doc = parse_document(RELEASE.read_bytes(), RELEASE.name)
    assert doc.title == "Pollinator visits to urban meadows" and doc.year == 2019
    (para,) = [p for p in doc.paragraphs if p.kind == "body"]
    assert [c.text for c in para.callouts] == ["Hall and Rossi, 2015", "Ng, 2009"]
    assert doc.references[0].doi == "10.5555/ue.2015.3"
    assert any("outside" in w for w in doc.warnings)


@pytest.mark.parametrize(("data", "exc", "words"), [
    (b'{"body_text": [], "bib_entries": {}', MalformedInputError, "not well-formed JSON"),
    (b'{"pdf_parse": {"body_text": "nope", "bib_entries": []}}', MalformedInputError, "no body text"),
    (b'{"title": "x"}', UnsupportedFormatError, "not an S2ORC"),
    (b'{"body_text": [], "bib_entries": {}, "metadata": {"year": ' + b"9" * 5000 + b"}}", InputError,
     "more than 4,300 digits"),
    (b'{"pdf_parse": ' * 5000 + b"{}" + b"}" * 5000, InputError, ""),
])
def test_bad_json_gets_a_reason(data: bytes, exc: type, words: str) -> None:
    with pytest.raises(exc) as info:
        parse_document(data, "bad.json")
    assert str(info.value).startswith("bad.json:") and words in str(info.value)


def test_hostile_field_types_do_not_crash() -> None:
    obj = json.loads(DOC2JSON.read_text(encoding="utf-8"))
    obj["metadata"]["authors"] = [None, 3, {"last": ["x"]}, {"first": "Ann", "last": "Lee"}]
    obj["body_text"].append({"text": 42, "cite_spans": "x"})
    obj["body_text"].append({"text": "Fine [1].", "cite_spans": [None, {"start": "0", "end": 3}, {"start": 5, "end": 8, "ref_id": "BIBREF0"}]})
    obj["bib_entries"]["BIBREF9"] = ["not", "a", "dict"]
    doc = parse_document(json.dumps(obj).encode(), "odd.json")
    assert [a.family for a in doc.authors] == ["Lee"]
    assert doc.paragraphs[3].callouts[0].reference_keys == ["BIBREF0"]
    # Reference ids with thousands of digits around a range dash (int() refuses over 4,300): no range, no crash.
    huge = "BIBREF" + "9" * 5000
    obj["bib_entries"][huge] = obj["bib_entries"][huge + "1"] = {"title": "Huge", "authors": []}
    obj["body_text"].append({"text": "See [1]-[2] here.", "cite_spans": [{"start": 4, "end": 7, "ref_id": huge},
                                                                      {"start": 8, "end": 11, "ref_id": huge + "1"}]})
    parse_document(json.dumps(obj).encode(), "odd.json")


def test_citelens_ingest_reads_s2orc(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.json").write_bytes(DOC2JSON.read_bytes())
    (folder / "b.json").write_bytes(RELEASE.read_bytes())
    (folder / "package.json").write_bytes(b'{"name": "x"}')
    with open_store(tmp_path / "s.db") as store:
        summary = ingest_paths([folder], store, classifier="cues")
    assert summary.stored == 2
    assert summary.statements >= 5
    assert [f.source.rsplit("/", 1)[-1] for f in summary.failed] == ["package.json"]
    assert "S2ORC" in summary.failed[0].problem
