"""The pages for a screen-reader, keyboard-only or phone user: stance colours readable against their backgrounds,
a focus ring seen on white as on the dark header, charts whose text alternative says the numbers by type, link
names that make sense out of their card, a collection's sort order where a screen reader reads it, and a
statement page and a reference list that do not scroll sideways at 360 px (Chromium)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from citelens.pipeline import ingest_paths
from citelens.store import open_store
from citelens.web.app import create_app
from citelens.web.settings import Settings
from live_server import live_server

FIXTURES = Path(__file__).resolve().parent / "fixtures"
STYLE = Path(__file__).resolve().parents[1] / "src" / "citelens" / "web" / "static" / "style.css"
CITED = "10.9999/cited.2001.1"
LONG_TITLE_DOI = "10.9999/a11y.2019.7"
# A citing paper whose title has long words, and a printed reference with a long DOI and URL: on a 360 px phone
# the statement page's facts and the References tab scrolled sideways (seen on the demo's 10.1038/s41467-019-10000-x).
LONG_ARTICLE = f"""<?xml version="1.0" encoding="UTF-8"?>
<article xmlns:xlink="http://www.w3.org/1999/xlink" article-type="research-article">
  <front><journal-meta><journal-title-group><journal-title>Scientific Reports</journal-title></journal-title-group></journal-meta>
    <article-meta><article-id pub-id-type="doi">{LONG_TITLE_DOI}</article-id>
      <title-group><article-title>Quantitation of the neural silencing activity of anion channelrhodopsins in Caenorhabditis elegans</article-title></title-group>
      <pub-date pub-type="epub"><year>2019</year></pub-date></article-meta></front>
  <body><sec sec-type="intro"><title>Introduction</title>
    <p>Light-gated chloride channels silence neurons [<xref ref-type="bibr" rid="r1">1</xref>]. Dim-light pigments evolved early [<xref ref-type="bibr" rid="r2">2</xref>].</p></sec></body>
  <back><ref-list>
    <ref id="r1"><label>1</label><mixed-citation publication-type="journal">Barnes T (2001) Sentinel behaviour in bacterial colonies. Microbiology 147: 1–9. doi:10.9999/cited.2001.1</mixed-citation></ref>
    <ref id="r2"><label>2</label><mixed-citation publication-type="journal">Yokoyama S (2008) Evolution of dim-light and color vision pigments. Annu. Rev. Genom. Hum. Genet. 9: 259–282. doi:10.1146/annurev.genom.9.081307.164228 https://www.annualreviews.org/doi/abs/10.1146/annurev.genom.9.081307.164228</mixed-citation></ref>
  </ref-list></back>
</article>
"""


@pytest.fixture(scope="module")
def index_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """(the index, a collection's id)."""
    tmp = tmp_path_factory.mktemp("a11y")
    (tmp / "long-words.xml").write_text(LONG_ARTICLE, encoding="utf-8")
    db = tmp / "index.db"
    store = open_store(db)
    ingest_paths([FIXTURES / "xss-article.xml", FIXTURES / "mini-jats.xml", tmp / "long-words.xml"], store,
                 classifier="cues")
    c = store.create_collection("Reading list", "alice", [(CITED, None, ""), (LONG_TITLE_DOI, None, "")])
    store.close()
    return db, c.id


@pytest.fixture(scope="module")
def client(index_db: tuple[Path, int]) -> Iterator[TestClient]:
    with TestClient(create_app(index_db[0], Settings(secret_key="k"))) as c:
        yield c


# --- colours, from the stylesheet ---------------------------------------------------------------------------

def _luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _css() -> tuple[dict[str, str], dict[str, str]]:
    """(the :root variables, each rule's body by selector), from style.css."""
    css = re.sub(r"/\*.*?\*/", "", STYLE.read_text(encoding="utf-8"), flags=re.S)
    root = re.search(r":root\s*\{(.*?)\}", css, re.S)
    assert root
    variables = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{3,6})", root.group(1)))
    rules: dict[str, str] = {}
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        for sel in selectors.split(","):
            rules[sel.strip()] = rules.get(sel.strip(), "") + ";" + body
    return variables, rules


