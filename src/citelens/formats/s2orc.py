"""S2ORC / s2orc-doc2json JSON → :class:`Document`.

The format of the S2ORC corpus and of allenai/s2orc-doc2json's converters (PDF via GROBID, LaTeX, JATS).
Three envelopes carry the same parse:

* doc2json's ``Paper.as_json()``: ``{"paper_id", "pdf_hash", "metadata": {"title", "authors", "year", …},
  "abstract": [para], "body_text": [para], "back_matter": [para], "bib_entries": {…}, "ref_entries": {…}}``;
* the release form (``release_json()`` / S2ORC corpus): ``{"paper_id", "title", "authors", "year", "abstract":
  str, "pdf_parse": {"abstract", "body_text", "back_matter", "bib_entries", "ref_entries"}, "latex_parse": …}``;
* a bare S2ORC ``pdf_parses`` record (``{"paper_id", "_pdf_hash", "abstract", "body_text", …}``).

A paragraph is ``{"text", "cite_spans": [{"start", "end", "text", "ref_id"}], "ref_spans", "eq_spans",
"section", "sec_num"}``; ``ref_id`` names a key of ``bib_entries`` (``"BIBREF3"``) or is null when the
converter could not link the callout (skipped and counted in ``doc.warnings``). A bibliography entry is
``{"ref_id", "title", "authors": [{"first", "middle", "last", "suffix"}], "year", "venue", "volume", "issue",
"pages", "other_ids": {"DOI": […], …}, "raw_text", …}``.

Untrusted input: every field is type-checked; spans outside their paragraph are dropped with a warning.
"""

from __future__ import annotations

import json
import re
from typing import Any

from citelens.document import Author, Callout, Document, Paragraph, Reference
from citelens.errors import HostileInputError, MalformedInputError, UnsupportedFormatError
from citelens.formats.citation_text import reference_text
from citelens.formats.limits import check_reference_count
from citelens.formats.sections import normalise_section
from citelens.references.identifiers import normalise_doi, normalise_pmcid, normalise_pmid

__all__ = ["is_s2orc", "parse_s2orc"]

_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
_BIBREF = re.compile(r"^BIBREF(\d{1,9})$")  # (longer: no number int() takes)
_RANGE_SEP = re.compile(r"^\s*[-–—]\s*$")
MAX_JSON_BYTES = 50 * 1024 * 1024


def is_s2orc(obj: object) -> bool:
    """Does this decoded JSON look like an S2ORC paper (any of the three envelopes)?"""
    if not isinstance(obj, dict):
        return False
    return (isinstance(obj.get("pdf_parse"), dict) or isinstance(obj.get("latex_parse"), dict)
            or ("body_text" in obj and "bib_entries" in obj))


def _str(v: object) -> str:
    if isinstance(v, str):
        return re.sub(r"\s+", " ", v).strip()
    if isinstance(v, int | float) and not isinstance(v, bool):
        return str(v)
    return ""


def _list(v: object) -> list[Any]:
    return v if isinstance(v, list) else []


def _dict(v: object) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _year(v: object) -> int | None:
    m = _YEAR.search(_str(v))
    return int(m.group(1)) if m else None


def _author(a: object) -> Author | None:
    a = _dict(a)
    family = _str(a.get("last"))
    given = " ".join(x for x in [_str(a.get("first")), *(_str(m) for m in _list(a.get("middle")))] if x)
    if not family and not given:
        return None
    return Author(family=family or given, given=given if family else "")


def _ids(other_ids: object) -> dict[str, str]:
    """{"doi": …, "pmid": …, "pmcid": …} from S2ORC's ``other_ids`` (keys in any case, values str or list)."""
    out: dict[str, str] = {}
    for key, val in _dict(other_ids).items():
        vals = [_str(x) for x in (val if isinstance(val, list) else [val])]
        first = next((x for x in vals if x), "")
        k = str(key).lower()
        if first and k in ("doi", "pmid", "pmcid") and k not in out:
            out[k] = first
    return out


def _reference(key: str, bib: dict[str, Any]) -> Reference:
    ids = _ids(bib.get("other_ids"))
    ref = Reference(key=key)
    ref.authors = [a for a in (_author(x) for x in _list(bib.get("authors"))) if a]
    ref.title = _str(bib.get("title"))
    ref.container = _str(bib.get("venue"))
    ref.year = _year(bib.get("year"))
    ref.volume = _str(bib.get("volume"))
    ref.issue = _str(bib.get("issue") or bib.get("issn"))  # doc2json's older output wrote the issue as "issn"
    ref.pages = _str(bib.get("pages")).replace("--", "-")
    ref.doi = normalise_doi(ids.get("doi", ""))
    ref.pmid = normalise_pmid(ids.get("pmid", ""))
    ref.pmcid = normalise_pmcid(ids.get("pmcid", ""))
    num = bib.get("num")
    ref.label = str(num + 1) if isinstance(num, int) and not isinstance(num, bool) else ""
    ref.raw = _str(bib.get("raw_text")) or reference_text(ref)  # rebuilt from the fields when it has none
    return ref


