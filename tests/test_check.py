"""Reference check for real manuscripts: every input format, any common encoding, errors naming the
file, CSV/JSON export, and the ``citelens check`` command."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from citelens.check import CheckInputError, check_references, parse_reference_list
from citelens.cli import main
from citelens.pipeline import ingest_paths
from citelens.store import open_store
from citelens.web.app import create_app
from test_web import CITED, FIXTURES, build_index, csrf, post_check, settings

CORRECTED = "10.1128/jb.187.1.55"  # a work mini-jats.xml cites (tests/fixtures)
BARNES = "Barnes T (2001) Sentinel behaviour in bacterial colonies. Microbiology 147: 1-9. doi:10.9999/cited.2001.1"
RIS = """TY  - JOUR
AU  - Barnes, T.
TI  - Sentinel behaviour in bacterial colonies
JO  - Microbiology
PY  - 2001
VL  - 147
SP  - 1
EP  - 9
DO  - 10.9999/cited.2001.1
ER  -
TY  - JOUR
AU  - Müller, Käthe
TI  - Über nichts
PY  - 1999
ER  -
"""
CSL = [{"id": "barnes2001", "type": "article-journal", "title": "Sentinel behaviour in bacterial colonies",
        "author": [{"family": "Barnes", "given": "T."}], "issued": {"date-parts": [[2001]]},
        "container-title": "Microbiology", "DOI": "10.9999/CITED.2001.1"},
       {"id": "x", "title": "Colony patterns", "author": [{"family": "Chen", "given": "L"}],
        "issued": {"date-parts": [["2010", 1]]}}]


@pytest.fixture(scope="module")
def index_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("check") / "index.db")


def docx_bytes(paragraphs: list[str]) -> bytes:
    import docx

    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize("filename,data,fmt,n", [
    ("refs.ris", RIS.encode("utf-8"), "ris", 2),
    ("refs.ris", RIS.encode("latin-1"), "ris", 2),
    ("My Library.json", json.dumps(CSL).encode(), "csl-json", 2),
    ("refs.txt", (BARNES + "\nMüller K, Götz A (2003) Straße of growth. J Biol 12: 1-9.\n").encode("latin-1"), "lines", 2),
    ("refs.txt", (BARNES + "\nMüller K (2003) Straße. J Biol 12: 1-9.\n").encode("utf-16"), "lines", 2),
    ("refs.txt", (BARNES + "\nMüller K (2003) Straße. J Biol 12: 1-9.\n").encode("cp1252"), "lines", 2),
    ("manuscript.docx", docx_bytes(["Introduction", "Text citing [1].", "References",
                                    "1. " + BARNES, "2. Chen L (2010) Colony patterns. Cell 140: 20."]), "docx", 2),
])
def test_formats_and_encodings(index_db: Path, filename: str, data: bytes, fmt: str, n: int) -> None:
    got_fmt, refs = parse_reference_list(data, filename)
    assert got_fmt == fmt and len(refs) == n
    assert any("ü" in (r.raw + r.title + "".join(a.family for a in r.authors)) for r in refs) or fmt in ("csl-json", "docx")
    store = open_store(index_db, readonly=True)
    try:
        results = check_references(refs, store)
    finally:
        store.close()
    first = results[0]
    assert first.work is not None and first.work["doi"] == CITED
    assert "This work has been retracted." in first.warnings


def test_pdf_manuscript_goes_through_the_pdf_pipeline() -> None:
    data = (FIXTURES / "pdf" / "plos-pbio.1001289-2col-super.pdf").read_bytes()
    fmt, refs = parse_reference_list(data, "paper.pdf")
    assert fmt == "pdf" and len(refs) >= 20
    assert sum(1 for r in refs if r.title) >= len(refs) // 2


@pytest.mark.parametrize("filename,data,problem", [
    ("broken.json", b"[{\"title\": ", "not valid JSON"),
    ("huge.json", b"[{\"issued\": " + b"9" * 5000 + b"}]", "more than 4,300 digits"),
    ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ("empty.ris", b"\n\n", "empty"),
    ("nothing.ris", b"hello\n", "no RIS records"),
    ("binary.txt", b"\x00\x01\x02\xff" * 50, "binary data"),
    ("bom.txt", b"\xff\xfe\x00\xd8", "byte-order mark"),
    ("fake.docx", b"PK\x03\x04not really a zip", "not a Word .docx"),
    ("fake.pdf", b"%PDF-1.4 truncated", ""),
    ("bad.xml", b"<article><unclosed></article>", ""),
])
def test_errors_name_the_file(filename: str, data: bytes, problem: str) -> None:
    with pytest.raises(CheckInputError) as exc:
        parse_reference_list(data, filename)
    assert str(exc.value).startswith(filename + ":") and problem in str(exc.value)
    assert str(exc.value).count(filename) == 1  # once: "binary.txt: binary.txt: binary data" named it twice


@pytest.mark.parametrize("data", [b"\x00\x01\x02\xff" * 50, b"\xff\xfe\x00\xd8"])
def test_undecodable_pasted_text_is_named_once(data: bytes) -> None:
    with pytest.raises(CheckInputError) as exc:
        parse_reference_list(data, "")
    assert str(exc.value).startswith("the pasted text: ") and str(exc.value).count("the pasted text") == 1


def test_web_check_exports_csv_and_json(index_db: Path) -> None:
    with TestClient(create_app(index_db, settings())) as c:
        r = post_check(c, file=("refs.ris", RIS.encode("latin-1")))
        assert r.status_code == 200 and "2 references read (ris)" in r.text and "Müller" in r.text
        tok = r.text.split('name="csrf_token" value="')[1].split('"')[0]
        r = c.post("/check", data={"csrf_token": tok, "export": "csv"},
                   files={"file": ("my refs.ris", RIS.encode(), "application/octet-stream")})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert 'filename="my_refs-check.csv"' in r.headers["content-disposition"]
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert rows[0]["matched_doi"] == CITED and rows[0]["retracted"] == "True" and rows[1]["found"] == "False"
        r = c.post("/check", data={"csrf_token": tok, "export": "json", "text": BARNES})
        body = r.json()
        assert body["references"][0]["notices"] == ["Retracted"]
        r = post_check(c, file=("library.json", b"{oops"))
        assert r.status_code == 400 and "library.json: not valid JSON" in r.text


def test_the_csv_for_excel_starts_with_a_byte_order_mark_and_the_plain_address_does_not(index_db: Path,
                                                                                        tmp_path: Path) -> None:
    """Excel reads a UTF-8 CSV without a byte-order mark in the system's code page: "Müller" came out "MÃ¼ller". The
    page's CSV button asks for the mark (excel=1); /check?export=csv, which scripts use, stays as it was."""
    with TestClient(create_app(index_db, settings())) as c:
        page = c.get("/check").text
        assert 'value="csv" class="secondary" formaction="/check?excel=1"' in page
        tok = csrf(page)
        plain = c.post("/check", data={"csrf_token": tok, "export": "csv", "text": RIS}).content
        excel = c.post("/check?excel=1", data={"csrf_token": tok, "export": "csv", "text": RIS}).content
        assert not plain.startswith(b"\xef\xbb\xbf") and "MÃ¼ller" in plain.decode("cp1252", "replace")
        assert excel == b"\xef\xbb\xbf" + plain
        as_json = c.post("/check?excel=1", data={"csrf_token": tok, "export": "json", "text": RIS}).content
        assert as_json.startswith(b"{")  # JSON never gets one
        assert c.post("/check?excel=maybe", data={"csrf_token": tok, "export": "csv", "text": RIS}).status_code == 400
    f = tmp_path / "refs.ris"
    f.write_bytes(RIS.encode())
    r = CliRunner().invoke(main, ["check", str(f), "--db", str(index_db), "--excel"])
    assert r.exit_code == 0 and r.stdout_bytes.startswith(b"\xef\xbb\xbfindex,raw,")
    assert r.stdout_bytes[3:] == CliRunner().invoke(main, ["check", str(f), "--db", str(index_db), "--csv"]).stdout_bytes
    assert CliRunner().invoke(main, ["check", str(f), "--db", str(index_db), "--excel", "--json"]).exit_code == 2


