"""Web pages (TestClient): escaping, filters, search, reference check, badge, corrections, security headers."""

from __future__ import annotations

import itertools
import json
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from citelens.pipeline import ingest_paths
from citelens.store import open_store
from citelens.web.app import create_app
from citelens.web.settings import Settings

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CITED = "10.9999/cited.2001.1"
XSS_DOI = "10.9999/xss.2024.1"


def build_index(path: Path | str) -> Path | str:
    store = open_store(path)
    summary = ingest_paths([FIXTURES / "xss-article.xml", FIXTURES / "xss-retraction.xml",
                            FIXTURES / "mini-jats.xml"], store, classifier="cues")
    store.close()
    assert summary.stored == 3, summary.failed
    return path


@pytest.fixture(scope="module")
def index_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("web") / "index.db")


def settings(**kw: object) -> Settings:
    return Settings(api_token="api-secret", curators={"alice": "alice-token"}, secret_key="test-key", **kw)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def client(request: pytest.FixtureRequest, index_db: Path) -> TestClient:
    """The pages over each backend: the shared SQLite index, or the same corpus in a PostgreSQL schema."""
    db: Path | str = index_db
    if request.param == "postgres":
        db = build_index(request.getfixturevalue("pg_url"))
    with TestClient(create_app(db, settings())) as c:
        yield c


@pytest.fixture(params=BACKENDS)
def rw_client(request: pytest.FixtureRequest, index_db: Path, tmp_path: Path) -> TestClient:
    """A client on a private copy of the index, for tests that write (corrections)."""
    db: Path | str = tmp_path / "rw.db"
    if request.param == "postgres":
        db = build_index(request.getfixturevalue("pg_url"))
    else:
        shutil.copy(index_db, db)
    with TestClient(create_app(db, settings())) as c:
        c.db_path = db  # type: ignore[attr-defined]
        yield c


def csrf(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "form has no CSRF token"
    return m.group(1)


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.I)


# ------------------------------------------------------------------------------------------- escaping

@pytest.mark.parametrize("url", [f"/reports/{XSS_DOI}", f"/reports/{CITED}", "/search?q=sentinel",
                                 "/search?q=evil&kind=papers", "/statements/1"])
