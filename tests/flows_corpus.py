"""A small hand-made corpus for knowledge-flow tests (public domain): three citing articles (JATS) and the
OpenAlex records of the works they cite (tests/fixtures/openalex-works.jsonl).

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
"""

from __future__ import annotations

from pathlib import Path

OPENALEX = Path(__file__).parent / "fixtures" / "openalex-works.jsonl"

OBSERVED = {
    "same_institution": {"supporting": 0, "contrasting": 0, "mentioning": 2},
    "same_city": {"supporting": 0, "contrasting": 0, "mentioning": 1},
    "same_region": {"supporting": 2, "contrasting": 0, "mentioning": 0},
    "same_country": {"supporting": 0, "contrasting": 0, "mentioning": 1},
    "international": {"supporting": 0, "contrasting": 2, "mentioning": 3},
}

_ARTICLE = """<?xml version="1.0" encoding="UTF-8"?>
<article article-type="research-article"><front>
<journal-meta><journal-title-group><journal-title>Journal of Flows</journal-title></journal-title-group></journal-meta>
<article-meta><article-id pub-id-type="doi">{doi}</article-id>
<title-group><article-title>{title}</article-title></title-group>
<contrib-group><contrib contrib-type="author"><name><surname>{family}</surname><given-names>{given}</given-names></name>
<xref ref-type="aff" rid="aff1"/></contrib></contrib-group>
<aff id="aff1">{aff}</aff>
<pub-date pub-type="epub"><year>2021</year></pub-date></article-meta></front>
<body>{body}</body>
<back><ref-list>{refs}</ref-list></back></article>"""


def _sec(kind: str, title: str, text: str) -> str:
    return f'<sec sec-type="{kind}"><title>{title}</title><p>{text}</p></sec>'


def _x(n: int) -> str:
    return f'[<xref ref-type="bibr" rid="r{n}">{n}</xref>]'


def _ref(n: int, doi: str, family: str, title: str) -> str:
    return (f'<ref id="r{n}"><label>{n}</label><element-citation publication-type="journal"><person-group '
            f'person-group-type="author"><name><surname>{family}</surname><given-names>A</given-names></name>'
            f'</person-group><article-title>{title}</article-title><source>Journal of Cited Things</source>'
            f'<year>2019</year><pub-id pub-id-type="doi">{doi}</pub-id></element-citation></ref>')


def _c(n: int) -> str:
    return f"10.5555/cited.c{n}"


def articles() -> dict[str, bytes]:
    a1 = _ARTICLE.format(
        doi="10.5555/flows.a1", title="Sentinel cells at Harvard", family="Smith", given="Anna",
        aff="Department of Physics, Harvard University, Cambridge, MA 02138, USA",
        body=_sec("intro", "Introduction", f"Sentinel cells were first described in colonies {_x(1)}. Growth arrest"
                  f" was reported in several strains {_x(2)}.")
        + _sec("results", "Results", f"Our results are consistent with earlier reports {_x(3)}. In contrast to the"
               f" Toronto group {_x(4)}, we did not observe any growth arrest.")
        + _sec("discussion", "Discussion", f"Further work on colonies is described elsewhere {_x(5)}. The same"
               f" question was studied in California {_x(6)}."),
        refs=_ref(1, _c(1), "Park", "Sentinel cells in colonies") + _ref(2, _c(2), "Ivanov", "Growth arrest in bacterial strains")
        + _ref(3, _c(3), "Walsh", "Earlier reports of colony sentinels") + _ref(4, _c(4), "Okafor", "Growth arrest measured in Toronto")
        + _ref(5, _c(5), "Known", "A work OpenAlex could not place") + _ref(6, _c(9), "Ito", "The same question in California"))
    a2 = _ARTICLE.format(
        doi="10.5555/flows.a2", title="Colonies in London", family="Jones", given="Ben",
        aff="University College London, London WC1E 6BT, United Kingdom",
        body=_sec("intro", "Introduction", f"Colony structure has been modelled before {_x(1)}. Physicists in"
                  f" Massachusetts described sentinel cells {_x(2)}.")
        + _sec("results", "Results", f"These findings are consistent with work from Oxford {_x(3)}. Unlike the"
               f" Toronto group {_x(4)}, we found no arrest.")
        + _sec("discussion", "Discussion", f"A related laboratory studied the same system {_x(5)}."),
        refs=_ref(1, _c(6), "Grant", "Colony structure modelled") + _ref(2, "10.5555/flows.a1", "Smith", "Sentinel cells at Harvard")
        + _ref(3, _c(7), "Hall", "Sentinels observed in Oxford") + _ref(4, _c(4), "Okafor", "Growth arrest measured in Toronto")
        + _ref(5, _c(8), "Author", "A related laboratory"))
    a3 = _ARTICLE.format(
        doi="10.5555/flows.a3", title="Arrest in Toronto revisited", family="Okafor", given="Ada",
        aff="Department of Physics, University of Toronto, Toronto, ON M5S 1A7, Canada",
        body=_sec("results", "Results", f"Our data confirm our earlier measurements {_x(1)}.")
        + _sec("discussion", "Discussion", f"Growth arrest was reported in several strains {_x(2)}."),
        refs=_ref(1, _c(4), "Okafor", "Growth arrest measured in Toronto") + _ref(2, _c(2), "Ivanov", "Growth arrest in bacterial strains"))
    return {"a1.xml": a1.encode(), "a2.xml": a2.encode(), "a3.xml": a3.encode()}


def write_corpus(folder: Path) -> list[Path]:
    """The articles and the OpenAlex file in ``folder``; the paths to ingest."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, data in articles().items():
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    (folder / "openalex-works.jsonl").write_bytes(OPENALEX.read_bytes())
    return [*paths, folder / "openalex-works.jsonl"]