def _colour(rules: dict[str, str], variables: dict[str, str], selector: str, prop: str) -> str:
    m = re.search(rf"(?:^|;)\s*{prop}:\s*([^;!]+)", rules[selector])
    assert m, (selector, prop)
    value = m.group(1).strip()
    var = re.fullmatch(r"var\(--([\w-]+)\)", value)
    return variables[var.group(1)] if var else value


@pytest.mark.parametrize("selector,background", [
    (".t-supporting", None), (".t-contrasting", None), (".t-mentioning", None),  # tally pills: text on tint
    (".c-supporting", "#ffffff"), (".c-contrasting", "#ffffff"), (".c-mentioning", "#ffffff"),  # table heads
    (".type-supporting", None), (".type-contrasting", None), (".type-mentioning", None), (".type", None),  # badges
])
def test_stance_text_reads_against_its_background(selector: str, background: str | None) -> None:
    """WCAG AA for normal text (4.5:1), computed from style.css so a palette edit cannot quietly break it; the
    "unclassified" badge (.type: white on grey) was 3.0:1."""
    variables, rules = _css()
    base = rules.get(".type", "") if selector.startswith(".type-") else ""
    fg = _colour({selector: base + rules[selector]}, variables, selector, "color")
    bg = background or _colour(rules, variables, selector, "background")
    assert contrast(fg, bg) >= 4.5, (selector, fg, bg, round(contrast(fg, bg), 2))


def test_focus_ring_is_seen_on_white_and_on_the_header() -> None:
    """The yellow outline alone was 1.9:1 on the white page (WCAG asks 3:1 of a focus indicator): a dark inner
    ring now goes with it; the yellow keeps it visible on the dark header."""
    _, rules = _css()
    ring = rules[":focus-visible"]
    colours = re.findall(r"#[0-9a-fA-F]{6}", ring)
    header_bg = re.search(r"background:\s*(#[0-9a-fA-F]{6})", rules["header.site"])
    assert header_bg
    for page_bg in ("#ffffff", "#f6f8fa", header_bg.group(1)):
        assert max(contrast(c, page_bg) for c in colours) >= 3, (page_bg, colours)


# --- what a screen reader is told ------------------------------------------------------------------------------

def test_year_chart_text_alternative_gives_the_counts_by_type(client: TestClient) -> None:
    html = client.get(f"/reports/{CITED}").text
    desc = re.search(r'<desc id="chart-desc">(.*?)</desc>', html, re.S)
    assert desc, "the report has a chart"
    years = client.get(f"/api/tallies/{CITED}").json()
    entries = [e.strip() for e in desc.group(1).split(";")]
    assert entries
    for entry in entries:
        m = re.fullmatch(r"(\d{4}): (\d+) \((.+)\)", entry)
        assert m, entry
        parts = dict((stance, int(n)) for n, stance in (p.split(" ") for p in m.group(3).split(", ")))
        assert set(parts) <= {"supporting", "contrasting", "mentioning", "unclassified"}
        assert sum(parts.values()) == int(m.group(2)), entry
    said = {s: 0 for s in ("supporting", "contrasting", "mentioning")}
    for entry in entries:
        for n, stance in re.findall(r"(\d+) (supporting|contrasting|mentioning)", entry.split("(", 1)[1]):
            said[stance] += int(n)
    # every statement is in the chart (the fixture's citing papers all have a year), under its type
    api_names = {"supporting": "supporting", "contrasting": "contradicting", "mentioning": "mentioning"}
    assert said == {s: years[api_names[s]] for s in said} and sum(said.values()) > 0, (said, years)


def test_details_links_name_the_statement(client: TestClient) -> None:
    """Twenty links all called "Statement details" (report) or "details" (search) meant nothing in a screen
    reader's list of links: each now carries, unseen, the citing paper it leads to."""
    html = client.get(f"/reports/{CITED}").text
    names = re.findall(r'class="stmt-link">(.*?)</a>', html, re.S)
    assert len(names) > 1
    assert all(n.startswith("Statement details<span class=\"vh\">: ") for n in names), names
    texts = [re.sub(r"<[^>]+>", "", n) for n in names]
    assert len(set(texts)) > 1, texts  # not one name for every card
    search = client.get("/search", params={"q": "sentinel"}).text
    details = re.findall(r'class="stmt-link">(.*?)</a>', search, re.S)
    assert details and all(d.startswith('details<span class="vh">: “') and " citing “" in d for d in details), details