def test_cli_check(index_db: Path, tmp_path: Path) -> None:
    f = tmp_path / "refs.ris"
    f.write_bytes(RIS.encode("latin-1"))
    runner = CliRunner()
    out = runner.invoke(main, ["check", str(f), "--db", str(index_db), "--json"])
    assert out.exit_code == 0, out.output
    refs = json.loads(out.output)["references"]
    assert refs[0]["found"] and refs[0]["warnings"] and refs[1]["title"] == "Über nichts"
    out = runner.invoke(main, ["check", str(f), "--db", str(index_db), "--csv"])
    assert out.exit_code == 0 and out.output.startswith("index,raw,")
    out = runner.invoke(main, ["check", str(f), "--db", str(index_db)])
    assert out.exit_code == 0 and "2 references read" in out.output and "retracted" in out.output
    one = tmp_path / "one.txt"
    one.write_text("Barnes T (2001) Sentinel behaviour in bacterial colonies. Microbiology.\n")
    out = runner.invoke(main, ["check", str(one), "--db", str(index_db)])
    assert out.exit_code == 0 and "1 reference read from" in out.output
    bad = tmp_path / "broken.json"
    bad.write_bytes(b"[1")
    out = runner.invoke(main, ["check", str(bad), "--db", str(index_db)])
    assert out.exit_code == 2 and "broken.json" in out.output and "Traceback" not in out.output


