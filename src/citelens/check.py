"""Reference check: read a manuscript or its reference list and look each entry up in the index.

Inputs: a manuscript PDF (through the PDF pipeline) or Word .docx (python-docx), and reference lists
as BibTeX, RIS, CSL JSON (Zotero/Mendeley export), JATS XML or plain text with one reference per line,
in any common text encoding. Every error names the file. Results export as CSV and JSON
(:func:`results_csv`, :func:`results_json`); ``citelens check FILE`` and the /check page call the same
functions.

Resolution is read-only: :func:`citelens.references.resolve.find_matching_work` only queries the index,
so checking a manuscript never adds works to it.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from lxml import etree

from citelens.document import Author, Reference
from citelens.errors import CiteLensError
from citelens.references.identifiers import normalise_doi
from citelens.references.resolve import find_matching_work, record_from_reference
from citelens.store.base import Store

# A work is "heavily contrasted" when at least this many statements contrast it and they are at least
# as many as the supporting ones; a single dissenting citation is normal scholarly debate. Only labels the
# model is sure of count (its min_confidence): about half of all contrasting labels are right, four in five of
# the sure ones (docs/model-card.md), and a warning should not rest on a coin toss.
HEAVY_CONTRAST_MIN = 2
MAX_LINE_CHARS = 2000
# A .docx is a zip, and python-docx reads every part of it into memory (and parses every XML part): refuse one whose
# XML parts would unpack to more than this, or all its parts (images too) to more than MAX_DOCX_BYTES (zip bombs).
# Only word/document.xml was bounded: a 1.5 MB upload whose styles.xml held 1.5 GB of spaces took 3.1 GB of memory.
MAX_DOCX_XML_BYTES = 50 * 1024 * 1024
MAX_DOCX_BYTES = 200 * 1024 * 1024
FORMATS = ("pdf", "docx", "jats", "bibtex", "ris", "csl-json", "lines")


class CheckInputError(ValueError):
    """The uploaded or pasted reference list cannot be read; the message names the file and the problem."""


@dataclass
class CheckedReference:
    index: int
    raw: str
    reference: Reference
    work: dict[str, Any] | None = None
    tallies: dict[str, int] | None = None
    method: str = ""
    score: float | None = None
    warnings: list[str] = field(default_factory=list)


def decode_text(data: bytes, name: str = "the reference list") -> str:
    """Text of an upload in whatever common encoding it came in.

    A byte-order mark decides; otherwise UTF-8 when the bytes are valid UTF-8; otherwise the encoding
    charset-normalizer finds most likely; Windows-1252 (a superset of Latin-1's printable characters) as
    the last resort, since every byte sequence decodes in it.
    """
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
                     (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(enc)
            except UnicodeDecodeError:
                raise CheckInputError(f"{name}: starts with a {enc.upper()} byte-order mark but is not"
                                      f" {enc.upper()} text") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if b"\x00" in data[:4096]:
        raise CheckInputError(f"{name}: binary data, not a text file (upload a PDF, .docx or a text reference list)")
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding not in ("utf_8", "ascii") and best.encoding not in _LATIN_SINGLE_BYTE:
        try:
            return data.decode(best.encoding)
        except (UnicodeDecodeError, LookupError):
            pass
    return _western_or_central(data)


# Single-byte code pages for Latin script that charset-normalizer cannot tell apart on a short reference list
# (a few hundred bytes of names and titles): it read a Latin-1 RIS file's "Øster-Müller" as Windows-1250
# ("Řster-Müller") and a Polish Windows-1250 one ("Wpływ") as Windows-1252 ("Wp³yw"). Between those two the
# choice is made here, by what a wrong code page does to words.
_LATIN_SINGLE_BYTE = frozenset({"cp1250", "cp1252", "latin_1", "iso8859_2", "iso8859_15", "iso8859_16", "iso8859_3",
                                "iso8859_4", "iso8859_9", "iso8859_10", "iso8859_13", "iso8859_14", "cp1257",
                                "cp1254", "cp775", "cp850", "cp852", "hp_roman8", "mac_latin2", "mac_roman"})


def _broken_words(text: str) -> int:
    """Words a wrong code page breaks: a character that is neither a letter nor a space, apostrophe, hyphen or
    full stop between two letters ("Wp³yw", "gr¹d")."""
    return sum(1 for a, b, c in zip(text, text[1:], text[2:], strict=False)
               if a.isalpha() and c.isalpha() and not b.isalpha() and not b.isspace() and b not in "-'’.")


def _western_or_central(data: bytes) -> str:
    """Windows-1252 (Western Europe and the Americas; every Latin-1 letter at the same byte) unless Windows-1250
    (Central Europe) breaks fewer words; a tie is Windows-1252, the more common and the one Latin-1 files need."""
    western = data.decode("cp1252", errors="replace")
    try:
        central = data.decode("cp1250")
    except UnicodeDecodeError:  # five bytes are undefined in Windows-1250
        return western
    return central if _broken_words(central) < _broken_words(western) else western


# Content is read as JATS only when it starts like XML: a declaration, a doctype, a comment or a JATS
# element that holds references. Pasted references may well start with "<" ("<Smith J> 2001 …",
# "<1> Barnes T …", "<https://doi.org/…>"): those are lines, not a broken XML file.
_XML_START = re.compile(r"<(\?xml\b|!DOCTYPE\b|!--|(article|ref-list|ref|back|element-citation|mixed-citation"
                        r"|citation|nlm-citation)[\s>/])", re.IGNORECASE)


def detect_format(text: str, filename: str = "") -> str:
    """One of FORMATS for a text upload, from the file name or, failing that, the content."""
    name = filename.lower()
    if name.endswith((".xml", ".nxml")):
        return "jats"
    if name.endswith((".bib", ".bibtex")):
        return "bibtex"
    if name.endswith(".ris"):
        return "ris"
    if name.endswith((".json", ".csl", ".csljson")):
        return "csl-json"
    head = text.lstrip()[:200]
    if _XML_START.match(text.lstrip("\ufeff \t\r\n")):
        return "jats"
    if head.startswith(("[", "{")):
        return "csl-json"
    if re.match(r"TY  - ", text.lstrip()):
        return "ris"
    if re.search(r"@\w+\s*[{(]", text[:5000]):
        return "bibtex"
    return "lines"


def _unbrace(s: str) -> str:
    # BibTeX protects capitals with braces and escapes a few characters; show the plain text.
    s = re.sub(r"\\[a-zA-Z]+\s*", "", s) if "\\" in s else s
    return re.sub(r"\s+", " ", s.replace("{", "").replace("}", "")).strip()


def _bib_author(name: str) -> Author:
    name = _unbrace(name)
    if "," in name:
        family, _, given = name.partition(",")
        return Author(family=family.strip(), given=given.strip())
    parts = name.split()
    if len(parts) == 1:
        return Author(family=parts[0])
    return Author(family=parts[-1], given=" ".join(parts[:-1]))


def _bib_doi(f: dict[str, str]) -> str:
    """An entry's DOI: its ``doi`` field, else biblatex's ``eprint`` with ``eprinttype = {doi}``, else a DOI link in
    ``url`` (many exports keep it only there) — as the RIS ``UR`` and CSL ``URL`` fields are read."""
    eprint = f.get("eprint", "") if f.get("eprinttype", "").lower() == "doi" else ""
    return normalise_doi(f.get("doi", "")) or normalise_doi(eprint) or normalise_doi(f.get("url", ""))


def parse_bibtex(text: str) -> list[Reference]:
    import bibtexparser

    try:
        library = bibtexparser.parse_string(text)
    except Exception as exc:  # noqa: BLE001 - the parser raises assorted errors on garbage; report, don't crash
        raise CheckInputError(f"could not read the BibTeX ({type(exc).__name__})") from None
    refs: list[Reference] = []
    for i, entry in enumerate(library.entries):
        f = {k.lower(): _unbrace(str(v.value)) for k, v in entry.fields_dict.items()}
        year_m = re.search(r"\d{4}", f.get("year", ""))
        authors = [_bib_author(a) for a in re.split(r"\s+and\s+", f.get("author", "")) if a.strip()]
        raw = "; ".join(x for x in (f.get("author", ""), f.get("title", ""), f.get("journal", ""),
                                    f.get("year", "")) if x)
        refs.append(Reference(key=entry.key or f"b{i}", raw=raw or entry.key, title=f.get("title", ""),
                              authors=authors, container=f.get("journal") or f.get("booktitle", ""),
                              year=int(year_m.group()) if year_m else None, volume=f.get("volume", ""),
                              pages=f.get("pages", "").replace("--", "-"), doi=_bib_doi(f),
                              pmid=f.get("pmid", "")))
    if not refs:
        raise CheckInputError("no BibTeX entries could be read")
    return refs


def parse_lines(text: str, *, numbered: bool = False) -> list[Reference]:
    """One reference per line. ``numbered``: strip leading "[12]" / "12." labels (manuscript text)."""
    from citelens.references.parser import parse_reference_strings

    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if numbered:
        lines = [re.sub(r"^\[?\d{1,4}[\].)]\s*", "", ln) for ln in lines]
        lines = [ln for ln in lines if len(ln) >= 20]
    too_long = [i + 1 for i, ln in enumerate(lines) if len(ln) > MAX_LINE_CHARS]
    if too_long:
        raise CheckInputError(f"reference {too_long[0]} is longer than {MAX_LINE_CHARS} characters;"
                              " put one reference per line")
    refs = parse_reference_strings(lines)
    for ref in refs:
        # The CRF may miss a DOI written as a URL; an explicit DOI in the string is the best identifier.
        if not ref.doi:
            m = re.search(r"10\.\d{4,9}/\S+", ref.raw)
            if m:
                ref.doi = normalise_doi(m.group().rstrip(".,;)")) or ""
    return refs




def _field(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip() if isinstance(value, str | int | float) else ""


def parse_ris(text: str) -> list[Reference]:
    """RIS (EndNote, Zotero, Mendeley, PubMed exports): ``TAG  - value`` lines, records ending at ``ER  -``.

    Written here because RIS is a dozen lines of tag parsing; no well-kept library does less work.
    """
    records: list[dict[str, list[str]]] = []
    cur: dict[str, list[str]] | None = None
    last = ""
    for line in text.splitlines():
        m = re.match(r"^([A-Z][A-Z0-9])  -\s?(.*)$", line)
        if m:
            tag, value = m.group(1), m.group(2).strip()
            if tag == "TY":
                cur = {}
                records.append(cur)
            elif tag == "ER":
                cur = None
                continue
            if cur is None:
                cur = {}
                records.append(cur)
            cur.setdefault(tag, []).append(value)
            last = tag
        elif cur is not None and line.strip() and last:
            cur[last][-1] += " " + line.strip()  # a wrapped value
    refs: list[Reference] = []
    for i, rec in enumerate(records):
        def first(*tags: str, rec: dict[str, list[str]] = rec) -> str:
            return next((rec[t][0] for t in tags if rec.get(t)), "")

        title = first("TI", "T1", "CT", "BT")
        authors = [_bib_author(a) for t in ("AU", "A1", "A2") for a in rec.get(t, []) if a.strip()]
        year_m = re.search(r"\d{4}", first("PY", "Y1", "DA"))
        container = first("JO", "JF", "T2", "JA", "J2")
        pages = "-".join(x for x in (first("SP"), first("EP")) if x)
        doi = normalise_doi(first("DO") or " ".join(rec.get("UR", [])))
        if not (title or authors or doi):
            continue
        raw = "; ".join(x for x in (", ".join(a.family for a in authors[:3]), title, container,
                                    year_m.group() if year_m else "") if x)
        refs.append(Reference(key=f"ris{i + 1}", raw=raw, title=title, authors=authors, container=container,
                              year=int(year_m.group()) if year_m else None, volume=first("VL"), issue=first("IS"),
                              pages=pages, doi=doi))
    if not refs:
        raise CheckInputError("no RIS records (TY  - … ER  -) could be read")
    return refs


def parse_csl_json(text: str) -> list[Reference]:
    """CSL JSON, the citation format Zotero and Mendeley export: a list of items (or one item)."""
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CheckInputError(f"not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise CheckInputError("JSON nested too deeply") from None
    except ValueError:  # json refuses an integer of more than 4,300 digits (not a JSONDecodeError)
        raise CheckInputError("JSON holds a number of more than 4,300 digits") from None
    if isinstance(items, dict):
        items = items.get("items", [items])
    if not isinstance(items, list):
        raise CheckInputError("CSL JSON must be a list of items")
    refs: list[Reference] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        authors = []
        listed = item.get("author")
        for a in listed if isinstance(listed, list) else [listed]:
            if isinstance(a, dict):
                family = _field(a.get("family")) or _field(a.get("literal"))
                if family:
                    authors.append(Author(family=family, given=_field(a.get("given"))))
        year = None
        for key in ("issued", "published-print", "published-online", "created"):
            parts = (item.get(key) or {}).get("date-parts") if isinstance(item.get(key), dict) else None
            if parts and isinstance(parts, list) and isinstance(parts[0], list) and parts[0]:
                year = _csl_year(parts[0][0])
                if year is not None:
                    break
        title = _field(item.get("title"))
        doi = normalise_doi(_field(item.get("DOI")) or _field(item.get("URL")))
        if not (title or authors or doi):
            continue
        container = _field(item.get("container-title"))
        raw = "; ".join(x for x in (", ".join(a.family for a in authors[:3]), title, container, str(year or ""))
                        if x)
        refs.append(Reference(key=_field(item.get("id")) or f"csl{i + 1}", raw=raw, title=title, authors=authors,
                              container=container, year=year, volume=_field(item.get("volume")),
                              issue=_field(item.get("issue")), pages=_field(item.get("page")), doi=doi,
                              pmid=_field(item.get("PMID"))))
    if not refs:
        raise CheckInputError("the CSL JSON has no items with a title, author or DOI")
    return refs


def _csl_year(value: Any) -> int | None:
    """A CSL date-part year: a number or ASCII digits from 1 to 9999 (a list, "²" or 23 digits is no year: they were a
    TypeError, a ValueError and an OverflowError in the index, each a traceback or a 500)."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) <= 4:
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 10_000:
        return value
    return None


def _pdf_references(data: bytes, filename: str) -> list[Reference]:
    from citelens.formats import parse_document

    doc = parse_document(data, filename or "upload.pdf")
    if not doc.references:
        raise CheckInputError("no reference list was found in the PDF")
    return doc.references


def _docx_text(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            info = z.getinfo("word/document.xml")
            if info.file_size > MAX_DOCX_XML_BYTES:
                raise CheckInputError(f"the document text unpacks to {info.file_size // 2**20} MiB; the limit is"
                                      f" {MAX_DOCX_XML_BYTES // 2**20} MiB")
            # The sizes a zip declares bound what is read: a member that inflates past its size is a CRC error.
            parts = z.infolist()
            xml = sum(i.file_size for i in parts if i.filename.lower().endswith((".xml", ".rels")))
            if xml > MAX_DOCX_XML_BYTES:
                raise CheckInputError(f"the Word file's XML parts unpack to {xml // 2**20} MiB; the limit is"
                                      f" {MAX_DOCX_XML_BYTES // 2**20} MiB")
            total = sum(i.file_size for i in parts)
            if total > MAX_DOCX_BYTES:
                raise CheckInputError(f"the Word file unpacks to {total // 2**20} MiB; the limit is"
                                      f" {MAX_DOCX_BYTES // 2**20} MiB")
            return "\n".join(_docx_paragraphs(z.open(info)))
    except (zipfile.BadZipFile, KeyError):
        raise CheckInputError("not a Word .docx file (no word/document.xml inside)") from None
    except (etree.XMLSyntaxError, zlib.error, EOFError, OSError) as exc:
        raise CheckInputError(f"the Word file could not be read ({type(exc).__name__})") from None


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
# What a run's children say (python-docx's Paragraph.text): text, and a tab, a line break or a hyphen for these.
_RUN_TEXT = {f"{_W}tab": "\t", f"{_W}ptab": "\t", f"{_W}br": "\n", f"{_W}cr": "\n", f"{_W}noBreakHyphen": "-"}


def _docx_paragraphs(stream: IO[bytes]) -> Iterator[str]:
    """The text of each paragraph of the document body, read as a stream (python-docx's ``document.paragraphs``).

    python-docx built the whole tree, and a Python object per paragraph: a 92 KB upload whose document.xml held
    47 MB of empty paragraphs took 48 s and 1.4 GB. Here each element is dropped once read (with its earlier
    siblings), so memory stays that of one path through the tree, and the parser keeps libxml2's depth and node
    limits and expands no entity."""
    body, para, run, link = f"{_W}body", f"{_W}p", f"{_W}r", f"{_W}hyperlink"
    current: list[str] = []
    for _event, el in etree.iterparse(stream, events=("end",), resolve_entities=False, load_dtd=False,
                                      no_network=True, huge_tree=False, remove_comments=True, remove_pis=True):
        tag = el.tag
        r = el.getparent()
        if r is not None and r.tag == run and (tag == f"{_W}t" or tag in _RUN_TEXT):
            p = r.getparent()
            if p is not None and p.tag == link:
                p = p.getparent()
            up = p.getparent() if p is not None and p.tag == para else None
            if up is not None and up.tag == body:
                current.append(el.text or "" if tag == f"{_W}t" else _RUN_TEXT[tag])
        elif tag == para and r is not None and r.tag == body:
            yield "".join(current)
            current = []
        el.clear()
        while el.getprevious() is not None:
            del el.getparent()[0]


# The heading of a manuscript's reference list, numbered or not ("7. References", "VI. REFERENCES") and in the
# forms journals use ("References and Notes" is Science's): a heading not recognised made the whole manuscript
# the reference list, so every paragraph of the text was checked and counted as a reference.
_REF_HEADING = re.compile(r"^\s*(?:(?:\d{1,2}|[ivxl]{1,5})[.)]?\s+)?(references(?:\s+(?:and|&)\s+notes|\s+cited)?"
                          r"|notes\s+(?:and|&)\s+references|bibliography|literature\s+cited|cited\s+literature"
                          r"|works\s+cited|reference\s+list)\s*:?\s*$", re.I)


def _reference_section(text: str) -> str:
    """The lines after the last "References" heading of a manuscript's text (all of it when there is none)."""
    lines = text.splitlines()
    starts = [i for i, ln in enumerate(lines) if _REF_HEADING.match(ln)]
    return "\n".join(lines[starts[-1] + 1:]) if starts else text


def parse_reference_list(data: bytes, filename: str = "") -> tuple[str, list[Reference]]:
    """(format, references) for an upload or pasted text.

    Raises :class:`CheckInputError` whose message names the file (``filename`` or "the pasted text").
    """
    name = filename or "the pasted text"
    try:
        return _parse(data, filename)
    except CheckInputError as exc:
        # decode_text already names the file (it also serves uploads that are not reference lists).
        message = str(exc)
        raise CheckInputError(message if message.startswith(f"{name}: ") else f"{name}: {message}") from None
    except CiteLensError as exc:
        # Parsers' own errors (malformed XML, entity expansion, broken PDF, …) name the problem.
        raise CheckInputError(f"{name}: {getattr(exc, 'problem', exc)}") from None


def _parse(data: bytes, filename: str) -> tuple[str, list[Reference]]:
    lower = filename.lower()
    if not data.strip():
        raise CheckInputError("the reference list is empty")
    if data.lstrip()[:5] == b"%PDF-" or lower.endswith(".pdf"):
        return "pdf", _pdf_references(data, filename)
    if data[:4] == b"PK\x03\x04" or lower.endswith(".docx"):
        return "docx", parse_lines(_reference_section(_docx_text(data)), numbered=True)
    text = decode_text(data, filename or "the pasted text")
    if not text.strip():
        raise CheckInputError("the reference list is empty")
    fmt = detect_format(text, filename)
    if fmt == "jats":
        from citelens.formats.jats import parse_jats_references

        # The XML parser reads the declared encoding itself; re-encode what we decoded as UTF-8 otherwise.
        xml = data if text.lstrip().startswith("<?xml") else text.encode("utf-8")
        refs = parse_jats_references(xml, filename or "upload.xml")
        if not refs:
            raise CheckInputError("the JATS file has no reference list (<ref-list>)")
        return fmt, refs
    if fmt == "bibtex":
        return fmt, parse_bibtex(text)
    if fmt == "ris":
        return fmt, parse_ris(text)
    if fmt == "csl-json":
        return fmt, parse_csl_json(text)
    return fmt, parse_lines(text)


def check_references(refs: list[Reference], store: Store) -> list[CheckedReference]:
    """Look each reference up (read-only) and attach tallies, notices and warnings."""
    from citelens.serialize import as_dict
    from citelens.stance import recommended_min_confidence

    threshold = recommended_min_confidence()
    out: list[CheckedReference] = []
    for i, ref in enumerate(refs, 1):
        rec = record_from_reference(ref)
        if not (rec.title or rec.doi or rec.pmid or rec.pmcid or rec.authors):
            rec.title = ref.raw[:300]
        c = CheckedReference(index=i, raw=ref.raw or ref.title, reference=ref)
        wid, c.method, c.score = find_matching_work(rec, store)
        if wid is not None:
            c.work = as_dict(store.get_work(wid))
            c.tallies = as_dict(store.tallies(wid))
            c.warnings = work_warnings(store, c.work, c.tallies, threshold)
        if title_warning := retracted_title_warning(ref.title, c.work):
            c.warnings.append(title_warning)
        out.append(c)
    return out


def retracted_title_warning(title: str | None, work: dict[str, Any] | None) -> str | None:
    """A warning where the reference's title (or its matched work's) carries the publisher's retraction mark
    ("Retracted: …") but the index holds no retraction notice for it — a reference copied from a retracted
    article's page, which a notice-only check passed in silence; None otherwise."""
    from citelens.rules import title_says_retracted

    if work and any(n["kind"] in ("retraction", "partial-retraction") for n in work.get("notices", [])):
        return None  # the notice says it (and whether a reinstatement lifted it)
    if title_says_retracted(title) or (work is not None and title_says_retracted(work.get("title"))):
        return "Its title says it was retracted; this index holds no retraction notice for it."
    return None


def work_warnings(store: Store, work: dict[str, Any], tallies: dict[str, int], threshold: float | None
                  ) -> list[str]:
    """:func:`warnings_for` a stored work, heavy contrast counted on the labels the installed model is sure of:
    ``threshold`` is ``recommended_min_confidence()`` (None: no model installed), read once by the caller for
    all its works — it looks for the model's files and runtime on every call (a collection of 200 works spent
    66 of its 104 ms there)."""
    from citelens.serialize import as_dict

    sure = as_dict(store.tallies(work["id"], min_confidence=threshold)) if threshold is not None else None
    return warnings_for(work, tallies, sure)


def warnings_for(work: dict[str, Any] | None, tallies: dict[str, int] | None,
                 sure_tallies: dict[str, int] | None = None) -> list[str]:
    """What a reader citing this work should know: retraction, expression of concern, heavy contrast (counted on
    ``sure_tallies``, the labels at the model's threshold, where given)."""
    out: list[str] = []
    notices = (work or {}).get("notices", [])
    if work and work.get("retracted"):
        out.append("This work has been retracted.")
    elif any(n["kind"] == "retraction" for n in notices) and any(n["kind"] == "reinstatement" for n in notices):
        # Not a warning to drop silently: the reader should know the retraction existed and was lifted.
        out.append("This work was retracted and later reinstated.")
    if any(n["kind"] == "partial-retraction" for n in notices):
        out.append("Part of this work has been retracted.")
    if work and any(n["kind"] == "expression-of-concern" for n in work.get("notices", [])):
        out.append("An expression of concern has been published about this work.")
    t = sure_tallies if sure_tallies is not None else (tallies or {})
    if t.get("contrasting", 0) >= HEAVY_CONTRAST_MIN and t["contrasting"] >= t.get("supporting", 0):
        which = " the model is sure of" if sure_tallies is not None else ""
        out.append(f"Heavily contrasted: {t['contrasting']} contrasting vs {t.get('supporting', 0)} supporting"
                   f" citation statements{which}.")
    return out


def result_row(c: CheckedReference) -> dict[str, Any]:
    from citelens.serialize import check_result_json

    return check_result_json(c)


def results_json(results: list[CheckedReference], fmt: str | None = None) -> str:
    """The ``CheckResults`` shape (``format`` when known, then ``references``)."""
    body: dict[str, Any] = {"format": fmt} if fmt else {}
    body["references"] = [result_row(c) for c in results]
    return json.dumps(body, ensure_ascii=False, indent=2)


def results_csv(results: list[CheckedReference]) -> str:
    import csv
    import io

    from citelens.serialize import CHECK_CSV_FIELDS
    from citelens.spreadsheet import safe_row

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CHECK_CSV_FIELDS, extrasaction="ignore")
    w.writeheader()
    for c in results:
        row = result_row(c)
        row["notices"] = "; ".join(row["notices"])
        row["warnings"] = "; ".join(row["warnings"])
        w.writerow(safe_row(row))
    return buf.getvalue()
