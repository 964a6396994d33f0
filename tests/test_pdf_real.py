"""Sane behaviour on real scholarly PDFs from ../shared/data/real-pdfs (not redistributed; skipped if absent).

Expected counts were made by hand from poppler's pdftotext output (see benchmarks/bench_pdf.py). The test
allows slack: it guards against regressions (lost reference lists, callouts to nowhere), not exact scores.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from citelens.formats.pdf import parse_pdf

REAL = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real-pdfs"

# file: (reference entries by hand, in-text callouts by hand)
HAND = {
    "0807.3577.pdf": (39, 45),
    "1001._0908.0054.pdf": (19, 12),
    "MullenJSSv18i03.pdf": (17, 20),
    "Wang-paperAVE2008.pdf": (12, 14),
    "compressed.tracemonkey-pldi-09.pdf": (19, 21),
    "gadr.pdf": (6, 9),
}


@pytest.mark.parametrize("name", sorted(HAND))
def test_real_pdf(name: str) -> None:
    path = REAL / name
    if not path.exists():
        pytest.skip(f"{path} not present (shared data is not part of the repository)")
    doc = parse_pdf(path.read_bytes(), name)
    n_refs, n_callouts = HAND[name]
    assert doc.title.strip()
    assert abs(len(doc.references) - n_refs) <= max(2, 0.1 * n_refs)
    keys = {r.key for r in doc.references}
    callouts = [c for p in doc.paragraphs for c in p.callouts]
    assert all(set(c.reference_keys) <= keys and c.reference_keys for c in callouts)
    assert 0.7 * n_callouts <= len(callouts) <= 1.3 * n_callouts + 2
    # Most entries are cited somewhere: linking works, not just detection.
    cited = {k for c in callouts for k in c.reference_keys}
    assert len(cited) >= 0.6 * len(doc.references)
    # Reference entries are references, not pages of body text swept in (JCAP's [6] lists 19 works: ~1,600 chars).
    assert all(len(r.raw) < 3000 for r in doc.references)