class _Paragraphs:
    def __init__(self, doc: Document, keys: set[str]) -> None:
        self.doc = doc
        self.keys = keys
        self.unlinked = 0
        self.bad_spans = 0

    def add(self, para: object, *, kind: str = "body", default_section: str = "") -> None:
        para = _dict(para)
        text = para.get("text")
        if not isinstance(text, str) or not text.strip():
            return
        title = _str(para.get("section")) or default_section
        # doc2json joins nested section titles with "::"; the innermost names the paragraph's section,
        # the outermost decides the normalised one when the innermost is a plain sub-heading.
        parts = [p for p in title.split("::") if p.strip()]
        section = "other"
        for p in reversed(parts):
            section = normalise_section(p)
            if section != "other":
                break
        spans = []
        for s in _list(para.get("cite_spans")):
            s = _dict(s)
            start, end = s.get("start"), s.get("end")
            if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
                self.bad_spans += 1
                continue
            ref_id = s.get("ref_id")
            if not isinstance(ref_id, str) or ref_id not in self.keys:
                self.unlinked += 1
                continue
            spans.append((start, end, ref_id))
        spans.sort()
        callouts: list[Callout] = []
        for start, end, ref_id in spans:
            prev = callouts[-1] if callouts else None
            if prev is not None and start < prev.end:
                continue  # overlapping spans: keep the first
            if prev is not None and _RANGE_SEP.match(text[prev.end : start]):
                extra = self._between(prev.reference_keys[-1], ref_id)
                if extra is not None:
                    # "[3]–[6]": one callout naming 3…6, the interior ones inferred.
                    prev.reference_keys = prev.reference_keys + extra + [ref_id]
                    prev.inferred_keys = prev.inferred_keys + extra
                    prev.end = end
                    prev.text = text[prev.start : end]
                    continue
            callouts.append(Callout(start=start, end=end, reference_keys=[ref_id], text=text[start:end]))
        self.doc.paragraphs.append(Paragraph(text=text, section=section, section_title=parts[-1] if parts else "",
                                             kind=kind, callouts=callouts))

    def _between(self, a: str, b: str) -> list[str] | None:
        ma, mb = _BIBREF.match(a), _BIBREF.match(b)
        if not (ma and mb):
            return None
        lo, hi = int(ma.group(1)), int(mb.group(1))
        if not 1 < hi - lo <= 50:
            return None
        keys = [f"BIBREF{i}" for i in range(lo + 1, hi)]
        return keys if all(k in self.keys for k in keys) else None


def parse_s2orc(data: bytes, source: str) -> Document:
    """Parse one S2ORC / doc2json paper. Raises :class:`~citelens.errors.InputError` naming ``source``."""
    if len(data) > MAX_JSON_BYTES:
        raise HostileInputError(source, f"JSON is {len(data):,} bytes; the limit is {MAX_JSON_BYTES:,}")
    try:
        obj = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise MalformedInputError(source, f"JSON is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise MalformedInputError(source, f"not well-formed JSON ({exc.msg}, line {exc.lineno})") from None
    except RecursionError:
        raise HostileInputError(source, "JSON nested too deeply") from None
    except ValueError:  # json refuses an integer of more than 4,300 digits (not a JSONDecodeError)
        raise HostileInputError(source, "JSON holds a number of more than 4,300 digits") from None
    if not is_s2orc(obj):
        raise UnsupportedFormatError(source, "JSON is not an S2ORC / doc2json paper (no body_text/bib_entries "
                                             "or pdf_parse)")
    meta = _dict(obj.get("metadata"))
    parse = _dict(obj.get("pdf_parse")) or _dict(obj.get("latex_parse")) or obj
    doc = Document(source=source, format="s2orc")
    doc.title = _str(meta.get("title") or obj.get("title"))
    authors = _list(meta.get("authors")) or _list(obj.get("authors"))
    doc.authors = [a for a in (_author(x) for x in authors) if a]
    doc.year = _year(meta.get("year") or obj.get("year"))
    doc.journal = _str(meta.get("venue") or obj.get("venue") or obj.get("journal"))
    ids = _ids(meta.get("identifiers")) | _ids(obj.get("other_ids")) | _ids(obj.get("external_ids"))
    doc.doi = normalise_doi(_str(obj.get("doi")) or ids.get("doi", ""))
    doc.pmid = normalise_pmid(_str(obj.get("pubmed_id")) or ids.get("pmid", ""))
    doc.pmcid = normalise_pmcid(_str(obj.get("pmc_id")) or ids.get("pmcid", ""))

    bibs = _dict(parse.get("bib_entries"))
    check_reference_count(source, len(bibs))
    doc.references = [_reference(str(k), _dict(v)) for k, v in bibs.items()]
    walker = _Paragraphs(doc, {r.key for r in doc.references})
    abstract = parse.get("abstract")
    if isinstance(abstract, list):
        doc.abstract = " ".join(_str(_dict(p).get("text")) for p in abstract).strip()
    else:
        doc.abstract = _str(abstract) or _str(obj.get("abstract"))
    for para in _list(parse.get("body_text")):
        walker.add(para)
    for para in _list(parse.get("back_matter")):
        walker.add(para, default_section="Back matter")
    for entry in _dict(parse.get("ref_entries")).values():
        entry = _dict(entry)
        if _str(entry.get("type") or entry.get("type_str")) in ("figure", "table"):
            walker.add({"text": entry.get("text"), "section": ""}, kind="caption")
    if walker.unlinked:
        doc.warnings.append(f"{walker.unlinked} callout(s) not linked to a bibliography entry were skipped")
    if walker.bad_spans:
        doc.warnings.append(f"{walker.bad_spans} citation span(s) outside their paragraph were skipped")
    if not doc.paragraphs and not doc.references:
        raise MalformedInputError(source, "S2ORC paper has no body text and no bibliography")
    return doc
