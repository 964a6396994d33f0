"""Work metadata (Crossref, OpenAlex and flat JSON lines) with fields of the wrong type: each field is read for what
it is or ignored, one odd record never costs the others of its file, and no Python repr reaches the index."""

from __future__ import annotations

import json

from citelens.formats.crossref import metadata_record, parse_metadata_lines
from citelens.pipeline import Pipeline, read_bytes_input
from citelens.store import open_store


def lines(*records: object) -> bytes:
    return "\n".join(json.dumps(r) for r in records).encode()


def test_a_record_with_an_odd_author_field_costs_nothing_else_of_its_file() -> None:
    data = lines({"DOI": "10.1234/ok", "title": "Good"}, {"DOI": "10.1234/int", "title": "T", "author": 5},
                 {"DOI": "10.1234/aff", "title": "T", "author": [{"family": "A", "affiliation": 5}]},
                 {"DOI": "10.1234/last", "title": "Last"})
    pipeline = Pipeline(open_store(":memory:"), "cues")
    summary = pipeline.ingest([read_bytes_input("works.jsonl", data)])
    # Before: "internal error (TypeError: 'int' object is not iterable)" for the file, and no record stored.
    assert summary.failed == [] and summary.metadata_records == 4
    for doi in ("10.1234/ok", "10.1234/int", "10.1234/aff", "10.1234/last"):
        assert pipeline.store.get_work(doi) is not None
    assert [a.family for a in metadata_record({"title": "T", "author": [{"family": "A", "affiliation": 5}]}).authors] \
        == ["A"]


def test_author_fields_of_the_wrong_type() -> None:
    def names(value: object) -> list[tuple[str, str]]:
        return [(a.family, a.given) for a in metadata_record({"title": "T", "author": value}).authors]

    # A lone string or object is one author, not one author per character or per key.
    assert names("Smith, John") == [("Smith", "John")]
    assert names({"family": "Smith", "given": "J"}) == [("Smith", "J")]
    assert names(5) == names(None) == names(True) == []
    # Names that are not text are no names, and an author naming nobody is left out.
    assert names([{"family": ["A"], "given": {"x": 1}}, [1, 2], None, 7, {"family": "B", "given": 3}]) \
        == [("B", "3")]
    rec = metadata_record({"title": "T", "author": [{"family": "C", "ORCID": {"id": 1}}]})
    assert rec.authors[0].orcid == ""


def test_scalar_fields_of_the_wrong_type_are_no_value() -> None:
    rec = metadata_record({"DOI": ["10.1234/X5"], "title": ["", "Second"], "volume": {"a": [1]}, "page": [1, 2],
                           "type": {"t": 1}, "container-title": [None, "Nature"]})
    assert (rec.doi, rec.title, rec.volume, rec.pages, rec.work_type, rec.container) == \
        ("10.1234/x5", "Second", "", "", "", "Nature")
    rec = metadata_record({"doi": "10.1234/n", "title": "N", "volume": 12, "pages": "3-9", "type": "article"})
    assert (rec.volume, rec.pages, rec.work_type) == ("12", "3-9", "article")


def test_flat_years_are_a_year_or_nothing() -> None:
    def year(value: object) -> int | None:
        return metadata_record({"title": "T", "year": value}).year

    assert year(2019) == year("2019") == year("2019-05-03") == year(" 2019") == year(2019.0) == 2019
    # A long number is not its first four digits, and nothing outside 1..9999 is a year.
    assert year(123456789012345678901234567890) is None and year("99999999999999999999") is None
    assert year(-42) is year(0) is year(True) is year("20190") is year(1e400) is year("abc") is None
    assert metadata_record({"title": "T", "issued": {"date-parts": [["2001", 2]]}}).year == 2001
    assert metadata_record({"title": "T", "issued": {"date-parts": [[True]]}}, ).year is None


def test_openalex_authorships_that_name_nobody_are_left_out() -> None:
    rec = metadata_record({"id": "https://openalex.org/W1", "title": "oa", "authorships": [
        None, 5, {"author": []}, {"author": {"display_name": "Heather A. Piwowar"}}]})
    assert [(a.family, a.given) for a in rec.authors] == [("Piwowar", "Heather A.")]


def test_parse_metadata_lines_reports_each_bad_line() -> None:
    records, errors = parse_metadata_lines(lines({"title": "ok"}, [1], {"x": 1}) + b"\n{bad", "m.jsonl")
    assert [r.title for r in records] == ["ok"]
    assert errors == ["line 2: not a JSON object", "line 3: record has neither DOI nor title", "line 4: not JSON "
                      "(Expecting property name enclosed in double quotes)"]


def test_a_record_with_another_doi_is_another_work_even_when_it_repeats_a_pmid() -> None:
    # Before: the second record matched the first work by its PMID and its own DOI was dropped: 10.1234/b named
    # nothing in the index, and a later record or article with that DOI could not find its metadata.
    data = lines({"DOI": "10.1234/a", "PMID": "111", "title": "Work A"},
                 {"DOI": "10.1234/b", "PMID": "111", "title": "Work B", "container-title": ["J B"]},
                 {"PMCID": "PMC5", "DOI": "10.1234/a", "title": "Work A again"},
                 {"PMID": "111", "title": "No DOI: the PMID's work", "volume": "7"})
    pipeline = Pipeline(open_store(":memory:"), "cues")
    summary = pipeline.ingest([read_bytes_input("works.jsonl", data)])
    assert summary.failed == [] and summary.metadata_records == 4
    a, b = pipeline.store.get_work("10.1234/a"), pipeline.store.get_work("10.1234/B")
    assert a is not None and b is not None and a.id != b.id
    assert (a.pmid, a.pmcid, a.volume) == ("111", "PMC5", "7")  # the PMID stays with the work that had it first
    assert (b.title, b.pmid, b.container) == ("Work B", "", "J B")
