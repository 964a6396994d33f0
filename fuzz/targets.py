"""Fuzz targets: each takes fuzzer bytes and must end in a result or a ``CiteLensError``, nothing else.

Any other exception (or a hang, or running out of memory) is a bug the fuzzer reports with the input that
caused it. The readers are imported here at the top, so that ``fuzz/run.py`` can instrument them. Used by ``fuzz/run.py`` (atheris, coverage-guided) and replayed by ``tests/test_fuzz.py``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from citelens.errors import CiteLensError
from citelens.formats import parse_document
from citelens.formats.jats import parse_jats
from citelens.formats.pdf import parse_pdf
from citelens.formats.tei import parse_tei
from citelens.pipeline import Pipeline
from citelens.references.parser import parse_reference_string
from citelens.store import open_store

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


def jats(data: bytes) -> None:
    parse_jats(data, "fuzz.xml")


def tei(data: bytes) -> None:
    parse_tei(data, "fuzz.tei.xml")


def pdf(data: bytes) -> None:
    # Small limits keep each run short; the limits themselves are part of what is tested.
    parse_pdf(data, "fuzz.pdf", max_pages=20, max_chars=500_000)


def reference(data: bytes) -> None:
    parse_reference_string(data[:4000].decode("utf-8", errors="replace"))


def any_format(data: bytes) -> None:
    """Format sniffing and dispatch, as ingest runs it on an unknown file."""
    parse_document(data, "fuzz.bin")


_PIPELINE: Pipeline | None = None


def ingest(data: bytes) -> None:
    """Parse, link, classify, resolve and store, as ``citelens ingest`` does one file: what a parser lets through
    must not break the later stages or the store (a 23-digit year once overflowed SQLite's integers)."""
    global _PIPELINE
    if _PIPELINE is None:  # one in-memory index for the whole run: later inputs resolve against earlier ones
        _PIPELINE = Pipeline(open_store(":memory:"), "cues")
    _PIPELINE.store_document(_PIPELINE.process(data, "fuzz.bin"))


TARGETS: dict[str, Callable[[bytes], None]] = {
    "jats": jats, "tei": tei, "pdf": pdf, "reference": reference, "any": any_format, "ingest": ingest,
}


def seeds(name: str) -> list[bytes]:
    """Starting inputs: the fixtures of that format (the fuzzer mutates from real structure)."""
    if name in ("jats", "any", "ingest"):
        paths = [FIXTURES / "mini-jats.xml", FIXTURES / "xss-article.xml", FIXTURES / "xss-retraction.xml"]
    elif name == "tei":
        paths = [FIXTURES / "grobid_sample.tei.xml"]
    elif name == "pdf":
        paths = sorted((FIXTURES / "pdf").glob("*.pdf"))
    else:
        return [b"Barnes T, Smith J (2001) Sentinel behaviour in bacterial colonies. Microbiology 147: 1-10."
                b" doi:10.1099/00221287-147-1-1",
                b"Felsenstein J (2004) PHYLIP version 3.6 [computer program]. Available: http://x.org.",
                b"[12] A. Author and B. Writer, \"A title,\" in Proc. IEEE, vol. 3, no. 2, pp. 5-9, 2019."]
    return [p.read_bytes() for p in paths if p.is_file()]


def run_one(name: str, data: bytes) -> None:
    """One input through one target; a ``CiteLensError`` is a correct answer to bad input."""
    with contextlib.suppress(CiteLensError):
        TARGETS[name](data)
