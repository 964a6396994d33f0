"""PDF ingestion (citelens.formats.pdf): a rendered PLOS fixture with known citations, error handling, helpers."""

from __future__ import annotations

import difflib
import io
import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from rapidfuzz import fuzz

from citelens.document import Author, Reference
from citelens.errors import InputError, InputTooLargeError, MalformedInputError, UnsupportedFormatError
from citelens.formats.pdf import (
    _author_year_label,
    _expand,
    _find_callouts,
    _join_lines,
    _Linker,
    _resolve_breaks,
    _segment_references,
    _vocabulary,
    _without_trailers,
    parse_pdf,
)
from citelens.formats.pdf_layout import SUP_CLOSE, SUP_OPEN, Line

FIXTURES = Path(__file__).parent / "fixtures" / "pdf"
PLOS = FIXTURES / "plos-pbio.1001289-2col-super.pdf"


@pytest.fixture(scope="module")
def plos():
    truth = json.loads(PLOS.with_name(PLOS.stem + ".truth.json").read_text(encoding="utf-8"))
    return parse_pdf(PLOS.read_bytes(), PLOS.name), truth


def _minimal_pdf(extra_trailer: bytes = b"", encrypt_obj: bytes = b"") -> bytes:
    """A one-page PDF without text, written by hand (optionally with an /Encrypt dictionary)."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"]
    if encrypt_obj:
        objs.append(encrypt_obj)
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R " % (len(objs) + 1) + extra_trailer
    out += b">>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


# --- the rendered PLOS article ------------------------------------------------------------------------


def test_header_from_first_page(plos):
    doc, truth = plos
    assert doc.format == "pdf" and doc.source == PLOS.name
    assert doc.title == truth["title"]
    assert doc.doi == truth["doi"].lower()
    assert doc.year == int(truth["year"])
    assert [a.family for a in doc.authors][:1] == ["Tennison"]


def test_reference_list_segmented_in_order(plos):
    doc, truth = plos
    assert len(doc.references) == len(truth["refs"])
    for i, ref in enumerate(doc.references):
        assert ref.key == f"b{i}"
        assert ref.label.rstrip(".") == str(i + 1)
        assert ref.raw and not ref.raw.startswith(ref.label)
    # Each entry holds exactly its printed reference (no neighbour's lines, no page furniture).
    for ref, t in zip(doc.references, truth["refs"], strict=True):
        assert fuzz.ratio(ref.raw, t["text"]) >= 90, (ref.raw, t["text"])


def test_superscript_callouts_link_to_the_cited_entries(plos):
    doc, truth = plos
    keys = {r.key for r in doc.references}
    found = []
    for p in doc.paragraphs:
        for c in p.callouts:
            assert set(c.reference_keys) <= keys
            assert p.text[c.start : c.end] == c.text  # spans index the paragraph text
            assert SUP_OPEN not in p.text and SUP_CLOSE not in p.text
            found.append(tuple(sorted(int(k[1:]) + 1 for k in c.reference_keys)))
    expected = Counter(tuple(c) for c in truth["callouts"])
    got = Counter(found)
    hits = sum(min(n, got[k]) for k, n in expected.items())
    assert hits >= 0.9 * sum(expected.values())
    assert sum(got.values()) - hits <= 0.05 * sum(got.values())  # few spurious callouts


def test_two_column_reading_order(plos):
    # Callouts come out in the order the article cites them: columns are read left then right.
    doc, truth = plos
    found = [tuple(sorted(int(k[1:]) + 1 for k in c.reference_keys)) for p in doc.paragraphs for c in p.callouts]
    expected = [tuple(c) for c in truth["callouts"]]
    assert difflib.SequenceMatcher(a=expected, b=found, autojunk=False).ratio() >= 0.9


def test_parallel_threads_give_the_same_result(plos):
    # PDFium is not thread-safe; parse_pdf serialises it, so a thread pool (the web server) is safe.
    doc, _ = plos
    data = PLOS.read_bytes()
    with ThreadPoolExecutor(4) as pool:
        docs = list(pool.map(lambda i: parse_pdf(data, f"t{i}.pdf"), range(4)))
    for d in docs:
        assert [p.text for p in d.paragraphs] == [p.text for p in doc.paragraphs]
        assert [r.raw for r in d.references] == [r.raw for r in doc.references]


def test_paragraphs_sections_and_captions(plos):
    doc, _ = plos
    body = [p for p in doc.paragraphs if p.kind == "body"]
    assert len(body) >= 10
    assert {p.section for p in doc.paragraphs} <= {"introduction", "methods", "results", "discussion", "other"}
    # No reference-list text leaks into the body, and running text is de-hyphenated into whole lines.
    assert not any(p.text.startswith(("1. ", "[1]")) for p in body)
    assert all("\ufffe" not in p.text and "\u00ad" not in p.text for p in doc.paragraphs)
    assert doc.abstract


def test_page_limit_and_size_limit():
    data = PLOS.read_bytes()
    with pytest.raises(InputTooLargeError, match="pages"):
        parse_pdf(data, "big.pdf", max_pages=2)
    with pytest.raises(InputTooLargeError, match="big.pdf"):
        parse_pdf(data, "big.pdf", max_bytes=1000)


# --- inputs we refuse ------------------------------------------------------------------------------------


def test_empty_file():
    with pytest.raises(MalformedInputError, match="empty.pdf: empty file"):
        parse_pdf(b"", "empty.pdf")


def test_not_a_pdf():
    with pytest.raises(UnsupportedFormatError, match="notes.txt"):
        parse_pdf(b"Just some text, not a PDF at all.\n" * 10, "notes.txt")


def test_truncated_pdf():
    data = PLOS.read_bytes()
    with pytest.raises(MalformedInputError, match="cut.pdf: broken or truncated"):
        parse_pdf(data[: len(data) // 2], "cut.pdf")


def test_garbage_after_header():
    with pytest.raises(MalformedInputError):
        parse_pdf(b"%PDF-1.7\n" + bytes(range(256)) * 4, "junk.pdf")


def test_encrypted_pdf():
    data = _minimal_pdf(
        b"/Encrypt 4 0 R /ID [<00112233445566778899aabbccddeeff><00112233445566778899aabbccddeeff>] ",
        b"<< /Filter /Standard /V 1 /R 2 /Length 40 /P -4 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> >>",
    )
    with pytest.raises(UnsupportedFormatError, match="locked.pdf: .*encrypted"):
        parse_pdf(data, "locked.pdf")


def test_pdf_without_text_layer():
    # What a scanned article looks like to us: pages, no text.
    pdf = pdfium.PdfDocument.new()
    for _ in range(3):
        pdf.new_page(612, 792)
    buf = io.BytesIO()
    pdf.save(buf)
    with pytest.raises(UnsupportedFormatError, match="scan.pdf: .*no text layer"):
        parse_pdf(buf.getvalue(), "scan.pdf")
    with pytest.raises(InputError):
        parse_pdf(_minimal_pdf(), "blank.pdf")


# --- helpers ------------------------------------------------------------------------------------------


def _refs(n: int, authors: list[tuple[str, int]] | None = None) -> list[Reference]:
    out = []
    for i in range(n):
        fam, year = authors[i] if authors else ("X", 2000)
        out.append(Reference(key=f"b{i}", label=f"[{i + 1}]" if not authors else "", raw=f"{fam} A ({year}) T.",
                             authors=[Author(family=fam)], year=year))
    return out


def test_expand_ranges_and_lists():
    assert _expand("3–6", 50) == [3, 4, 5, 6]
    assert _expand("1, 4, 7", 50) == [1, 4, 7]
    assert _expand("2-4; 9", 50) == [2, 3, 4, 9]
    assert _expand("5–300", 50) == []  # too long for a citation range: page span or the like


def test_numeric_callouts():
    linker = _Linker(_refs(12))
    text, cos = _find_callouts("As shown [3–6], and [1, 4, 7]; also [2]–[4] but not [40] or [1999].", linker)
    assert [c.reference_keys for c in cos] == [["b2", "b3", "b4", "b5"], ["b0", "b3", "b6"], ["b1", "b2", "b3"]]
    assert [text[c.start : c.end] for c in cos] == ["[3–6]", "[1, 4, 7]", "[2]–[4]"]


def test_superscript_callouts_and_exponents():
    linker = _Linker(_refs(12))
    raw = f"Cells divide{SUP_OPEN}1,2{SUP_CLOSE} in 10{SUP_OPEN}5{SUP_CLOSE} cases over 3 km{SUP_OPEN}2{SUP_CLOSE}; R{SUP_OPEN}2{SUP_CLOSE} = 0.9."
    text, cos = _find_callouts(raw, linker)
    assert text == "Cells divide1,2 in 105 cases over 3 km2; R2 = 0.9."
    assert len(cos) == 1 and cos[0].reference_keys == ["b0", "b1"] and text[cos[0].start : cos[0].end] == "1,2"


def test_author_year_callouts():
    refs = _refs(4, [("Smith", 2003), ("Lee", 2001), ("van Dam", 1999), ("Smith", 2005)])
    linker = _Linker(refs)
    text = ("Known (Smith et al., 2003; Lee 2001). Smith and Jones (2005) disagreed, as did van Dam (1999) "
            "and Brown (2010).")
    _, cos = _find_callouts(text, linker)
    assert [c.reference_keys for c in cos] == [["b0", "b1"], ["b3"], ["b2"]]
    assert cos[0].text == "(Smith et al., 2003; Lee 2001)"


def test_author_year_labels_for_unnumbered_entries():
    ref = Reference(key="b0", authors=[Author(family="Smith"), Author(family="Lee"), Author(family="Wu")], year=2003)
    assert _author_year_label(ref) == "Smith et al., 2003"
    ref.authors = ref.authors[:2]
    assert _author_year_label(ref) == "Smith and Lee, 2003"


def _line(text: str, x0: float = 50, baseline: float = 700, page: int = 0, size: float = 10) -> Line:
    return Line(page, x0, x0 + 200, baseline + size * 0.8, baseline - size * 0.2, baseline, size, False, text)


def test_segment_numbered_references():
    lines = [_line("[1] Smith J. A study of things."), _line("Journal 3: 1–9.", x0=62, baseline=688),
             _line("[2] Lee K. Another study.", baseline=676), _line("[3] Wu P. Third.", baseline=664),
             _line("Book, 2001.", x0=62, baseline=652)]
    entries = _segment_references(lines, 10)
    assert [e.label for e in entries] == ["[1]", "[2]", "[3]"]
    assert _join_lines(entries[0].lines) == "Smith J. A study of things. Journal 3: 1–9."


def test_the_articles_own_masthead_and_citation_box_are_not_part_of_the_last_reference():
    """A one-page correction's masthead (read after its only reference) and BioMed Central's "Cite this article
    as" and "Submit your next manuscript" boxes were the end of the last entry: its DOI became the article's own,
    and the reference check matched the reference to the article itself."""
    own = "10.1155/2016/7090351"
    masthead = [_line("[1] H. Enomoto, “An increased ratio of glycated albumin,” Gastroenterology Research and",
                      baseline=212), _line("Practice, vol. 2014, Article ID 351396, 6 pages, 2014.", x0=62, baseline=202),
                _line("Hindawi Publishing Corporation", baseline=744, size=8),
                _line("Volume 2016, Article ID 7090351, 1 page", baseline=735, size=8),
                _line(f"http://dx.doi.org/{own}", baseline=726, size=8)]
    kept = _without_trailers(masthead, own)
    assert [ln.text for ln in kept] == [ln.text for ln in masthead[:2]]
    bmc = [_line("[1] Smith J: Rapid tests. Clin Infect Dis 2013, 56:503–508.", baseline=634),
           _line("doi:10.1186/1471-2334-13-352", baseline=615, size=7),
           _line("Cite this article as: Shah et al.: Comparison of laboratory costs.", baseline=606, size=7),
           _line("BMC Infectious Diseases 2013 13:352.", baseline=598, size=7),
           _line("Submit your next manuscript to BioMed Central", x0=320, baseline=178, size=8.5)]
    assert [ln.text for ln in _without_trailers(bmc, "10.1186/1471-2334-13-352")] == [bmc[0].text]
    assert [ln.text for ln in _without_trailers(bmc, "")] == [bmc[0].text, bmc[1].text]
    # A numbered reference whose DOI was taken for the article's (a correction printing none of its own) stays.
    cited = [_line("[1] Lee K. The original study. J 3: 1–9.", baseline=300),
             _line("doi:10.1000/orig.1", x0=62, baseline=290)]
    assert _without_trailers(cited, "10.1000/orig.1") == cited


def test_segment_hanging_indent_references():
    lines = [_line("Adams B (2001) One title"), _line("that wraps. J 1: 2.", x0=60, baseline=688),
             _line("Baker C (2002) Two.", baseline=676), _line("Clark D (2003) Three", baseline=664),
             _line("goes on here.", x0=60, baseline=652)]
    entries = _segment_references(lines, 10)
    assert len(entries) == 3 and entries[2].lines[-1].text == "goes on here."


def test_join_lines_dehyphenates():
    lines = [_line("a well-known exam-"), _line("ple of line breaks and a soft hy\u00ad"), _line("phen too")]
    assert _join_lines(lines) == "a well-known example of line breaks and a soft hyphen too"


def test_line_break_hyphens_use_the_document_vocabulary():
    lines = [_line("a mixed-mode system"), _line("uses mixed\u00ad"), _line("mode and exam\u00ad"), _line("ples")]
    text = _join_lines(lines[1:], keep_breaks=True)
    assert _resolve_breaks(text, _vocabulary(lines)) == "uses mixed-mode and examples"


def test_parenthesised_numeric_callouts_when_the_document_uses_them():
    linker = _Linker(_refs(12))
    linker.paren_numeric, linker.bracket = True, False
    _, cos = _find_callouts("Dynamo (7) traces loops, see Eq. (3) and code sp[8].", linker)
    assert [c.text for c in cos] == ["(7)"]


def test_text_is_sanitised_once_at_the_pdf_boundary():
    from citelens.formats.pdf_layout import clean_line_text, sanitise_text, sanitise_units

    units = "a\ud835\udc65b\ud835c\ue000d\u202eé\ufffe"
    fixed = sanitise_units(units)
    assert len(fixed) == len(units)  # offsets stay PDFium char indices
    assert clean_line_text(fixed) == "axbcdé\ufffe"  # 𝑥 → x, lone surrogate and private-use glyph dropped
    assert clean_line_text("ﬁgure\x07 ﬂow\u200f") == "figure  flow"
    for s in (units, "\udfff" * 3, "\u202b\u0645\u202c", "x\x00y"):
        sanitise_text(s).encode("utf-8")


def _blank_pdf(n_pages: int) -> bytes:
    pdf = pdfium.PdfDocument.new()
    for _ in range(n_pages):
        pdf.new_page(612, 792)
    buf = io.BytesIO()
    pdf.save(buf)
    return buf.getvalue()


def test_zero_page_pdf():
    with pytest.raises(MalformedInputError, match="none.pdf: .*no pages"):
        parse_pdf(_blank_pdf(0), "none.pdf")


def test_two_thousand_pages_refused_quickly():
    import time

    data = _blank_pdf(2000)
    t0 = time.process_time()
    with pytest.raises(InputTooLargeError, match="huge.pdf: PDF has 2000 pages"):
        parse_pdf(data, "huge.pdf")
    assert time.process_time() - t0 < 5  # counted, never rendered


def test_html_saved_as_pdf():
    page = b"<!DOCTYPE html>\n<html><head><title>Access denied</title></head><body>Sign in</body></html>"
    with pytest.raises(UnsupportedFormatError, match="paper.pdf: not a PDF but an HTML page"):
        parse_pdf(page, "paper.pdf")


def test_text_budget_bounds_work():
    with pytest.raises(InputTooLargeError, match="characters"):
        parse_pdf(PLOS.read_bytes(), "long.pdf", max_chars=500)


def test_unheaded_author_year_list_at_the_end():
    from citelens.formats.pdf import _unheaded_author_year_start

    lines = [_line("We thank the staff of the station for"), _line("their help.", baseline=688),
             _line("Becker, E. A., Teal, T., & Sane, M. (2019). Genomics", baseline=670),
             _line("workshop overview. Zenodo.", x0=64, baseline=658),
             _line("Darling, A. E., & Gaio, D. (2019). Data for the gene", baseline=646),
             _line("school. Zenodo.", x0=64, baseline=634),
             _line("Lessons. (n.d.). Retrieved May 2, 2021, from https://x.org", baseline=622),
             _line("Okie, J. G. (2020). Genomic adaptations. eLife, 9.", baseline=610)]
    assert _unheaded_author_year_start(lines) == 2
    assert _unheaded_author_year_start(lines[:2]) is None  # plain prose is no list


def test_parenthesised_callouts_glued_to_a_word():
    linker = _Linker(_refs(12))
    linker.paren_numeric = True
    _, cos = _find_callouts("risk of disease(1). Outcome(2,4).The f(3) and H(2) are not.", linker)
    assert [c.text for c in cos] == ["(1)", "(2,4)"]


def test_affiliation_marks_on_page_one_are_not_callouts():
    from citelens.formats.pdf import _author_list_marks

    linker = _Linker(_refs(30))
    names = f"Martin Connor,{SUP_OPEN}1,2{SUP_CLOSE} Taimur Shah,{SUP_OPEN}1{SUP_CLOSE} Kate Smith,{SUP_OPEN}1,3{SUP_CLOSE} Emily Day{SUP_OPEN}3{SUP_CLOSE}"
    text, cos = _find_callouts(names, linker)
    assert _author_list_marks(text, cos)
    prose = f"Men are diagnosed with prostate cancer each year in the UK.{SUP_OPEN}1{SUP_CLOSE} Most present late.{SUP_OPEN}2{SUP_CLOSE} Some are cured by surgery alone.{SUP_OPEN}3{SUP_CLOSE}"
    text, cos = _find_callouts(prose, linker)
    assert len(cos) == 3 and not _author_list_marks(text, cos)


def test_space_separated_superscript_numbers_are_one_callout():
    linker = _Linker(_refs(60))
    text, cos = _find_callouts(f"in this cohort.{SUP_OPEN}44 49–52{SUP_CLOSE} Next", linker)
    assert cos[0].reference_keys == ["b43", "b48", "b49", "b50", "b51"]


def test_reference_band_under_a_one_column_heading():
    from citelens.formats.pdf import _reading_order

    body = [_line(f"left body line {i}", x0=50, baseline=700 - 12 * i) for i in range(6)]
    body += [_line(f"right body line {i}", x0=320, baseline=700 - 12 * i) for i in range(6)]
    heading = _line("References", x0=50, baseline=600, size=11)
    refs = [_line(f"{i + 1}. Ref {i + 1}", x0=50, baseline=585 - 9 * i, size=7) for i in range(4)]
    refs += [_line(f"{i + 5}. Ref {i + 5}", x0=320, baseline=585 - 9 * i, size=7) for i in range(4)]
    for ln in (*body, heading, *refs):
        ln.x1 = ln.x0 + 220
    order = [ln.text for ln in _reading_order(body + [heading] + refs, 600, 10)]
    assert order.index("right body line 5") < order.index("References") < order.index("1. Ref 1")
    assert order.index("4. Ref 4") < order.index("5. Ref 5")


def test_superscript_range_with_ascii_hyphen():
    linker = _Linker(_refs(12))
    text, cos = _find_callouts(f"of which 6 were fatal).{SUP_OPEN}6-9{SUP_CLOSE} Fears", linker)
    assert [c.reference_keys for c in cos] == [["b5", "b6", "b7", "b8"]]


def test_batch_of_bad_pdfs_goes_on(tmp_path):
    from citelens.pipeline import ingest_paths
    from citelens.store import open_store

    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.pdf").write_bytes(PLOS.read_bytes())
    bad = {
        "none.pdf": (_blank_pdf(0), "no pages"),
        "huge.pdf": (_blank_pdf(2000), "2000 pages"),
        "scan.pdf": (_blank_pdf(3), "no text layer"),
        "login.pdf": (b"<!DOCTYPE html><html><body>Sign in</body></html>", "HTML page"),
        "cut.pdf": (PLOS.read_bytes()[:5000], "truncated"),
        "locked.pdf": (_minimal_pdf(
            b"/Encrypt 4 0 R /ID [<00112233445566778899aabbccddeeff><00112233445566778899aabbccddeeff>] ",
            b"<< /Filter /Standard /V 1 /R 2 /Length 40 /P -4 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> >>",
        ), "encrypted"),
    }
    for name, (data, _reason) in bad.items():
        (folder / name).write_bytes(data)
    with open_store(tmp_path / "s.db") as store:
        summary = ingest_paths([folder], store, "cues")
    assert summary.stored == 1
    problems = {Path(f.source).name: f.problem for f in summary.failed}
    assert set(problems) == set(bad)
    for name, (_data, reason) in bad.items():
        assert reason in problems[name], (name, problems[name])


def test_a_two_column_list_finished_by_the_right_column_above_a_full_width_appendix():
    """A left column ending in a bold "Appendix" heading, under a right column that finishes the reference list,
    above a full-width table: the heading was read between the columns and ended the list half-way."""
    from citelens.formats.pdf import _reading_order

    refs = [_line(f"Left, A. ({2000 + i}). Ref {i + 1}.", x0=72, baseline=700 - 12 * i) for i in range(6)]
    refs += [_line(f"Right, B. ({2010 + i}). Ref {i + 7}.", x0=322, baseline=700 - 12 * i) for i in range(6)]
    heading = _line("Appendix: Survey", x0=72, baseline=610, size=16)
    heading.bold = True
    table = _line("A full-width survey question spanning both columns", x0=108, baseline=590)
    for ln in (*refs, heading):
        ln.x1 = ln.x0 + 218
    table.x1 = 490
    order = [ln.text for ln in _reading_order(refs + [heading, table], 612, 10)]
    assert order.index("Left, A. (2005). Ref 6.") < order.index("Right, B. (2010). Ref 7.")
    assert order.index("Right, B. (2015). Ref 12.") < order.index("Appendix: Survey") < order.index(table.text)
    # Without the full-width part below, nothing moves: an orphan heading at a column's foot reads in place.
    plain = [ln.text for ln in _reading_order(refs + [heading], 612, 10)]
    assert plain.index("Appendix: Survey") < plain.index("Right, B. (2010). Ref 7.")


def test_the_masthead_doi_wins_over_one_cited_in_a_notices_text():
    """A retraction notice cites the original's DOI in its text; reading order puts the masthead's small print last."""
    from citelens.formats.pdf import _own_doi

    text = ["The paper titled “Cure of Chronic Viral Infection” [1] has been retracted as it",
            "was found that the paper was unintentionally published twice by the journal’s",
            "former publisher. The version of record of this paper is available at http://dx.doi.org/",
            "10.1080/17402520600800721."]
    lines = [_line(t, baseline=450 - 11 * i) for i, t in enumerate(text)]
    lines += [_line("Hindawi Publishing Corporation", baseline=744, size=8),
              _line("Volume 2016, Article ID 2747402, 1 page", baseline=735, size=8),
              _line("http://dx.doi.org/10.1155/2016/2747402", baseline=726, size=8)]
    d = _own_doi(lines, 10)
    assert d is not None and d.group(1) == "10.1155/2016/2747402"
    # With no other DOI on the page, the one in the text is still taken; "DOI: 10.…" under a title always is.
    d = _own_doi(lines[:4], 10)
    assert d is not None and d.group(1) == "10.1080/17402520600800721"
    front = [_line("DOI: 10.1000/own.1", baseline=650)] + lines
    d = _own_doi(front, 10)
    assert d is not None and d.group(1) == "10.1000/own.1"