def test_article_strings_are_escaped(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 200
    html = r.text
    assert "<script>window.__xss" not in html
    assert "<img src=x onerror" not in html
    assert "<svg onload" not in html
    assert "<b>Hostile" not in html
    assert not INLINE_SCRIPT.search(html), "pages must not contain inline scripts (CSP forbids them)"


def test_escaped_text_is_still_shown(client: TestClient) -> None:
    html = client.get(f"/reports/{XSS_DOI}").text
    assert "Evil &lt;script&gt;window.__xss=1&lt;/script&gt; title" in html
    assert "Mallory&lt;script&gt;" in html


def test_security_headers(client: TestClient) -> None:
    r = client.get(f"/reports/{CITED}")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    cookie = r.headers.get("set-cookie", "")
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()


def test_no_third_party_assets(client: TestClient) -> None:
    for url in ("/", f"/reports/{CITED}", "/docs", "/badge?doi=" + CITED, "/check"):
        html = client.get(url).text
        for m in re.finditer(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', html):
            assert m.group(1).startswith(("/", "data:")), f"{url} loads {m.group(1)}"


# --------------------------------------------------------------------------------------------- report

def test_report_page_contents(client: TestClient) -> None:
    html = client.get(f"/reports/{CITED}").text
    assert 'class="notice notice-retraction"' in html and "Retracted" in html
    assert "Retraction: Sentinel behaviour in bacterial colonies" in html
    assert re.search(r'<span class="n">1</span> supporting', html)
    assert re.search(r'<span class="n">1</span> contrasting', html)
    assert re.search(r'<span class="n">3</span> mentioning', html)
    assert "<svg viewBox" in html and 'class="bar-supporting"' in html  # the per-year chart
    assert html.count('class="card stmt') == 5
    assert '<mark class="callout">' in html
    assert "In contrast to" in html  # the model's evidence


def test_report_by_work_id_and_unknown(client: TestClient) -> None:
    wid = client.get(f"/api/papers/{CITED}").status_code
    assert wid == 200
    r = client.get("/reports/10.1234/not-here")
    assert r.status_code == 404 and "not in this index" in r.text
    assert client.get("/reports/W999999").status_code == 404


def test_report_filters(client: TestClient) -> None:
    html = client.get(f"/reports/{CITED}?type=contrasting").text
    assert html.count('class="card stmt') == 1 and "stmt-contrasting" in html
    html = client.get(f"/reports/{CITED}?section=methods").text
    assert html.count('class="card stmt') == 1 and "as described previously" in html
    assert client.get(f"/reports/{CITED}?year_from=2022").text.count('class="card stmt') == 0
    assert client.get(f"/reports/{CITED}?year_from=2021&year_to=2021&sort=newest").text.count('class="card stmt') == 5
    # The citing paper shares no author with Barnes, so excluding self-citations keeps everything.
    assert client.get(f"/reports/{CITED}?exclude_self=1").text.count('class="card stmt') == 5


@pytest.mark.parametrize("path", [f"/reports/{CITED}", "/search?q=sentinel", f"/api/citations/{CITED}",
                                  "/api/search?q=sentinel", "/statements/1"])
def test_boolean_parameters_are_read_as_the_api_reads_them(client: TestClient, path: str) -> None:
    """A true/false query parameter is read by one rule on pages and the API: the spellings FastAPI takes for a
    bool, and anything else is refused naming the parameter (pages took exclude_self=maybe as false and showed
    every statement as if it were off, while /api/citations answered 422)."""
    name = "saved" if path.startswith("/statements/") else "exclude_self"
    sep = "&" if "?" in path else "?"
    bad = client.get(f"{path}{sep}{name}=maybe")
    assert bad.status_code in ((422,) if path.startswith("/api/") else (400,)), (path, bad.status_code)
    assert name in bad.text, path
    for yes in ("1", "true", "on", "YES", "t"):
        assert client.get(f"{path}{sep}{name}={yes}").status_code == 200, (path, yes)
    if not path.startswith("/api/"):  # blank: the default on a page (the API's typed parameters refuse it)
        assert client.get(f"{path}{sep}{name}=").status_code == 200, path
    if name == "exclude_self":
        page = client.get(f"{path}{sep}exclude_self=true").text
        assert 'name="exclude_self" type="checkbox" value="1" checked' in page or path.startswith("/api/")
    else:
        assert "Correction saved" in client.get("/statements/1?saved=true").text
        assert "Correction saved" not in client.get("/statements/1?saved=0").text


def test_report_only_labels_the_model_is_sure_of(client: TestClient) -> None:
    """The filter form offers the model's threshold; with it on, tallies, chart and list count alike, and a
    label below it is marked on its card."""
    html = client.get(f"/reports/{CITED}").text
    box = re.search(r'<input id="f-conf" name="min_confidence" type="checkbox" value="auto" *>', html)
    assert box and "Only labels the model is sure of" in html and "unsure:" not in html
    # Beside the supporting and contrasting tallies: how many of them the model is sure of, linked to them.
    sure = client.get(f"/api/tallies/{CITED}", params={"min_confidence": "auto"}).json()
    for stance, n in (("supporting", sure["supporting"]), ("contrasting", sure["contradicting"])):
        assert f'href="?type={stance}&amp;min_confidence=auto"' in html and f'>{n} sure<span class="vh"> {stance}: list them</span></a>' in html
    html = client.get(f"/reports/{CITED}?min_confidence=1").text
    assert 'value="1" checked' in html
    assert re.search(r'<span class="n">0</span> supporting', html)
    assert re.search(r'<span class="n">5</span> mentioning', html)
    assert html.count('class="card stmt') == 5 and html.count("unsure: counted as mentioning") == 2
    assert 'class="bar-supporting"' not in html  # the chart counts by the same rule
    html = client.get(f"/reports/{CITED}?type=contrasting&min_confidence=1").text
    assert html.count('class="card stmt') == 0 and "No citation statements match these filters." in html
    html = client.get("/search?q=contrast&min_confidence=1").text
    assert 'value="1" checked' in html and "unsure: counted as mentioning" in html
    assert client.get(f"/reports/{CITED}?min_confidence=2").status_code == 400


def test_report_references_tab_counts_at_the_threshold(client: TestClient) -> None:
    """"Only labels the model is sure of" applies to the whole report page: on the References tab each cited
    work's tallies count at the threshold too, and its link carries it (they counted every label)."""
    def cards(query: dict[str, str]) -> list[tuple[str, list[str]]]:
        """(report link, [supporting, contrasting, mentioning]) of each resolved reference of mini-jats.xml."""
        html = client.get("/reports/10.9999/JTB.2020.001", params={"tab": "references", **query}).text
        out = [(m.group(1), re.findall(r'<span class="n">(\d+)</span> (?:supporting|contrasting|mentioning)', m.group(2)))
               for m in re.finditer(r'<p class="match"><a href="([^"]+)">(.*?)</ul>', html, re.S)]
        assert out
        return out

    changed = 0
    for link, counts in cards({"min_confidence": "1"}):
        assert link.endswith("?min_confidence=1"), link
        ident = link.removeprefix("/reports/").removesuffix("?min_confidence=1")
        t = client.get(f"/api/tallies/{ident}", params={"min_confidence": "1"}).json()
        assert counts == [str(t["supporting"]), str(t["contradicting"]), str(t["mentioning"])], ident
        every = client.get(f"/api/tallies/{ident}").json()
        changed += (t["supporting"], t["contradicting"]) != (every["supporting"], every["contradicting"])
    assert changed  # the fixture has a cited work whose counts the threshold changes
    assert all("min_confidence" not in link for link, _ in cards({}))
    # The tabs keep it too.
    html = client.get(f"/reports/{CITED}", params={"min_confidence": "1"}).text
    assert f'href="/reports/{CITED}?min_confidence=1&amp;tab=references"' in html
    html = client.get(f"/reports/{CITED}", params={"min_confidence": "1", "tab": "references"}).text
    assert f'href="/reports/{CITED}?min_confidence=1"  id="tab-citations"' in html
    assert f'href="/reports/{CITED}?tab=references"' in client.get(f"/reports/{CITED}").text


def test_choices_are_read_in_any_case(client: TestClient) -> None:
    """tab= and kind= are read as type=, section= and sort= are: any case, edge spaces ignored (they were 400)."""
    refs = client.get(f"/reports/{CITED}", params={"tab": "References"})
    assert refs.status_code == 200 and 'aria-current="page" id="tab-references"' in refs.text
    papers = client.get("/search", params={"q": "sentinel", "kind": " Papers"})
    assert papers.status_code == 200 and 'class="card paper"' in papers.text
    for path, name, bad in ((f"/reports/{CITED}", "tab", {"tab": "refs"}),
                            ("/search", "kind", {"q": "x", "kind": "books"})):
        r = client.get(path, params=bad)
        assert r.status_code == 400 and f"{name} must be one of" in r.text


@pytest.mark.parametrize("query", ["type=bogus", "section=abstract", "year_from=abc", "year_from=2020&year_to=2010",
                                   "sort=random", "page=0", "page=999999", "min_confidence=high"])
def test_report_bad_parameters_are_400(client: TestClient, query: str) -> None:
    r = client.get(f"/reports/{CITED}?{query}")
    assert r.status_code == 400
    assert "Bad request" in r.text


def test_pagination(index_db: Path) -> None:
    with TestClient(create_app(index_db, settings(page_size=2))) as c:
        html = c.get(f"/reports/{CITED}").text
        assert html.count('class="card stmt') == 2 and "Page 1 of 3" in html and 'rel="next"' in html
        html = c.get(f"/reports/{CITED}?page=3").text
        assert html.count('class="card stmt') == 1 and 'rel="prev"' in html


def test_one_citing_publication_is_singular(client: TestClient) -> None:
    """The tallies said "1 citing publications" (report, paper search, home page)."""
    html = client.get(f"/reports/{CITED}").text
    assert '<span class="n">1</span> citing publication</li>' in html
    assert "1</span> citing publications" not in html


def test_a_page_past_the_last_says_so(index_db: Path) -> None:
    """A page number past the last (an old bookmark, a hand-edited URL) says which page is the last and links
    to it, as the author page does; the report page said the work had no citation statements yet."""
    with TestClient(create_app(index_db, settings(page_size=2))) as c:
        html = c.get(f"/reports/{CITED}", params={"page": 7, "sort": "newest"}).text
        assert "no citation statements for this work yet" not in html
        assert "No citation statements on page 7: there are 3 pages" in html
        assert 'href="/reports/10.9999/cited.2001.1?sort=newest&amp;page=3">last page</a>' in html
        assert 'rel="prev" href="/reports/10.9999/cited.2001.1?sort=newest&amp;page=3"' in html  # not page 6
        assert "Page 7 of 3" not in html  # the pager said so beside "there are 3 pages"
        total = int(re.search(r'id="result-count">(\d+)', c.get("/search?q=sentinel").text).group(1))  # type: ignore[union-attr]
        pages = -(-total // 2)
        html = c.get("/search", params={"q": "sentinel", "page": pages + 5}).text
        assert f"No citation statements on page {pages + 5}: there " in html
        assert f'href="/search?q=sentinel&amp;page={pages}">' in html
        # Filters that match nothing still say so, on page 1 or any other.
        html = c.get(f"/reports/{CITED}", params={"page": 2, "year_from": 2030}).text
        assert "No citation statements match these filters." in html


# --------------------------------------------------------------------------------------------- search

def test_search_statements_highlights(client: TestClient) -> None:
    html = client.get("/search?q=sentinel").text
    assert "<mark>" in html
    assert re.search(r'id="result-count">[1-9]', html)
    html = client.get("/search?q=sentinel&type=supporting").text
    assert "stmt-supporting" in html and "stmt-mentioning" not in html


def test_a_query_over_the_limit_is_searched_by_its_start_and_says_so(client: TestClient) -> None:
    """The page cut a query at 500 characters without a word (the API refuses it with a 400)."""
    html = client.get("/search", params={"q": "sentinel " + "x" * 600}).text
    assert 'id="q-cut"' in html and re.search(r'id="result-count">0', html)
    html = client.get("/search", params={"q": "sentinel"}).text
    assert 'id="q-cut"' not in html


def test_search_links_carry_the_threshold(client: TestClient) -> None:
    """With "only labels the model is sure of", a search result's links to the cited and citing works' reports
    carry it, so the report counts the way the result did (as the author, institution and journal pages' do)."""
    html = client.get("/search", params={"q": "sentinel", "min_confidence": "auto"}).text
    reports = re.findall(r'href="(/reports/[^"]+)"', html)
    assert reports and all(h.endswith("?min_confidence=auto") for h in reports)
    assert all("min_confidence" not in h for h in re.findall(r'href="(/reports/[^"]+)"',
                                                             client.get("/search?q=sentinel").text))


def test_report_statement_cards_carry_the_threshold(client: TestClient) -> None:
    """A statement card's link to the citing paper's report carries the page's min_confidence as given, as the
    page's other links do (it dropped it: the citing paper's report then counted every label)."""
    for given in ("auto", "0.9"):
        html = client.get(f"/reports/{CITED}", params={"min_confidence": given}).text
        links = re.findall(r'<a href="([^"]+)" class="citing-link"', html)
        assert links and all(h.endswith(f"?min_confidence={given}") for h in links), (given, links)
    links = re.findall(r'<a href="([^"]+)" class="citing-link"', client.get(f"/reports/{CITED}").text)
    assert links and all("min_confidence" not in h for h in links)


def test_search_papers_count_at_the_threshold(client: TestClient) -> None:
    """With "only labels the model is sure of", each paper's tallies count as its report page does (they counted
    every label whatever the box said); the box is on the papers form, and the paper's link carries it on."""
    def found(**extra: str) -> tuple[str, list[str]]:
        html = client.get("/search", params={"q": CITED, "kind": "papers", **extra}).text
        pills = re.findall(r'<li class="t-(?:supporting|contrasting|mentioning)"><span class="n">(\d+)', html)
        return html, pills

    every = client.get(f"/api/tallies/{CITED}").json()
    sure = client.get(f"/api/tallies/{CITED}", params={"min_confidence": "1"}).json()
    assert every["supporting"] > sure["supporting"] == 0  # the fixture has labels below 1
    html, pills = found()
    assert pills == [str(every["supporting"]), str(every["contradicting"]), str(every["mentioning"])]
    assert '<input id="f-conf" name="min_confidence" type="checkbox" value="auto" >' in html
    html, pills = found(min_confidence="1")
    assert pills == [str(sure["supporting"]), str(sure["contradicting"]), str(sure["mentioning"])]
    assert '<input id="f-conf" name="min_confidence" type="checkbox" value="1" checked>' in html
    assert f'href="/reports/{CITED}?min_confidence=1"' in html


def test_search_fts_syntax_is_safe(client: TestClient) -> None:
    for q in ['"unbalanced', "NEAR(", "a OR", "*", "-x", ")))", "<script>"]:
        r = client.get("/search", params={"q": q})
        assert r.status_code == 200, q


def test_search_says_its_syntax_and_what_to_try_when_nothing_matches(client: TestClient) -> None:
    """The page said only "0 citation statements found": nothing about the syntax (a leading - leaves words out)
    or whether the filters were the cause."""
    html = client.get("/search", params={"q": "zzzunknownword"}).text
    assert 'id="q-syntax"' in html and "<code>-word</code> to leave statements out" in html
    assert "check the spelling" in html and "without them" not in html
    html = client.get("/search", params={"q": "zzzunknownword", "type": "contrasting"}).text
    assert "No citation statement matches with these filters: try without them" in html
    html = client.get("/search", params={"q": "sentinel"}).text
    assert 'id="no-results"' not in html
    assert 'id="q-syntax"' not in client.get("/search", params={"q": "x", "kind": "papers"}).text


def test_paper_search_says_what_to_try_when_nothing_matches(client: TestClient) -> None:
    """An empty paper search said only "0 papers found", with no way on (the statement search had a hint)."""
    html = client.get("/search", params={"q": "zzzunknownword", "kind": "papers"}).text
    assert 'id="no-results"' in html and "No paper’s title, first author or DOI matches" in html
    assert '<a href="/search?q=zzzunknownword">search the citation statements</a>' in html
    assert 'id="no-results"' not in client.get("/search", params={"q": "sentinel behaviour", "kind": "papers"}).text


def test_report_of_a_work_nothing_cites_shows_no_empty_table_or_filters(client: TestClient) -> None:
    """A work no statement cites showed five sections of zeros and a filter form over no statements."""
    assert client.get(f"/api/tallies/{XSS_DOI}").json()["total"] == 0
    html = client.get(f"/reports/{XSS_DOI}").text
    assert 'class="sections"' not in html and 'aria-label="Filter citation statements"' not in html
    assert "The index has no citation statements for this work yet." in html
    cited = client.get(f"/reports/{CITED}").text
    assert 'class="sections"' in cited and 'aria-label="Filter citation statements"' in cited


def test_search_papers(client: TestClient) -> None:
    html = client.get("/search", params={"q": "sentinel behaviour", "kind": "papers"}).text
    assert "Sentinel behaviour" in html and "Retracted" in html
    html = client.get("/search", params={"q": CITED, "kind": "papers"}).text
    assert f"/reports/{CITED}" in html
    html = client.get("/search", params={"q": "okafor", "kind": "papers"}).text
    assert "Sentinel cells in" in html


def test_search_papers_says_when_there_are_more_than_it_shows(client: TestClient,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Paper search shows at most PAPERS_SHOWN papers; it said "50 papers found" however many more matched."""
    from citelens.web import pages

    every = client.get("/api/works", params={"q": "sentinel", "limit": 50}).json()["works"]
    assert len(every) >= 2
    monkeypatch.setattr(pages, "PAPERS_SHOWN", len(every) - 1)
    html = client.get("/search", params={"q": "sentinel", "kind": "papers"}).text
    assert html.count('class="card paper"') == len(every) - 1
    assert re.search(rf'The first <span class="count" id="result-count">{len(every) - 1}</span> papers found; more'
                     r" match", html)
    monkeypatch.setattr(pages, "PAPERS_SHOWN", len(every))
    html = client.get("/search", params={"q": "sentinel", "kind": "papers"}).text
    assert f'<span class="count" id="result-count">{len(every)}</span> papers found</h2>' in html
    one = client.get("/search", params={"q": CITED, "kind": "papers"}).text
    assert '<span class="count" id="result-count">1</span> paper found</h2>' in one
    assert "1 reference read (lines)" in post_check(client, text="Barnes T (2001) Sentinel behaviour.").text


# ------------------------------------------------------------------------------------ reference check

def post_check(c: TestClient, *, text: str = "", file: tuple[str, bytes] | None = None, token: str | None = None):
    tok = token if token is not None else csrf(c.get("/check").text)
    files = {"file": (file[0], file[1], "application/octet-stream")} if file else None
    return c.post("/check", data={"csrf_token": tok, "text": text}, files=files)


def test_check_bibtex_warns_on_retracted(client: TestClient) -> None:
    bib = (b"@article{barnes, author={Barnes, T.}, title={Sentinel behaviour in bacterial colonies},"
           b" journal={Microbiology}, year={2001}, doi={10.9999/cited.2001.1}}\n"
           b"@article{nobody, author={Nobody, N.}, title={An unindexed work on nothing}, year={1999}}\n")
    r = post_check(client, file=("refs.bib", bib))
    assert r.status_code == 200
    assert "2 references read (bibtex)" in r.text
    assert "This work has been retracted." in r.text
    assert "Not found in this index." in r.text


def test_check_pasted_lines_and_jats(client: TestClient) -> None:
    r = post_check(client, text="Smith J, Jones K (2005) Growth arrest in E. coli. J Bacteriol 187: 55-60.\n"
                                "Barnes T. Sentinel behaviour. Microbiology. 2001. doi:10.9999/cited.2001.1\n"
                                "Okafor A (2015) Counting sentinel cells. J Test Biol 7: 3.\n")
    assert r.status_code == 200 and "3 references read (lines)" in r.text
    assert "matched by title, first author and year" in r.text  # the first and third have no DOI: matched on title, first author and year
    assert "This work has been retracted." in r.text  # the DOI written in the string is used
    r = post_check(client, file=("paper.xml", (FIXTURES / "mini-jats.xml").read_bytes()))
    assert r.status_code == 200 and "6 references read (jats)" in r.text


def test_check_limits_and_errors(index_db: Path) -> None:
    with TestClient(create_app(index_db, settings(max_upload_bytes=2048, max_check_references=2))) as c:
        r = post_check(c, text="x" * 4000)
        assert r.status_code == 413 and "too large" in r.text
        r = post_check(c, text="A (2001) One.\nB (2002) Two.\nC (2003) Three.\n")
        assert r.status_code == 413 and "at most 2" in r.text
        r = post_check(c, file=("bad.xml", b"<article><ref-list><ref>"))
        assert r.status_code == 400 and "bad.xml: not well-formed XML" in r.text
        r = post_check(c, file=("x.xml", b'<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>'))
        assert r.status_code == 400 and "root:" not in r.text
        r = post_check(c, text="")
        assert r.status_code == 400 and "Choose a file" in r.text
        r = post_check(c, file=("bin.bib", b"\xff\xfe\x00garbage"))
        assert r.status_code == 400 and "bin.bib: " in r.text


def test_check_form_names_every_format_it_reads(client: TestClient) -> None:
    """The form's label lists Word .docx, which the check reads (python-docx is a dependency) and its file picker
    offers; the label left it out (it waited for a template variable nothing set)."""
    html = client.get("/check").text
    label = re.search(r'<label for="file">(.*?)</label>', html, re.S)
    assert label and "Word .docx" in label.group(1) and "PDF" in label.group(1)
    assert 'accept=".pdf,.docx,' in html


def test_check_unknown_export_format_is_400(client: TestClient) -> None:
    """An export format the check does not write is a 400 naming the choices, as every choice parameter is (it
    showed the normal page, as if no export had been asked for)."""
    r = client.get("/check", params={"export": "xml"})
    assert r.status_code == 400 and "export must be one of csv, json" in r.text
    assert client.get("/check", params={"export": "CSV"}).status_code == 200
    tok = csrf(client.get("/check").text)
    line = "Barnes T (2001) Sentinel behaviour."
    r = client.post("/check", data={"csrf_token": tok, "text": line, "export": "xml"})
    assert r.status_code == 400 and "export must be one of csv, json" in r.text
    r = client.post("/check", data={"csrf_token": tok, "text": line}, files={"export": ("csv", b"csv")})
    assert r.status_code == 400 and "export must be one of csv, json" in r.text  # a file under that name
    r = client.post("/check?export=xml", data={"csrf_token": tok, "text": line})
    assert r.status_code == 400 and "export must be one of csv, json" in r.text
    r = client.post("/check?export=json", data={"csrf_token": tok, "text": line})  # the address asks for it too
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert json.loads(r.text)["references"][0]["raw"] == line


def test_check_requires_csrf(client: TestClient) -> None:
    client.get("/check")
    r = post_check(client, text="Barnes T (2001) Sentinel behaviour.", token="forged")
    assert r.status_code == 400 and "form expired" in r.text


# ------------------------------------------------------------------------------------------ corrections

def sign_in(c: TestClient, name: str = "alice", token: str = "alice-token") -> int:
    tok = csrf(c.get("/login").text)
    return c.post("/login", data={"csrf_token": tok, "name": name, "token": token, "next": "/"},
                  follow_redirects=False).status_code


def test_heading_levels_do_not_skip(client: TestClient) -> None:
    """Screen-reader users move by headings: a level is never skipped (the statement page went h1 to h3)."""
    sid = re.search(r'href="/statements/(\d+)"', client.get(f"/reports/{CITED}").text)
    assert sid
    for path in ("/", f"/reports/{CITED}", f"/statements/{sid.group(1)}", "/search?q=sentinel", "/check"):
        levels = [int(n) for n in re.findall(r"<h([1-6])[\s>]", client.get(path).text)]
        assert levels[0] == 1 and all(b <= a + 1 for a, b in itertools.pairwise(levels)), (path, levels)


def test_correction_flow(rw_client: TestClient) -> None:
    c = rw_client
    store = open_store(c.db_path)  # type: ignore[attr-defined]
    work = store.get_work(CITED)
    assert work is not None
    _, rows = store.citations(work.id, section="methods")
    store.close()
    sid = rows[0].id
    assert rows[0].type == "mentioning"
    assert "Correct the type" not in c.get(f"/statements/{sid}").text
    assert "Statement details &amp; correction" not in c.get(f"/reports/{CITED}").text
    assert sign_in(c, token="wrong") == 401
    assert sign_in(c, name="mallory", token="alice-token") == 401
    assert sign_in(c) == 303
    page = c.get(f"/statements/{sid}").text
    assert "Correct the type" in page
    # A signed-in curator's report cards say where to correct (the card's macro never saw who was signed in).
    assert f'href="/statements/{sid}" class="stmt-link">Statement details &amp; correction' in c.get(
        f"/reports/{CITED}").text
    r = c.post(f"/statements/{sid}/correct", data={"csrf_token": "nope", "type": "supporting"})
    assert r.status_code == 400
    r = c.post(f"/statements/{sid}/correct", data={"csrf_token": csrf(page), "type": "supporting",
                                                    "note": "uses their method"}, follow_redirects=False)
    assert r.status_code == 303
    assert "Correction saved" in c.get(r.headers["location"]).text
    t = c.get(f"/api/tallies/{CITED}").json()
    assert t["supporting"] == 2 and t["mentioning"] == 2  # the correction overrides the model
    corr = list(open_store(c.db_path).iter_corrections())  # type: ignore[attr-defined]
    assert corr[-1].curator == "alice" and corr[-1].stance == "supporting" and corr[-1].created_at


def test_correction_needs_sign_in(rw_client: TestClient) -> None:
    tok = csrf(rw_client.get("/check").text)
    r = rw_client.post("/statements/1/correct", data={"csrf_token": tok, "type": "supporting"})
    assert r.status_code == 403


def test_guessing_curator_tokens_is_slowed_per_address(index_db: Path, tmp_path: Path) -> None:
    # Curator tokens are chosen by people; with no limit a script tried 50 tokens in 0.05 s. (Its own copy of the
    # index: the count is kept per index, and the other tests sign in on the module's.)
    db = tmp_path / "index.db"
    shutil.copy(index_db, db)
    with TestClient(create_app(db, settings())) as c:
        assert [sign_in(c, token=f"guess{i}") for i in range(10)] == [401] * 10
        tok = csrf(c.get("/login").text)
        r = c.post("/login", data={"csrf_token": tok, "name": "alice", "token": "alice-token", "next": "/"})
        assert r.status_code == 429 and 0 < int(r.headers["Retry-After"]) <= 900  # the right token waits too
        assert "Too many failed sign-ins from this address; try again in 15 minutes." in r.text


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_sign_in_limit_is_shared_by_every_process_serving_the_index(
        request: pytest.FixtureRequest, index_db: Path, tmp_path: Path, backend: str) -> None:
    """`serve --workers N` ran N processes, each with its own count: N times 10 guesses in 15 minutes. Two app
    instances over one index (as two workers are) now share it, over a read-only SQLite file and PostgreSQL too,
    and a right token signs in again only when the address's failures are forgotten everywhere."""
    if backend == "postgres":
        db: Path | str = build_index(request.getfixturevalue("pg_url"))
    else:
        db = tmp_path / "ro" / "index.db"
        db.parent.mkdir()
        shutil.copy(index_db, db)
        db.chmod(0o444)
        db.parent.chmod(0o555)  # a read-only index in a read-only folder: nothing is written beside it
    try:
        with TestClient(create_app(db, settings())) as one, TestClient(create_app(db, settings())) as two:
            assert [sign_in(one if i % 2 else two, token=f"guess{i}") for i in range(10)] == [401] * 10
            for c in (one, two):
                assert sign_in(c, token="guess-more") == 429 and sign_in(c) == 429  # the right token waits too
            with TestClient(create_app(db, settings())) as three:  # a worker started later knows it too
                assert sign_in(three) == 429
        if backend == "sqlite":
            assert [p.name for p in Path(db).parent.iterdir()] == ["index.db"]  # (root could have written there)
    finally:
        if backend == "sqlite":
            Path(db).parent.chmod(0o755)


def test_a_right_sign_in_clears_the_address_for_every_process(index_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "index.db"
    shutil.copy(index_db, db)
    with TestClient(create_app(db, settings())) as one, TestClient(create_app(db, settings())) as two:
        assert [sign_in(one, token=f"guess{i}") for i in range(9)] == [401] * 9
        assert sign_in(two) == 303  # signed in: the 9 failures are forgotten, on the other process too
        assert [sign_in(one, token=f"again{i}") for i in range(10)] == [401] * 10
        assert sign_in(two, token="again") == 429


def test_the_sign_in_limit_is_kept_in_the_state_dir_when_one_is_given(index_db: Path, tmp_path: Path) -> None:
    """CITELENS_STATE_DIR: the count's file goes there (a service's state folder, kept across restarts); a folder
    that cannot be used stops the server with the setting's name rather than silently counting per process."""
    state = tmp_path / "state"
    env = {"CITELENS_STATE_DIR": str(state), "CITELENS_CURATORS": "alice=alice-token", "CITELENS_SECRET_KEY": "k"}
    s = Settings.from_env(env)
    assert s.state_dir == str(state) and state.is_dir()
    db = tmp_path / "index.db"
    shutil.copy(index_db, db)
    with TestClient(create_app(db, s)) as c:
        assert [sign_in(c, token=f"guess{i}") for i in range(10)] == [401] * 10
    assert (state / "sign-in-failures.sqlite3").is_file()
    with TestClient(create_app(db, Settings.from_env(env))) as c:  # a restart keeps it
        assert sign_in(c) == 429
    (tmp_path / "a-file").write_text("")
    with pytest.raises(ValueError, match="CITELENS_STATE_DIR"):
        Settings.from_env({"CITELENS_STATE_DIR": str(tmp_path / "a-file")})


def test_the_sign_in_limit_falls_back_to_the_process_when_its_file_cannot_be_used(tmp_path: Path) -> None:
    """A state file that cannot be opened (its folder gone) must not stop sign-ins nor lift the limit: the process
    counts alone, as before, and says so once in the log."""
    from citelens.web.auth import SharedFailedSignIns

    failures = SharedFailedSignIns(tmp_path / "gone" / "sign-in-failures.sqlite3", limit=3)
    assert [failures.attempt("10.0.0.1") for _ in range(3)] == [0, 0, 0]
    assert 0 < failures.attempt("10.0.0.1") <= 900 and failures.attempt("10.0.0.2") == 0
    failures.forget("10.0.0.1")
    assert failures.attempt("10.0.0.1") == 0


def test_the_default_sign_in_file_is_private_and_named_after_the_index(tmp_path: Path) -> None:
    from citelens.web.auth import sign_in_state_file

    a = sign_in_state_file(str(tmp_path / "index.db"), None)
    assert a is not None and a.parent.stat().st_mode & 0o077 == 0
    (tmp_path / "link.db").symlink_to(tmp_path / "index.db")
    assert sign_in_state_file(str(tmp_path / "link.db"), None) == a  # the same file, however it is named
    assert sign_in_state_file(str(tmp_path / "other.db"), None) != a
    assert sign_in_state_file("postgresql://u@h/db", None) != sign_in_state_file("postgresql://u@h/db2", None)
    assert sign_in_state_file(str(tmp_path / "index.db"), str(tmp_path)) == tmp_path / "sign-in-failures.sqlite3"


def test_a_session_ends_when_its_curator_token_changes(index_db: Path, tmp_path: Path) -> None:
    # The session named only the curator: after a leaked token was replaced, a session signed in with it went on
    # correcting statements for its 8 hours.
    db = tmp_path / "index.db"
    db.write_bytes(index_db.read_bytes())
    with TestClient(create_app(db, settings())) as c:
        assert sign_in(c) == 303
        cookie = c.cookies["citelens_session"]
        assert c.post("/statements/1/correct", data={"csrf_token": csrf(c.get("/statements/1").text),
                                                     "type": "supporting"}, follow_redirects=False).status_code == 303
    rotated = Settings(api_token="api-secret", curators={"alice": "new-token"}, secret_key="test-key")
    with TestClient(create_app(db, rotated)) as c:
        c.cookies.set("citelens_session", cookie)
        page = c.get("/statements/1").text
        assert "Correct the type" not in page and "Sign out" not in page
        r = c.post("/statements/1/correct", data={"csrf_token": csrf(c.get("/login").text), "type": "mentioning"})
        assert r.status_code == 403
        assert sign_in(c, token="new-token") == 303 and "Correct the type" in c.get("/statements/1").text


def test_login_redirect_is_local_only(client: TestClient) -> None:
    tok = csrf(client.get("/login").text)
    r = client.post("/login", data={"csrf_token": tok, "name": "alice", "token": "alice-token",
                                    "next": "//evil.example/"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_sign_in_returns_to_the_page_as_it_was(client: TestClient) -> None:
    """The header's sign-in link comes back to the page with its query (filters, page), not only its path."""
    html = client.get(f"/reports/{CITED}", params={"type": "mentioning", "sort": "newest"}).text
    link = re.search(r'<a href="/login\?next=([^"]+)">Curator sign-in</a>', html)
    assert link and link.group(1) == "/reports/10.9999/cited.2001.1%3Ftype%3Dmentioning%26sort%3Dnewest"
    form = client.get("/login?next=" + link.group(1)).text
    assert 'value="/reports/10.9999/cited.2001.1?type=mentioning&amp;sort=newest"' in form
    r = client.post("/login", data={"csrf_token": csrf(form), "name": "alice", "token": "alice-token",
                                    "next": "/reports/10.9999/cited.2001.1?type=mentioning&sort=newest"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/reports/10.9999/cited.2001.1?type=mentioning&sort=newest"
    plain = client.get("/search").text  # no query: no "?" either
    assert '<a href="/login?next=/search">Curator sign-in</a>' in plain or "Sign out" in plain


# ---------------------------------------------------------------------------------------- badge, static

def test_badge_svg(client: TestClient) -> None:
    r = client.get("/badge.svg", params={"doi": CITED})
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
    assert "1 supporting" in r.text and "1 contrasting" in r.text and "<script" not in r.text
    v = client.get("/badge.svg", params={"doi": CITED, "layout": "vertical", "sections": "true",
                                         "show_zero": "false"}).text
    assert "in methods" in v and "0 in" not in v
    evil = client.get("/badge.svg", params={"doi": '10.1/"><script>alert(1)</script>'}).text
    assert "<script>" not in evil and "not indexed" in evil
    assert client.get("/badge.svg", params={"doi": CITED, "layout": "diagonal"}).status_code == 400


@pytest.mark.parametrize(("query", "status", "says"), [
    ({}, 422, "doi is missing"),
    ({"doi": "  "}, 400, "doi is empty"),
    ({"doi": CITED, "layout": "foo"}, 400, "layout must be horizontal or vertical"),
    ({"doi": CITED, "show_zero": "maybe"}, 422, "show_zero must be true or false"),
    ({"doi": CITED, "sections": "2"}, 422, "sections must be true or false"),
    ({"doi": "10.1/" + "x" * 400}, 400, "doi is too long"),
])
def test_badge_errors_are_badges(client: TestClient, query: dict[str, str], status: int, says: str) -> None:
    """A page embeds the badge with <img>: a bad request answers an SVG badge saying what is wrong, with the
    error's status (browsers draw an image whatever the status), not JSON, which <img> shows as a broken image."""
    r = client.get("/badge.svg", params=query)
    assert r.status_code == status and r.headers["content-type"].startswith("image/svg+xml"), r.text[:200]
    assert r.text.startswith("<svg") and says in r.text and "<script" not in r.text
    assert r.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    assert r.headers["cross-origin-resource-policy"] == "cross-origin"  # embeddable elsewhere, as the badge is


def test_badge_for_a_doi_not_in_the_index_and_the_api_beside_it(client: TestClient) -> None:
    """A DOI the index does not hold is a "not indexed" badge (200, as the badge script shows it), while the API
    keeps answering JSON: 404 for that DOI, 400/422 for bad parameters."""
    r = client.get("/badge.svg", params={"doi": "10.9999/not.here"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml") and "not indexed" in r.text
    r = client.get("/api/tallies/10.9999/not.here")
    assert r.status_code == 404 and r.json()["status"] == 404
    assert client.get("/api/search", params={"q": " "}).json() == {"error": "q must be 1 to 500 characters",
                                                                   "status": 400}
    assert client.get("/api/citations/" + CITED, params={"exclude_self": "maybe"}).json()["status"] == 422


def test_badge_page_snippet_is_a_working_address(client: TestClient) -> None:
    """The <img> snippet to copy puts the DOI into a query string, so characters that mean something there (a
    "+" is a space, "#" ends the address, "&" starts a parameter) are percent-encoded, as in the preview."""
    doi = "10.1002/(sici)1+2#3&x=<4>"
    html = client.get("/badge", params={"doi": doi}).text
    assert '/badge.svg?doi=10.1002/%28sici%291%2B2%233%26x%3D%3C4%3E" alt="CiteLens citation tallies"&gt;' in html
    assert '/badge.svg?doi=10.1038/nn1525" alt="CiteLens citation tallies"' in client.get("/badge").text  # as it was
    r = client.get("/badge.svg", params={"doi": doi})
    assert r.status_code == 200 and doi.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in r.text


def test_static_files_only_from_the_allow_list(client: TestClient) -> None:
    assert client.get("/static/badge.js").status_code == 200
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")
    for bad in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/..%2fapp.py", "/static/nope.js",
                "/static/templates/base.html"):
        assert client.get(bad).status_code == 404, bad


def test_docs_page_is_self_contained(client: TestClient) -> None:
    html = client.get("/docs").text
    assert "/api/tallies/{doi}" in html and "cdn" not in html.lower()
    spec = client.get("/openapi.json").json()
    assert "/api/tallies" in spec["paths"] and "/api/papers" in spec["paths"]


def test_serve_cli_refuses_missing_db(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from citelens.cli import main

    r = CliRunner().invoke(main, ["serve", "--db", str(tmp_path / "missing.db")])
    assert r.exit_code == 2 and "does not exist" in r.output


@pytest.mark.parametrize("name,value", [
    ("CITELENS_MAX_UPLOAD_BYTES", "10MB"), ("CITELENS_MAX_UPLOAD_BYTES", "-5"), ("CITELENS_MAX_UPLOAD_BYTES", "0"),
    ("CITELENS_CACHE_SECONDS", "abc"), ("CITELENS_CACHE_SECONDS", "-1"), ("CITELENS_STATS_SECONDS", "nan"),
    ("CITELENS_MAX_CHECK_REFERENCES", "zero"), ("CITELENS_MAX_CHECK_REFERENCES", "0"),
])
def test_a_bad_numeric_setting_stops_serve_with_its_name(index_db: Path, monkeypatch: pytest.MonkeyPatch,
                                                         name: str, value: str) -> None:
    """Like CITELENS_MIN_CONFIDENCE, a numeric setting that is not a number in its range stops `citelens serve`
    with its name (exit 2); any of these was ignored without a word and the server ran on the default."""
    from click.testing import CliRunner

    from citelens.cli import main

    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})
    monkeypatch.setenv(name, value)
    r = CliRunner().invoke(main, ["serve", "--db", str(index_db)])
    assert r.exit_code == 2 and name in r.output


def test_numeric_settings_take_what_the_docs_say() -> None:
    s = Settings.from_env({"CITELENS_MAX_UPLOAD_BYTES": "4194304", "CITELENS_CACHE_SECONDS": "0.5",
                           "CITELENS_STATS_SECONDS": "0", "CITELENS_MAX_CHECK_REFERENCES": " 50 "})
    assert (s.max_upload_bytes, s.cache_seconds, s.stats_seconds, s.max_check_references) == (4194304, 0.5, 0.0, 50)
    blank = Settings.from_env({"CITELENS_CACHE_SECONDS": "", "CITELENS_MAX_UPLOAD_BYTES": " "})
    assert (blank.cache_seconds, blank.max_upload_bytes) == (Settings().cache_seconds, Settings().max_upload_bytes)


def test_serve_on_a_port_in_use_is_a_usage_error(index_db: Path) -> None:
    """uvicorn ends with 3 when it cannot listen, which is "not found" in CiteLens's exit codes."""
    import socket

    from click.testing import CliRunner

    from citelens.cli import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = CliRunner().invoke(main, ["serve", "--db", str(index_db), "--port", str(port)])
    assert r.exit_code == 2, (r.exit_code, r.output)
    assert f"could not listen on 127.0.0.1:{port}" in r.output
    # Said before anything else: "CiteLens serving … on http://…" came first, then uvicorn's raw "ERROR: [Errno 98]".
    assert "serving" not in r.output and "Errno" not in r.output and "choose another --port" in r.output
    r = CliRunner().invoke(main, ["serve", "--db", str(index_db), "--host", "no-such-host.invalid"])
    assert r.exit_code == 2 and "could not listen on no-such-host.invalid:8000" in r.output, r.output
    assert "--host" in r.output and "serving" not in r.output


def test_chunked_upload_without_length_is_cut_off(index_db: Path) -> None:
    # No Content-Length (a generator body is sent chunked): the limit must hold while reading.
    with TestClient(create_app(index_db, settings(max_upload_bytes=4096))) as c:
        tok = csrf(c.get("/check").text)

        def body():  # noqa: ANN202 - a generator of multipart chunks
            yield (b'--B\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n' + tok.encode() +
                   b'\r\n--B\r\nContent-Disposition: form-data; name="file"; filename="../../etc/x.bib"\r\n'
                   b"Content-Type: text/plain\r\n\r\n")
            for _ in range(200):
                yield b"@" * 1024
            yield b"\r\n--B--\r\n"

        r = c.post("/check", content=body(), headers={"Content-Type": "multipart/form-data; boundary=B"})
        assert r.status_code == 413 and "too large" in r.text
        r = c.post("/api/tallies", content=(b"[" + b'"10.1/x",' * 20000 + b'"x"]'),
                   headers={"Content-Type": "application/json"})
        assert r.status_code == 413 and "maximum size" in r.json()["error"]


def test_badge_of_a_retracted_work_says_retracted(client: TestClient) -> None:
    """The badge of a retracted work showed its tallies alone, like any other paper's; it now says "retracted" first
    (red), and the label a screen reader reads names what the badge shows."""
    r = client.get("/badge.svg", params={"doi": "https://doi.org/" + CITED.upper()})
    assert r.status_code == 200 and ">retracted</text>" in r.text
    assert r.text.index(">retracted<") < r.text.index("supporting<")
    label = re.search(r'aria-label="([^"]*)"', r.text)
    assert label and label.group(1).endswith(": retracted, 1 supporting, 3 mentioning, 1 contrasting"), label.group(1)
    other = client.get("/badge.svg", params={"doi": "10.1128/JB.187.1.55"}).text
    assert "retracted" not in other and "supporting" in other


def test_docs_page_has_contents_by_subject(client: TestClient) -> None:
    """The API page ran to forty-odd sections with no way to find one but scrolling: a contents list by subject
    (tallies first, as scite's clients call them) links every operation's section, under the address it had."""
    html = client.get("/docs").text
    toc = html.split('id="toc-h"')[1].split("</nav>")[0]
    spec = client.get("/openapi.json").json()
    n_ops = sum(len(ops) for ops in spec["paths"].values())
    anchors = re.findall(r'<a href="#((?:get|post|put|delete|patch)-[^"]+)"', toc)
    assert len(anchors) == n_ops and all(f'id="{a}"' in html for a in anchors)
    assert 'href="#get--api-tallies-doi"' in toc
    assert toc.index("Tallies") < toc.index("Papers")


def test_a_reference_that_started_a_work_says_what_identifies_it() -> None:
    """"first seen here (no earlier record of this work)" left a reader to wonder whether anything checked that the
    reference names the right work: it now says the work is identified by the reference's DOI, or by its title,
    authors and year where it has none."""
    from citelens.serialize import resolution_words

    assert resolution_words("new", None, "10.1007/pl00005751").endswith(": identified by its DOI")
    assert resolution_words("new", None, "").endswith("identified by this reference's title, authors and year")
    assert resolution_words("doi", None, "10.1/x") == "matched by DOI"
    assert resolution_words("fuzzy", 0.934) == "matched by title, first author and year (93% similar)"
