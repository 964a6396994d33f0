"""Parse stage: bytes of one input file → :class:`~citelens.document.Document`.

``parse_document(data, source)`` detects the format from the content (not only the file name) and
dispatches to one parser per format. Every parser raises :class:`~citelens.errors.InputError`
subclasses that name the file and the problem.
"""

from __future__ import annotations

import re

from citelens.document import Document
from citelens.errors import MalformedInputError, UnsupportedFormatError

ARTICLE_SUFFIXES = (".xml", ".nxml", ".pdf", ".json")
# .csv: the Retraction Watch database (told by its header, formats.retraction_watch), read as metadata is: first.
METADATA_SUFFIXES = (".jsonl", ".ndjson", ".csv")

_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s>/]")


def is_metadata_source(source: str) -> bool:
    """Whether ``source`` names a metadata file (JSON lines of work records, a notices CSV) rather than an article."""
    return source.lower().endswith(METADATA_SUFFIXES)


def detect_format(data: bytes, source: str) -> str:
    """'jats' | 'tei' | 'pdf' | 's2orc' | 'json' | 'metadata' | 'unknown'."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"%PDF") or source.lower().endswith(".pdf"):
        return "pdf"
    if is_metadata_source(source):
        return "metadata"
    if head.startswith(b"{"):
        # S2ORC / doc2json: a JSON object with body_text + bib_entries, or a pdf_parse/latex_parse envelope.
        window = data[:2_000_000]
        if b'"pdf_parse"' in window or b'"latex_parse"' in window or (b'"body_text"' in window and b'"bib_entries"' in data):
            return "s2orc"
        return "json"
    if head.startswith(b"<") or head.startswith(b"\xff\xfe") or head.startswith(b"\xfe\xff"):
        # Skip the prolog, comments and doctype to find the root element's name.
        body = re.sub(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>\[]*(\[.*?\])?\s*>", b"", data[:200_000], flags=re.S)
        m = _ROOT.search(body)
        if m:
            root = m.group(1).lower()
            if root == b"tei" or root == b"teicorpus":
                return "tei"
            if root == b"article":
                return "jats"
            return "xml:" + root.decode("ascii", "replace")
        return "jats" if source.lower().endswith((".xml", ".nxml")) else "unknown"
    return "unknown"


def parse_document(data: bytes, source: str) -> Document:
    """Parse one article in any supported format."""
    if not data.strip():
        raise MalformedInputError(source, "empty file")
    fmt = detect_format(data, source)
    if fmt == "jats":
        from citelens.formats.jats import parse_jats

        return parse_jats(data, source)
    if fmt == "tei":
        from citelens.formats.tei import parse_tei

        return parse_tei(data, source)
    if fmt == "pdf":
        from citelens.formats.pdf import parse_pdf

        return parse_pdf(data, source)
    if fmt == "s2orc":
        from citelens.formats.s2orc import parse_s2orc

        return parse_s2orc(data, source)
    if fmt == "json":
        raise UnsupportedFormatError(source, "JSON but not an S2ORC / doc2json paper (no body_text and bib_entries)")
    if fmt.startswith("xml:"):
        raise UnsupportedFormatError(source, f"XML root <{fmt[4:]}> is neither JATS <article> nor TEI")
    if source.lower().endswith((".xml", ".nxml")):
        raise UnsupportedFormatError(source, "file has an XML name but its content is not XML")
    raise UnsupportedFormatError(source, "not a supported article format (JATS/NLM XML, TEI XML, S2ORC JSON, PDF)")


__all__ = ["parse_document", "detect_format", "is_metadata_source", "ARTICLE_SUFFIXES", "METADATA_SUFFIXES"]