def test_collection_says_its_sort_order_on_the_column_header(client: TestClient, index_db: tuple[Path, int]) -> None:
    html = client.get(f"/collections/{index_db[1]}", params={"sort": "year", "order": "desc"}).text
    heads = re.findall(r"<th scope=\"col\"[^>]*>.*?</th>", html, re.S)
    sorted_heads = [h for h in heads if "aria-sort" in h]
    # the attribute on the header cell, whatever else it carries (class="num" right-aligns a count's column)
    assert len(sorted_heads) == 1 and re.match(r'<th scope="col" aria-sort="descending"[ >]', sorted_heads[0]), heads
    # the arrow is joined to its word (&nbsp;): in a narrow column "#" and "▲" had wrapped onto two lines
    assert ">Year&nbsp;<span aria-hidden=\"true\">▼</span></a>" in sorted_heads[0]
    assert not re.search(r"<a [^>]*aria-sort", html)  # not on the link, where it is ignored


# --- a phone and a keyboard (Chromium) ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(index_db: tuple[Path, int]) -> Iterator[str]:
    with live_server(create_app(index_db[0], Settings(secret_key="k")), range(18720, 18740)) as url:
        yield url


@pytest.mark.browser
def test_statement_page_and_references_fit_a_360_px_phone(served: str, client: TestClient,
                                                           new_page: Callable[..., Any]) -> None:
    statements = re.findall(r'href="(/statements/\d+)" class="stmt-link"', client.get(f"/reports/{CITED}").text)
    assert statements
    page = new_page(viewport={"width": 360, "height": 800})
    for path in [*statements, f"/reports/{LONG_TITLE_DOI}?tab=references"]:
        page.goto(served + path)
        width = page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")
        assert width[0] <= width[1], (path, width)
    # the statement's facts stack on a phone: each value starts below its term, at the left edge
    page.goto(served + statements[0])
    term, value = page.evaluate("""() => { const dt = document.querySelector('dl.facts dt');
        const dd = dt.nextElementSibling; return [dt.getBoundingClientRect(), dd.getBoundingClientRect()]
        .map(r => [r.left, r.top]); }""")
    assert value[0] == term[0] and value[1] > term[1], (term, value)


@pytest.mark.browser
def test_tables_read_text_left_counts_right_and_a_report_fits_a_390_px_phone(served: str, index_db: tuple[Path, int],
                                                                             new_page: Callable[..., Any]) -> None:
    """Every table cell was right-aligned (a collection's and a journal's titles too), and on a 390 px phone a
    report's counts by section hid their Mentioning and Total columns (often the only non-zero ones) off screen."""
    page = new_page(viewport={"width": 1024, "height": 800})
    page.goto(served + f"/collections/{index_db[1]}")
    aligns = page.evaluate("""() => [...document.querySelectorAll('table.collection tbody tr:first-child td')]
        .map(td => getComputedStyle(td).textAlign)""")
    assert aligns[1] in ("left", "start") and aligns[3] == "right" and aligns[0] == "right", aligns
    page = new_page(viewport={"width": 390, "height": 800})
    page.goto(served + f"/reports/{CITED}")
    box = page.evaluate("""() => { const d = document.querySelector('table.sections').parentElement;
        return [d.scrollWidth, d.clientWidth]; }""")
    assert box[0] <= box[1], box


@pytest.mark.browser
def test_keyboard_skip_link_then_a_visible_focus_ring(served: str, new_page: Callable[..., Any]) -> None:
    page = new_page(viewport={"width": 1024, "height": 800})
    page.goto(served + f"/reports/{CITED}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    focused = page.evaluate("""() => { const e = document.activeElement, cs = getComputedStyle(e);
        return [!!e.closest('main'), cs.outlineStyle, cs.outlineWidth, cs.boxShadow]; }""")
    assert focused[0], "after the skip link the next stop is in the page's main content"
    assert focused[1] == "solid" and focused[2] == "3px" and "rgb(31, 35, 40)" in focused[3], focused