def test_references_parse_reads_latin1(tmp_path: Path) -> None:
    f = tmp_path / "refs.txt"
    f.write_bytes("Müller K, Götz A (2003) Straße of growth. J Biol 12: 1-9.\n".encode("latin-1"))
    out = CliRunner().invoke(main, ["references", "parse", str(f), "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["authors"][0] == "Müller, K"


def test_api_check_takes_the_file_as_body(index_db: Path) -> None:
    from test_shapes import validate

    with TestClient(create_app(index_db, settings())) as c:
        r = c.post("/api/check?filename=refs.ris", content=RIS.encode("latin-1"))
        assert r.status_code == 200, r.text
        body = r.json()
        validate(body, {"$ref": "#/components/schemas/CheckResults"}, c.get("/openapi.json").json())
        assert body["format"] == "ris" and body["references"][0]["notices"] == ["Retracted"]
        pdf = (FIXTURES / "pdf" / "plos-pbio.1001289-2col-super.pdf").read_bytes()
        r = c.post("/api/check?filename=paper.pdf", content=pdf)
        assert r.status_code == 200 and r.json()["format"] == "pdf" and len(r.json()["references"]) >= 20
        r = c.post("/api/check?filename=lib.json", content=b"{oops")
        assert r.status_code == 400 and r.json()["error"].startswith("lib.json: not valid JSON")
        r = c.post("/api/check", content=b"")  # it spoke of "the pasted text", which the API has none of
        assert r.status_code == 400 and r.json()["error"] == "the request body is empty: send the file as the body"


def test_api_check_over_the_limit_is_413(index_db: Path) -> None:
    """A body over the upload limit is 413, as on the page and as docs/web.md says of every body; one between the
    limit and the middleware's margin for form framing was a 400."""
    with TestClient(create_app(index_db, settings(max_upload_bytes=4096))) as c:
        line = b"Barnes T (2001) Sentinel behaviour.\n"
        for size in (4097, 4096 + 60_000):
            r = c.post("/api/check?filename=refs.txt", content=line * (size // len(line) + 1))
            assert r.status_code == 413 and "the limit is 4 KiB" in r.json()["error"], (size, r.text)
        # Past the margin the body limit itself answers, before the body is read.
        assert c.post("/api/check?filename=refs.txt", content=line * 10_000).status_code == 413


def test_heavy_contrast_counts_only_labels_the_model_is_sure_of() -> None:
    from citelens.check import warnings_for

    every = {"supporting": 1, "contrasting": 3}
    assert any(w.startswith("Heavily contrasted") for w in warnings_for({}, every))
    # Two of the three contrasting labels are unsure: no warning on one sure label.
    assert warnings_for({}, every, {"supporting": 1, "contrasting": 1}) == []
    sure = warnings_for({}, every, {"supporting": 0, "contrasting": 2})
    assert sure == ["Heavily contrasted: 2 contrasting vs 0 supporting citation statements the model is sure of."]


@pytest.mark.parametrize("item", [
    {"title": "Odd authors", "author": 5},
    {"title": "Year not in a list", "issued": {"date-parts": [2019]}},
    {"title": "A superscript year", "issued": {"date-parts": [["²"]]}},
    {"title": "A 23-digit year", "issued": {"date-parts": [["99999999999999999999999"]]}, "author": [{"family": "X"}]},
    {"title": "A year of true", "issued": {"date-parts": [[True]]}, "author": {"family": "Okafor"}},
])
def test_csl_json_fields_of_the_wrong_type_are_no_value(index_db: Path, item: dict) -> None:
    # Before: TypeError, ValueError, or an OverflowError from the index's year lookup: a traceback from citelens check
    # and a 500 from /check and /api/check.
    fmt, refs = parse_reference_list(json.dumps([item]).encode(), "library.json")
    assert fmt == "csl-json" and refs[0].title == item["title"] and refs[0].year is None
    store = open_store(index_db, readonly=True)
    try:
        assert len(check_references(refs, store)) == 1
    finally:
        store.close()
    with TestClient(create_app(index_db, settings())) as c:
        assert c.post("/api/check?filename=library.json", content=json.dumps([item]).encode()).status_code == 200
    one = parse_reference_list(json.dumps([{"title": "T", "author": {"family": "Okafor", "given": "A"},
                                             "issued": {"date-parts": [["2020", 1]]}}]).encode(), "l.json")[1][0]
    assert (one.year, [a.family for a in one.authors]) == (2020, ["Okafor"])


def test_cli_check_names_an_unreadable_file_once(index_db: Path, tmp_path: Path) -> None:
    f = tmp_path / "library.json"
    f.write_bytes(b'{"items": 5}')
    out = CliRunner().invoke(main, ["check", str(f), "--db", str(index_db)])
    assert out.exit_code == 2
    assert out.output.strip() == f"error: {f}: CSL JSON must be a list of items"  # was "…/library.json: library.json: …"


def _docx_with(part: str, extra: bytes) -> bytes:
    """A real .docx (python-docx) whose ``part`` has ``extra`` bytes added (inside an XML comment for XML parts)."""
    import zipfile

    import docx

    document = docx.Document()
    document.add_paragraph("References")
    document.add_paragraph("1. Barnes T (2001) Sentinel behaviour in bacterial colonies. Microbiology 147: 1-10.")
    buf = io.BytesIO()
    document.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == part:
                data = data.replace(b"?>", b"?><!--" + extra + b"-->", 1) if part.endswith(".xml") else data + extra
            z.writestr(info.filename, data)
        if part not in src.namelist():
            z.writestr(part, extra)
    return out.getvalue()


def test_a_docx_whose_other_parts_unpack_too_far_is_refused_before_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    import citelens.check as check

    monkeypatch.setattr(check, "MAX_DOCX_XML_BYTES", 1 << 20)
    monkeypatch.setattr(check, "MAX_DOCX_BYTES", 2 << 20)
    # Only word/document.xml was measured: python-docx then read and parsed a styles.xml of 1.5 GB (3.1 GB of memory
    # for a 1.5 MB upload).
    with pytest.raises(CheckInputError, match=r"^paper.docx: the Word file's XML parts unpack to 1 MiB; the limit"):
        parse_reference_list(_docx_with("word/styles.xml", b" " * (1 << 20)), "paper.docx")
    with pytest.raises(CheckInputError, match=r"^paper.docx: the Word file unpacks to 3 MiB; the limit is 2 MiB"):
        parse_reference_list(_docx_with("word/media/image1.png", b"\0" * (3 << 20)), "paper.docx")
    fmt, refs = parse_reference_list(_docx_with("word/styles.xml", b" " * 1000), "paper.docx")
    assert fmt == "docx" and refs[0].title.startswith("Sentinel behaviour")


def test_cli_check_reads_a_postgresql_index(store_url: str, tmp_path: Path) -> None:
    # `citelens check FILE --db postgresql://…` was "database postgresql://… does not exist" (exit 2): it looked
    # for a file by that name. And a file that is not an index was a StoreError traceback, not exit 4.
    build_index(store_url)
    f = tmp_path / "refs.ris"
    f.write_bytes(RIS.encode("latin-1"))
    out = CliRunner().invoke(main, ["check", str(f), "--db", store_url, "--json"])
    assert out.exit_code == 0, out.output
    refs = json.loads(out.output)["references"]
    assert refs[0]["found"] and refs[0]["warnings"] and not refs[1]["found"]
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database, not at all" * 100)
    out = CliRunner().invoke(main, ["check", str(f), "--db", str(junk)])
    assert out.exit_code == 4 and "not a usable CiteLens database" in out.output


def test_cli_check_shows_editorial_notices_as_the_page_does(tmp_path: Path) -> None:
    """A correction is no warning, but an editor must see it: `citelens check` printed only warnings, so a corrected
    work was a bare green tick while the /check page and --json named the correction."""
    db = build_index(tmp_path / "index.db")
    correction = tmp_path / "correction.xml"
    correction.write_text((FIXTURES / "xss-retraction.xml").read_text(encoding="utf-8")
                          .replace('article-type="retraction"', 'article-type="correction"')
                          .replace("retracted-article", "corrected-article").replace("10.9999/cited.2001.1", CORRECTED)
                          .replace("10.9999/notice.2022.7", "10.9999/notice.2023.9")
                          .replace("Retraction: Sentinel behaviour", "Correction: Growth arrest"), encoding="utf-8")
    store = open_store(db)
    ingest_paths([correction], store, classifier="cues")
    store.close()
    refs = tmp_path / "refs.txt"
    refs.write_text(f"{BARNES}\nChen L (2005) Growth arrest. J Bacteriol 187: 55. https://doi.org/{CORRECTED.upper()}.\n"
                    "Nobody N (1999) Nothing at all here. J Nowhere 1: 1.\n")
    out = CliRunner().invoke(main, ["check", str(refs), "--db", str(db)])
    assert out.exit_code == 0, out.output
    assert "3 references read" in out.output and "2 found in the index, 1 with warnings, 2 with editorial notices" \
        in out.output
    assert "notice: Has correction: Correction: Growth arrest in bacterial colonies (2022) https://doi.org/10.9999/notice.2023.9" \
        in out.output
    assert "notice: Retracted: Retraction: Sentinel behaviour" in out.output
    with TestClient(create_app(db, settings())) as c:
        r = post_check(c, file=("refs.txt", refs.read_bytes()))
        assert "1 with warnings</span>, 2 with editorial notices" in r.text and "Correction: Growth arrest" in r.text


@pytest.mark.parametrize("heading", ["References and Notes", "7. References", "VI. REFERENCES", "Notes & References",
                                     "References cited", "Literature Cited:"])
def test_a_manuscripts_reference_heading_in_the_forms_journals_use(heading: str) -> None:
    """Only "References" (alone) was found: under "References and Notes" or "7. References" the whole manuscript was
    read as its reference list, so body paragraphs and the heading itself were checked and counted as references."""
    data = docx_bytes(["A study of colonies", "Introduction", "Bacterial colonies post sentinels, as shown before [1].",
                       "Growth arrest follows in the dark, as others found later [2].", heading,
                       "1. " + BARNES, "2. Chen L (2010) Colony patterns. Cell 140: 20."])
    fmt, refs = parse_reference_list(data, "manuscript.docx")
    assert fmt == "docx" and len(refs) == 2 and refs[0].doi == "10.9999/cited.2001.1", [r.raw for r in refs]


def test_bibtex_doi_only_in_url_or_eprint_is_looked_up(index_db: Path) -> None:
    """A BibTeX entry whose DOI is only in `url` (a doi.org link) or biblatex's `eprint` was "not found" and its DOI
    empty, though RIS `UR` and CSL `URL` were read for one."""
    bib = ("@article{a, title={Sentinels}, url={https://doi.org/10.9999/CITED.2001.1}}\n"
           "@article{b, title={Sentinels again}, eprinttype={doi}, eprint={10.9999/cited.2001.1}}\n"
           "@article{c, title={Elsewhere}, url={https://example.org/paper.html}}\n")
    fmt, refs = parse_reference_list(bib.encode(), "refs.bib")
    assert fmt == "bibtex" and [r.doi for r in refs] == ["10.9999/cited.2001.1", "10.9999/cited.2001.1", ""]
    store = open_store(index_db, readonly=True)
    try:
        results = check_references(refs, store)
    finally:
        store.close()
    assert [bool(r.work) for r in results] == [True, True, False] and results[0].method == "doi"


def _docx_body(body: bytes, prolog: bytes = b"") -> bytes:
    """A minimal .docx whose word/document.xml holds ``body`` (with ``prolog`` before the root element)."""
    import zipfile

    w = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>')
        z.writestr("word/document.xml", b'<?xml version="1.0"?>' + prolog + b"<w:document " + w + b"><w:body>"
                   + body + b"</w:body></w:document>")
    return out.getvalue()


def _wp(*runs: str) -> bytes:
    return ("<w:p>" + "".join(f"<w:r><w:t>{r}</w:t></w:r>" for r in runs) + "</w:p>").encode()


def test_a_docx_is_read_as_a_stream_whatever_its_paragraph_count() -> None:
    # python-docx built the whole tree and an object per paragraph: a 92 KB upload of 47 MB of empty paragraphs took
    # 48 s and 1.4 GB of memory. The text is the same as python-docx's: runs joined, a tab and a break as such,
    # hyperlink runs included; tables and text boxes are not body paragraphs.
    body = (b"<w:p/>" * 300_000 + _wp("References")
            + b'<w:p><w:r><w:t xml:space="preserve">1. Barnes T (2001) </w:t></w:r><w:hyperlink><w:r><w:t>Sentinel'
              b" behaviour</w:t></w:r></w:hyperlink><w:r><w:t xml:space=\"preserve\"> in bacterial colonies."
              b" Microbiology 147: 1-10.</w:t></w:r></w:p>"
            + b"<w:tbl><w:tr><w:tc>" + _wp("2. Not a body paragraph (1999) In a table. Cell 1: 1.") + b"</w:tc></w:tr></w:tbl>")
    data = _docx_body(body)
    assert len(data) < 60_000
    fmt, refs = parse_reference_list(data, "paper.docx")
    assert fmt == "docx" and [r.title for r in refs] == ["Sentinel behaviour in bacterial colonies"]


@pytest.mark.parametrize(("body", "prolog"), [
    (b"<w:p>" * 5000 + b"</w:p>" * 5000, b""),  # nested past libxml2's depth limit
    (b"<w:p><w:r><w:t>&lol3;</w:t></w:r></w:p>",  # billion laughs
     b'<!DOCTYPE d [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;">]>'),
    (b"<w:p><w:r><w:t>&xxe;</w:t></w:r></w:p>", b'<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'),
])
def test_a_hostile_docx_is_a_clear_error(body: bytes, prolog: bytes) -> None:
    try:
        fmt, refs = parse_reference_list(_docx_body(body, prolog), "bomb.docx")
    except CheckInputError as exc:
        assert str(exc).startswith("bomb.docx: the Word file could not be read")
    else:  # an entity left unexpanded is no text at all: never a file's content
        assert not any("root:" in r.raw or "lol" in r.raw for r in refs)


@pytest.mark.parametrize(("text", "encoding"), [
    ("TY  - JOUR\nAU  - Øster-Müller, Jørgen\nTI  - Naïve café culture on Ålesund fjords\nPY  - 2019\nER  - \n",
     "latin-1"),
    ("Smith J, Müller K. Über die Wirkung. Zeitschrift für Biologie 1999;12:1-5.\n", "cp1252"),
    ("García-Peña J, Muñoz Á. Efectos del café. Revista Española 2005;8:11-19.\n", "latin-1"),
    ("Nowak A, Wójcik Ł, Żółć S. Wpływ środowiska na zdrowie. Przegląd Lekarski 2010;3:4-9.\n", "cp1250"),
    ("Иванов И. Влияние среды на здоровье. Журнал медицины 2010.\n", "cp1251"),
])
def test_a_reference_list_in_a_legacy_code_page_reads_as_written(text: str, encoding: str) -> None:
    """charset-normalizer took a Latin-1 RIS file's "Øster-Müller" for Windows-1250 ("Řster-Müller") and a
    Polish Windows-1250 list ("Wpływ") for Windows-1252 ("Wp³yw"): between those two code pages the one that
    breaks fewer words wins, Windows-1252 on a tie; other scripts are still detected."""
    from citelens.check import decode_text

    assert decode_text(text.encode(encoding)) == text
