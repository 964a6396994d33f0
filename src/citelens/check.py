"""Reference check: read a manuscript's reference list (JATS, BibTeX or plain lines) and look each entry up.

Resolution is read-only: :func:`citelens.references.resolve.find_matching_work` only queries the index,
so checking a manuscript never adds works to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from citelens.document import Author, Reference
from citelens.errors import CiteLensError
from citelens.references.identifiers import normalise_doi
from citelens.references.resolve import find_matching_work, record_from_reference
from citelens.store.base import Store

# A work is "heavily contrasted" when at least this many statements contrast it and they are at least
# as many as the supporting ones; a single dissenting citation is normal scholarly debate.
HEAVY_CONTRAST_MIN = 2
MAX_LINE_CHARS = 2000


class CheckInputError(ValueError):
    """The uploaded or pasted reference list cannot be read; the message is shown to the user."""


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


def detect_format(text: str, filename: str = "") -> str:
    """'jats' | 'bibtex' | 'lines' from the file name or, failing that, the content."""
    name = filename.lower()
    if name.endswith((".xml", ".nxml")):
        return "jats"
    if name.endswith(".bib"):
        return "bibtex"
    head = text.lstrip()[:200]
    if head.startswith("<"):
        return "jats"
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


def parse_bibtex(text: str) -> list[Reference]:
    import bibtexparser

    try:
        library = bibtexparser.parse_string(text)
    except Exception as exc:  # noqa: BLE001 - the parser raises assorted errors on garbage; report, don't crash
        raise CheckInputError(f"could not read the BibTeX file ({type(exc).__name__})") from None
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
                              pages=f.get("pages", "").replace("--", "-"), doi=normalise_doi(f.get("doi", "")) or "",
                              pmid=f.get("pmid", "")))
    if not refs and library.failed_blocks:
        raise CheckInputError("no BibTeX entries could be read from this file")
    return refs


def parse_lines(text: str) -> list[Reference]:
    from citelens.references.parser import parse_reference_strings

    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
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


def parse_reference_list(data: bytes, filename: str = "") -> tuple[str, list[Reference]]:
    """(format, references) for an upload or pasted text. Raises CheckInputError with a readable message."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CheckInputError("the file is not UTF-8 text") from None
    if not text.strip():
        raise CheckInputError("the reference list is empty")
    fmt = detect_format(text, filename)
    if fmt == "jats":
        from citelens.formats.jats import parse_jats_references

        try:
            refs = parse_jats_references(data, "upload.xml")
        except CiteLensError as exc:
            # Messages from the safe XML reader name the problem (malformed, entity expansion, …).
            raise CheckInputError(f"could not read the JATS file: {getattr(exc, 'problem', exc)}") from None
        if not refs:
            raise CheckInputError("the JATS file has no reference list (<ref-list>)")
    elif fmt == "bibtex":
        refs = parse_bibtex(text)
    else:
        refs = parse_lines(text)
    return fmt, refs


def check_references(refs: list[Reference], store: Store) -> list[CheckedReference]:
    out: list[CheckedReference] = []
    for i, ref in enumerate(refs, 1):
        rec = record_from_reference(ref)
        if not (rec.title or rec.doi or rec.pmid or rec.pmcid or rec.authors):
            rec.title = ref.raw[:300]
        c = CheckedReference(index=i, raw=ref.raw or ref.title, reference=ref)
        wid, c.method, c.score = find_matching_work(rec, store)
        if wid is not None:
            c.work = store.get_work(wid)
            c.tallies = store.tallies(wid)
            if c.work and c.work["retracted"]:
                c.warnings.append("This work has been retracted.")
            if c.work and any(n["kind"] == "expression-of-concern" for n in c.work["notices"]):
                c.warnings.append("An expression of concern has been published about this work.")
            t = c.tallies
            if t["contrasting"] >= HEAVY_CONTRAST_MIN and t["contrasting"] >= t["supporting"]:
                c.warnings.append(f"Heavily contrasted: {t['contrasting']} contrasting vs"
                                  f" {t['supporting']} supporting citation statements.")
        out.append(c)
    return out


def result_row(c: CheckedReference) -> dict[str, Any]:
    from citelens.serialize import check_result_json

    return check_result_json(c)


def results_json(results: list[CheckedReference]) -> str:
    import json

    return json.dumps({"references": [result_row(c) for c in results]}, ensure_ascii=False, indent=2)


def results_csv(results: list[CheckedReference]) -> str:
    import csv
    import io

    from citelens.serialize import CHECK_CSV_FIELDS

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CHECK_CSV_FIELDS, extrasaction="ignore")
    w.writeheader()
    for c in results:
        row = result_row(c)
        row["notices"] = "; ".join(row["notices"])
        row["warnings"] = "; ".join(row["warnings"])
        w.writerow(row)
    return buf.getvalue()
