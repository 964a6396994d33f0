"""The knowledge-flow corpus of docs/flows.md (docs/examples/flows, public domain): three citing articles
(JATS) and the OpenAlex records of the works they cite. The tests use tests/fixtures/openalex-works.jsonl,
the same records except that the French laboratory's name (C8) is markup, to check it stays text.

Ties, worked out by hand (default: self-citations excluded):
  A1 Harvard (Cambridge, Massachusetts, US) → C1 Harvard same_institution mentioning (introduction)
                                            → C2 MIT (Cambridge) same_city mentioning (introduction)
                                            → C3 Boston University same_region supporting (results)
                                            → C4 Toronto international contrasting (results)
                                            → C5 (no place)      not located (discussion)
                                            → C9 Stanford (California) same_country mentioning (discussion)
  A2 UCL (London, England, GB)              → C6 UCL same_institution mentioning (introduction)
                                            → A1 Harvard (its full text) international mentioning (introduction)
                                            → C7 Oxford (England) same_region supporting (results)
                                            → C4 Toronto international contrasting (results)
                                            → C8 a French lab with markup in its name, international mentioning
                                              (discussion)
  A3 Toronto (Ontario, CA)                  → C4 Toronto same_institution supporting (results) SELF-CITATION
                                            → C2 MIT international mentioning (discussion)
C10–C14 (Northeastern, King's College London, McGill, Tokyo, Harvard) are in the same journal and year as the
cited works and cited by no one: candidates for the matched controls, as most of a journal is.
"""

from __future__ import annotations

from pathlib import Path

OPENALEX = Path(__file__).parent / "fixtures" / "openalex-works.jsonl"
EXAMPLE = Path(__file__).resolve().parent.parent / "docs" / "examples" / "flows"

OBSERVED = {
    "same_institution": {"supporting": 0, "contrasting": 0, "mentioning": 2},
    "same_city": {"supporting": 0, "contrasting": 0, "mentioning": 1},
    "same_region": {"supporting": 2, "contrasting": 0, "mentioning": 0},
    "same_country": {"supporting": 0, "contrasting": 0, "mentioning": 1},
    "international": {"supporting": 0, "contrasting": 2, "mentioning": 3},
}

def write_corpus(folder: Path) -> list[Path]:
    """The articles and the OpenAlex file in ``folder``; the paths to ingest."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for article in sorted(EXAMPLE.glob("*.xml")):
        (folder / article.name).write_bytes(article.read_bytes())
        paths.append(folder / article.name)
    (folder / "openalex-works.jsonl").write_bytes(OPENALEX.read_bytes())
    return [*paths, folder / "openalex-works.jsonl"]
