"""Collections with alerts: made from DOI lists, BibTeX, RIS, CSL JSON or CSV; created only by a curator
or with the API token; a sortable page with CSV export; an Atom feed of what arrived since a date."""

from __future__ import annotations

import csv
import io
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from citelens.pipeline import ingest_paths
from citelens.store import open_store
from citelens.web.app import create_app
from test_shapes import validate
from test_web import CITED, FIXTURES, csrf, settings

AUTH = {"Authorization": "Bearer api-secret"}
ATOM = "{http://www.w3.org/2005/Atom}"
CSL = '[{"title": "Sentinel behaviour in bacterial colonies", "author": [{"family": "Barnes"}], "DOI": "10.9999/cited.2001.1"}, {"title": "Growth arrest", "DOI": "10.1128/JB.187.1.55"}]'


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "index.db"
    store = open_store(path)
    ingest_paths([FIXTURES / "xss-article.xml", FIXTURES / "mini-jats.xml"], store, classifier="cues")
    store.close()
    return path


@pytest.fixture
def client(db: Path) -> TestClient:
    with TestClient(create_app(db, settings())) as c:
        yield c


def make(client: TestClient, **body: object) -> dict:
    r = client.post("/api/collections", json={"name": "Reading list", **body}, headers=AUTH)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize("body,fmt,n", [
    ({"dois": [CITED, "https://doi.org/10.1128/jb.187.1.55", "10.5555/not-indexed"]}, "doi-list", 3),
    ({"content": CSL, "format_hint": "My Library.json"}, "csl-json", 2),
    ({"content": "TY  - JOUR\nTI  - Sentinel behaviour\nDO  - 10.9999/cited.2001.1\nER  -\n", "format_hint": "x.ris"}, "ris", 1),
    ({"content": "@article{b, title={Sentinel}, doi={10.9999/cited.2001.1}}", "format_hint": "refs.bib"}, "bibtex", 1),
    ({"content": "Title,DOI\nSentinel behaviour,10.9999/cited.2001.1\nGrowth,10.1128/JB.187.1.55\n",
      "format_hint": "export.csv"}, "csv", 2),
])
def test_created_from_every_format(client: TestClient, body: dict, fmt: str, n: int) -> None:
    c = make(client, **body)
    assert c["format"] == fmt and c["size"] == n
    got = client.get(f"/api/collections/{c['id']}").json()
    validate(got, {"$ref": "#/components/schemas/CollectionPage"}, client.get("/openapi.json").json())
    first = got["items"][0]
    assert first["doi"] == CITED and first["found"] and first["total"] == 5


@pytest.mark.parametrize("body", [
    {"dois": [CITED, "https://doi.org/10.9999/CITED.2001.1", "10.1128/jb.187.1.55", f"doi:{CITED}"]},
    {"content": "Title,DOI\nSentinel,10.9999/cited.2001.1\nGrowth,10.1128/JB.187.1.55\nAgain,10.9999/Cited.2001.1\n",
     "format_hint": "merged.csv"},
    {"content": "@article{a, title={Sentinel}, doi={10.9999/cited.2001.1}}\n"
                "@article{b, title={Growth arrest}, doi={10.1128/JB.187.1.55}}\n"
                "@article{a2, title={Sentinel behaviour}, doi={https://doi.org/10.9999/cited.2001.1}}\n",
     "format_hint": "merged.bib"},
])
def test_a_work_listed_twice_is_kept_once(client: TestClient, body: dict) -> None:
    """A reading list merged from two libraries names some works twice, in other spellings of the DOI: the
    collection holds each work once (its first place), so "N works" and the table count works, not lines."""
    c = make(client, **body)
    assert c["size"] == 2
    items = client.get(f"/api/collections/{c['id']}").json()["items"]
    assert [i["doi"] for i in items] == [CITED, "10.1128/jb.187.1.55"]


def test_only_curators_and_token_holders_create(client: TestClient) -> None:
    assert client.post("/api/collections", json={"name": "x", "dois": [CITED]}).status_code == 401
    assert client.post("/api/collections", json={"name": "x", "dois": [CITED]},
                       headers={"Authorization": "Bearer wrong"}).status_code == 401
    page = client.get("/collections").text
    assert "New collection" not in page  # no form for anonymous readers
    r = client.post("/collections", data={"csrf_token": csrf(client.get("/check").text), "name": "x", "text": CITED})
    assert r.status_code == 403
    # A signed-in curator can.
    login = client.get("/login").text
    client.post("/login", data={"csrf_token": csrf(login), "name": "alice", "token": "alice-token", "next": "/"})
    page = client.get("/collections").text
    assert "New collection" in page
    r = client.post("/collections", data={"csrf_token": csrf(page), "name": "Alice's list"},
                    files={"file": ("list.txt", f"{CITED}\n10.1128/JB.187.1.55\n".encode(), "text/plain")},
                    follow_redirects=False)
    assert r.status_code == 303
    html = client.get(r.headers["location"]).text
    assert "Alice&#39;s list" in html and "by alice" in html
    # A file that cannot be read: the form again, naming the file and the problem, with the name kept.
    r = client.post("/collections", data={"csrf_token": csrf(page), "name": "Broken"},
                    files={"file": ("lib.json", b"{oops", "application/json")})
    assert r.status_code == 400 and "lib.json: not valid JSON" in r.text and 'value="Broken"' in r.text


def test_page_sorts_and_exports(client: TestClient) -> None:
    c = make(client, dois=["10.5555/not-indexed", "10.1128/JB.187.1.55", CITED])
    html = client.get(f"/collections/{c['id']}").text
    assert "not in this index" in html and 'href="/reports/10.9999/cited.2001.1"' in html
    desc = client.get(f"/collections/{c['id']}?sort=total&order=desc").text
    assert desc.index("10.9999/cited.2001.1") < desc.index("10.5555/not-indexed")
    assert client.get(f"/collections/{c['id']}?sort=bogus").status_code == 400
    # order as sort is read: any case; anything but asc or desc is a 400 naming it (it was ascending, silently).
    upper = client.get(f"/collections/{c['id']}?sort=total&order=DESC").text
    assert upper.index("10.9999/cited.2001.1") < upper.index("10.5555/not-indexed")
    for path in (f"/collections/{c['id']}", f"/collections/{c['id']}.csv", f"/api/collections/{c['id']}"):
        r = client.get(path, params={"sort": "total", "order": "down"})
        assert r.status_code == 400 and "order must be one of asc, desc" in r.text, path
    r = client.get(f"/collections/{c['id']}.csv?sort=total&order=desc")
    assert r.headers["content-type"].startswith("text/csv") and "Reading_list.csv" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert rows[0]["doi"] == CITED and rows[0]["total"] == "5" and rows[-1]["found"] == "False"
    # The page's link is for a spreadsheet (excel=1: a UTF-8 byte-order mark, or Excel garbles "Müller"); the
    # address without it, for scripts, stays plain UTF-8.
    assert f'/collections/{c["id"]}.csv?sort=total&amp;order=desc&amp;excel=1" id="csv-link"' in desc
    excel = client.get(f"/collections/{c['id']}.csv?sort=total&order=desc&excel=1")
    assert not r.content.startswith(b"\xef\xbb\xbf") and excel.content == b"\xef\xbb\xbf" + r.content


def test_atom_feed_alerts_on_new_statements_and_notices(db: Path, tmp_path: Path) -> None:
    with TestClient(create_app(db, settings())) as client:
        c = make(client, dois=[CITED])
        time.sleep(1.1)  # ingest times have one-second resolution
        since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        feed = etree.fromstring(client.get(f"/collections/{c['id']}/feed.atom?since={since}").content)
        assert feed.tag == f"{ATOM}feed" and not feed.findall(f"{ATOM}entry")
        # A new article citing the work, and a retraction notice about it, arrive.
        _another_citing_article_and_its_retraction(db, tmp_path)
        r = client.get(f"/collections/{c['id']}/feed.atom?since={since}")
        assert r.headers["content-type"].startswith("application/atom+xml")
        entries = etree.fromstring(r.content).findall(f"{ATOM}entry")
        kinds = [e.find(f"{ATOM}category").get("term") for e in entries]
        assert kinds.count("statement") == 5 and kinds.count("notice") == 1
        titles = " ".join(e.findtext(f"{ATOM}title") for e in entries)
        assert "Retracted" in titles
        assert b"<script>" not in r.content  # article text is escaped XML text, never markup
        alerts = client.get(f"/api/collections/{c['id']}/alerts", params={"since": since}).json()["alerts"]
        assert len(alerts) == 6
        assert client.get(f"/collections/{c['id']}/feed.atom?since=2999-01-01").status_code == 200
        assert client.get(f"/collections/{c['id']}/feed.atom?since=yesterday").status_code == 400


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_rows_without_a_value_sort_last_in_either_order(client: TestClient, order: str) -> None:
    """A work the index lacks has no year: sorted by year it comes last both ways (descending put it first)."""
    c = make(client, dois=["10.5555/not-indexed", CITED, "10.1128/JB.187.1.55"])
    items = client.get(f"/api/collections/{c['id']}", params={"sort": "year", "order": order}).json()["items"]
    years = [i["year"] for i in items]
    assert years[-1] is None and None not in years[:-1] and items[-1]["found"] is False
    assert years[:-1] == sorted(years[:-1], reverse=order == "desc")
    rows = list(csv.DictReader(io.StringIO(client.get(f"/collections/{c['id']}.csv?sort=year&order={order}").text)))
    assert [r["doi"] for r in rows] == [i["doi"] for i in items]


def test_alerts_say_when_entries_were_left_out(client: TestClient) -> None:
    """The alerts answer holds the newest `limit` entries (default 200) and says whether more arrived since
    `since`: a client paging nothing must not take a cut list for everything (it was silently the newest 200)."""
    c = make(client, dois=[CITED])
    url = f"/api/collections/{c['id']}/alerts"
    everything = client.get(url, params={"since": "2000-01-01"}).json()
    assert len(everything["alerts"]) == 5 and everything["limit"] == 200 and everything["truncated"] is False
    cut = client.get(url, params={"since": "2000-01-01", "limit": 2}).json()
    assert cut["limit"] == 2 and cut["truncated"] is True
    assert [a["id"] for a in cut["alerts"]] == [a["id"] for a in everything["alerts"][:2]]
    exact = client.get(url, params={"since": "2000-01-01", "limit": 5}).json()
    assert exact["truncated"] is False and len(exact["alerts"]) == 5
    for bad in ("0", "1001"):
        r = client.get(url, params={"limit": bad})
        assert r.status_code == 400 and "limit must be between 1 and 1000" in r.json()["error"]


def test_since_with_a_utc_offset_typed_into_the_address(client: TestClient) -> None:
    """A "+02:00" typed into a feed address arrives as " 02:00" (a "+" in a query string is a space): it is read
    as the offset it was, not refused; an offset sent encoded, or "-05:00", reads as before."""
    c = make(client, dois=[CITED])
    for typed, utc in (("2026-01-31T12:00:00+02:00", "2026-01-31T10:00:00+00:00"),
                       ("2026-01-31T12:00+0200", "2026-01-31T10:00:00+00:00"),
                       ("2026-01-31T12:00:00-05:00", "2026-01-31T17:00:00+00:00")):
        r = client.get(f"/api/collections/{c['id']}/alerts?since={typed}")
        assert r.status_code == 200 and r.json()["since"] == utc, (typed, r.text)
        assert client.get(f"/api/collections/{c['id']}/alerts", params={"since": typed}).json()["since"] == utc
        assert client.get(f"/collections/{c['id']}/feed.atom?since={typed}").status_code == 200
    assert client.get(f"/api/collections/{c['id']}/alerts?since=2026-01-31+02:00").json()["since"] == (
        "2026-01-31T02:00:00+00:00")  # a date and a time: no offset to read


def test_bad_uploads_name_the_problem(client: TestClient) -> None:
    r = client.post("/api/collections", json={"name": "x", "content": "{oops", "format_hint": "lib.json"}, headers=AUTH)
    assert r.status_code == 400 and "lib.json: not valid JSON" in r.json()["error"]
    r = client.post("/api/collections", json={"name": "", "dois": [CITED]}, headers=AUTH)
    assert r.status_code == 400
    assert client.get("/collections/999").status_code == 404
    assert client.get("/api/collections/999").status_code == 404


def test_collections_live_in_the_index(db: Path) -> None:
    with TestClient(create_app(db, settings())) as client:
        c = make(client, dois=[CITED])
    store = open_store(db, readonly=True)
    assert [x.name for x in store.list_collections()] == ["Reading list"] and c["size"] == 1
    store.close()


def test_store_collections_and_alerts_on_every_backend(store_url: str) -> None:
    store = open_store(store_url)
    try:
        ingest_paths([FIXTURES / "xss-article.xml"], store, classifier="cues")
        work = store.get_work(CITED)
        assert work is not None
        c = store.create_collection("List", "alice", [(CITED, None, "Barnes"), ("", work.id, "by id"),
                                                      ("10.5555/x", None, "unknown")])
        assert (c.name, c.owner, c.size) == ("List", "alice", 3)
        assert [x.id for x in store.list_collections()] == [c.id]
        items = store.collection_items(c.id)
        assert [(i.position, i.doi, i.work_id) for i in items] == [(0, CITED, None), (1, "", work.id),
                                                                   (2, "10.5555/x", None)]
        assert len(store.statements_since([work.id], "2000-01-01")) == 5
        assert store.statements_since([work.id], "2999-01-01") == []
        at = store.statements_since([work.id], "2000-01-01")[0][0]
        # `until` is exclusive: the second the statements arrived ends a window before them, the next one after.
        assert store.statements_since([work.id], "2000-01-01", until=at) == []
        later = (datetime.fromisoformat(at) + timedelta(seconds=1)).isoformat(timespec="seconds")
        assert len(store.statements_since([work.id], "2000-01-01", until=later)) == 5
        ingest_paths([FIXTURES / "xss-retraction.xml"], store, classifier="cues")
        events = store.notices_since([work.id], "2000-01-01")
        assert [e.notice.kind for e in events] == ["retraction"] and events[0].target_work_id == work.id
        assert store.notices_since([work.id], "2000-01-01", until=events[0].ingested_at) == []
        assert store.get_collection(c.id + 1000) is None
        # Items go on after the last position; a removal leaves the others where they are.
        assert store.add_collection_items(c.id, [("10.5555/y", None, "y")]) == 1
        assert store.remove_collection_items(c.id, [1, 7]) == 1
        assert [(i.position, i.doi) for i in store.collection_items(c.id)] == [(0, CITED), (2, "10.5555/x"),
                                                                               (3, "10.5555/y")]
        assert store.get_collection(c.id).size == 3
        assert store.delete_collection(c.id) and not store.delete_collection(c.id)
        assert store.collection_items(c.id) == [] and store.get_work(CITED) is not None
    finally:
        store.close()


def test_data_version_moves_with_every_change(store_url: str, tmp_path: Path) -> None:
    """The server's count cache is exact on every backend: the version changes on store, replace and correct."""
    store = open_store(store_url)
    revised = tmp_path / "revised.xml"
    revised.write_text((FIXTURES / "xss-article.xml").read_text(encoding="utf-8").replace("sentinel", "Sentinel", 1),
                       encoding="utf-8")
    try:
        v0 = store.data_version()
        ingest_paths([FIXTURES / "xss-article.xml"], store, classifier="cues")
        v1 = store.data_version()
        summary = ingest_paths([revised], store, classifier="cues")  # same DOI: replaces the article
        assert summary.replaced == 1
        v2 = store.data_version()
        _total, rows = store.citations(store.get_work(CITED).id)
        store.correct_statement(rows[0].id, "supporting", "alice")
        v3 = store.data_version()
        assert len({v0, v1, v2, v3}) == 4
        assert store.data_version() == v3
    finally:
        store.close()


def test_server_shows_an_ingest_at_once(store_url: str, tmp_path: Path) -> None:
    """No lag on either backend: the next request after an ingest counts the new statements."""
    store = open_store(store_url)
    ingest_paths([FIXTURES / "xss-article.xml"], store, classifier="cues")
    store.close()
    other = tmp_path / "another.xml"
    other.write_text((FIXTURES / "xss-article.xml").read_text(encoding="utf-8")
                     .replace("10.9999/xss.2024.1", "10.9999/another.2025.1"), encoding="utf-8")
    with TestClient(create_app(store_url, settings())) as client:
        assert client.get(f"/api/tallies/{CITED}").json()["total"] == 5
        store = open_store(store_url)
        ingest_paths([other], store, classifier="cues")
        store.close()
        assert client.get(f"/api/tallies/{CITED}").json()["total"] == 10


def test_a_csv_with_a_cell_too_long_to_read_is_a_400_naming_it(client: TestClient) -> None:
    for name in ("export.csv", "export.tsv"):
        sep = "\t" if name.endswith(".tsv") else ","
        content = f"doi{sep}title\n10.1234/x{sep}" + "a" * 200_000 + "\n"
        r = client.post("/api/collections", json={"name": "x", "content": content, "format_hint": name}, headers=AUTH)
        # Before: 500 "internal error" (csv.Error: field larger than field limit).
        assert r.status_code == 400, r.text
        assert r.json()["error"].startswith(f"{name}: not a CSV file that can be read (line 2: field larger than")


def _another_citing_article_and_its_retraction(db: Path, tmp_path: Path) -> None:
    """Ingest a new article citing CITED (five statements) and the notice retracting CITED."""
    other = tmp_path / "another.xml"
    other.write_text((FIXTURES / "xss-article.xml").read_text(encoding="utf-8")
                     .replace("10.9999/xss.2024.1", "10.9999/another.2025.1"), encoding="utf-8")
    store = open_store(db)
    ingest_paths([other, FIXTURES / "xss-retraction.xml"], store, classifier="cues")
    store.close()


def _two_arrivals(db: Path, tmp_path: Path, client: TestClient) -> tuple[dict, str, str]:
    """A collection of CITED whose five citing statements arrived at one second and, a second or more later, five
    more with a retraction notice: (collection, first arrival, second arrival)."""
    c = make(client, dois=[CITED])
    first = client.get(f"/api/collections/{c['id']}/alerts", params={"since": "2000-01-01"}).json()["alerts"][0]["at"]
    time.sleep(1.1)  # ingest times have one-second resolution
    _another_citing_article_and_its_retraction(db, tmp_path)
    second = client.get(f"/api/collections/{c['id']}/alerts", params={"since": "2000-01-01"}).json()["alerts"][0]["at"]
    assert second > first
    return c, first, second


def test_alerts_window_has_an_exclusive_until(db: Path, tmp_path: Path) -> None:
    """`until` ends the window before it (since inclusive, until exclusive): windows that meet split what arrived
    between them, with nothing twice and nothing lost; the feed takes it too."""
    with TestClient(create_app(db, settings())) as client:
        c, first, second = _two_arrivals(db, tmp_path, client)
        url = f"/api/collections/{c['id']}/alerts"
        everything = client.get(url, params={"since": "2000-01-01"}).json()
        assert len(everything["alerts"]) == 11 and everything["until"] is None
        older = client.get(url, params={"since": "2000-01-01", "until": second}).json()
        newer = client.get(url, params={"since": second}).json()
        assert older["until"] == second and {a["at"] for a in older["alerts"]} == {first}
        assert {a["at"] for a in newer["alerts"]} == {second}
        assert sorted(a["id"] for a in older["alerts"] + newer["alerts"]) == sorted(a["id"] for a in everything["alerts"])
        # The notice comes first within its second: a retraction is never the entry a cut leaves out.
        assert newer["alerts"][0]["kind"] == "notice"
        feed = etree.fromstring(client.get(f"/collections/{c['id']}/feed.atom",
                                           params={"since": "2000-01-01", "until": second}).content)
        assert len(feed.findall(f"{ATOM}entry")) == 5 and f"before {second}" in feed.findtext(f"{ATOM}subtitle")
        # Only `until`: the 30 days before it.
        r = client.get(url, params={"until": "2026-02-01"}).json()
        assert (r["since"], r["until"]) == ("2026-01-02T00:00:00+00:00", "2026-02-01T00:00:00+00:00")
        for bad, message in (({"since": "2026-02-01", "until": "2026-02-01"}, "until (2026-02-01T00:00:00+00:00) must"
                              " be after since"), ({"until": "soon"}, "until must be a date")):
            for path in (url, f"/collections/{c['id']}/feed.atom"):
                r = client.get(path, params=bad)
                assert r.status_code == 400 and message in r.text, (path, r.text)


def test_a_cut_feed_says_so_and_links_the_rest(db: Path, tmp_path: Path) -> None:
    """More entries than `limit` (200 by default): the feed says in its subtitle that it holds only the newest and
    links the older ones (rel="next", RFC 5005), as the JSON answer's `truncated` and `next_until` do. A page ends
    at a whole second, so following the links gives every entry once even when a bulk ingest shares seconds."""
    with TestClient(create_app(db, settings())) as client:
        c, first, second = _two_arrivals(db, tmp_path, client)
        url = f"/api/collections/{c['id']}/alerts"
        page = client.get(url, params={"since": "2000-01-01", "limit": 7}).json()
        # Seven fit, but the seventh would cut the first second in two: the page holds the whole second one.
        assert page["truncated"] is True and page["next_until"] == second and len(page["alerts"]) == 6
        rest = client.get(url, params={"since": "2000-01-01", "until": page["next_until"], "limit": 7}).json()
        assert rest["truncated"] is False and rest["next_until"] is None and len(rest["alerts"]) == 5

        seen: list[str] = []
        href: str | None = f"/collections/{c['id']}/feed.atom?since=2000-01-01&limit=7"
        subtitles = []
        while href:
            feed = etree.fromstring(client.get(href).content)
            seen += [e.findtext(f"{ATOM}id") for e in feed.findall(f"{ATOM}entry")]
            subtitles.append(feed.findtext(f"{ATOM}subtitle"))
            nxt = [link.get("href") for link in feed.findall(f"{ATOM}link") if link.get("rel") == "next"]
            href = nxt[0].replace("http://testserver", "") if nxt else None
        assert len(subtitles) == 2 and "only the 6 newest entries; more arrived" in subtitles[0]
        assert "more arrived" not in subtitles[1]
        assert len(seen) == len(set(seen)) == 11
        # Not cut: no next link and no note (the default limit).
        feed = etree.fromstring(client.get(f"/collections/{c['id']}/feed.atom?since=2000-01-01").content)
        assert not [link for link in feed.findall(f"{ATOM}link") if link.get("rel") == "next"]
        assert feed.findtext(f"{ATOM}subtitle") == "since 2000-01-01T00:00:00+00:00"
        assert client.get(f"/collections/{c['id']}/feed.atom?limit=0").status_code == 400


def test_a_web_of_science_export_names_each_record_not_its_first_cited_reference(client: TestClient) -> None:
    """Web of Science's tab-delimited export calls the DOI column "DI" and lists cited references ("CR", DOIs inside)
    before it: each row was taken for the first DOI in its cells, the first work it cites. Without a DOI column,
    a cell that is a DOI alone wins over one that merely holds one."""
    wos = ("PT\tAU\tTI\tCR\tDI\n"
           "J\tBarnes, T\tSentinel behaviour in bacterial colonies\tChen L, 2005, J BACTERIOL, V187, P55, "
           "DOI 10.1128/JB.187.1.55; Doe J, 1999, CELL, V1, P2\t10.9999/cited.2001.1\n")
    c = make(client, content=wos, format_hint="savedrecs.tsv")
    items = client.get(f"/api/collections/{c['id']}").json()["items"]
    assert [(i["doi"], i["found"]) for i in items] == [(CITED, True)]
    headerless = f"\"Chen L, 2005, DOI 10.1128/JB.187.1.55\",{CITED}\n"
    c = make(client, content=headerless, format_hint="list.csv")
    assert [i["doi"] for i in client.get(f"/api/collections/{c['id']}").json()["items"]] == [CITED]


def test_a_reingested_article_is_not_announced_again(store_url: str, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Re-ingesting an article (a repeated batch, an upgrade's re-ingest) stamped it anew, and every statement
    and notice of it came back as new in every collection citing it. They keep when they first arrived; only what
    the new version adds arrives with it."""
    import citelens.store.sql as sql

    monkeypatch.setattr(sql, "now", lambda: "2026-01-01T00:00:00+00:00")
    store = open_store(store_url)
    article, retraction = FIXTURES / "mini-jats.xml", FIXTURES / "xss-retraction.xml"
    ingest_paths([article, retraction], store, classifier="cues")
    cited = sorted({s.cited_work_id for s in store.iter_statements() if s.cited_work_id})
    targets = [store.get_work("10.9999/cited.2001.1").id]  # what the retraction retracts
    first = store.statements_since(cited, "2000-01-01", limit=1000)
    assert first and {at for at, _ in first} == {"2026-01-01T00:00:00+00:00"}
    assert len(store.notices_since(targets, "2000-01-01")) == 1

    monkeypatch.setattr(sql, "now", lambda: "2026-02-01T00:00:00+00:00")
    ingest_paths([article, retraction], store, classifier="cues")  # the same files again
    assert store.statements_since(cited, "2026-01-15") == [] and store.notices_since(targets, "2026-01-15") == []
    again = store.statements_since(cited, "2000-01-01", limit=1000)
    assert sorted((at, s.sentence) for at, s in again) == sorted((at, s.sentence) for at, s in first)

    monkeypatch.setattr(sql, "now", lambda: "2026-03-01T00:00:00+00:00")
    revised = tmp_path / "mini-jats.xml"  # a new version of the article adds one citing sentence
    revised.write_text(article.read_text(encoding="utf-8").replace(
        "Future studies are needed.", 'Future studies are needed, as Barnes also argued [<xref ref-type="bibr"'
        ' rid="r1">1</xref>].'), encoding="utf-8")
    assert ingest_paths([revised], store, classifier="cues").replaced == 1
    new = store.statements_since(cited, "2026-02-15", limit=1000)
    assert [s.sentence for _, s in new] == ["Future studies are needed, as Barnes also argued [1]."]
    assert len(store.statements_since(cited, "2000-01-01", limit=1000)) == len(first) + 1
    store.close()


def test_works_are_added_to_and_removed_from_a_collection(client: TestClient) -> None:
    """A reading list changes: before, the only way was to make a new collection (its alerts' address with it)."""
    c = make(client, dois=[CITED, "10.5555/not-indexed"])
    url = f"/api/collections/{c['id']}/items"
    assert client.post(url, json={"dois": ["10.1128/JB.187.1.55"]}).status_code == 401  # the token, as to create
    r = client.post(url, json={"dois": ["10.1128/JB.187.1.55", f"https://doi.org/{CITED.upper()}"]}, headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["added"], body["already_in"], body["collection"]["size"]) == (1, 1, 3)
    items = client.get(f"/api/collections/{c['id']}").json()["items"]
    assert [(i["position"], i["doi"]) for i in items] == [(0, CITED), (1, "10.5555/not-indexed"),
                                                         (2, "10.1128/jb.187.1.55")]  # new ones at the end
    r = client.post(url, json={"format_hint": "refs.bib", "content": "@article{a, doi={10.9999/cited.2001.1}}"},
                    headers=AUTH)
    assert r.json()["added"] == 0 and r.json()["already_in"] == 1
    # Removing by DOI (however written) or position; what matches nothing is named, the rest is removed.
    r = client.delete(url, params={"doi": ["DOI:10.5555/NOT-INDEXED", "10.5555/never-there"], "position": [2, 9]},
                      headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["removed"] == 2 and r.json()["not_found"] == ["10.5555/never-there", "position 9"]
    assert [i["position"] for i in client.get(f"/api/collections/{c['id']}").json()["items"]] == [0]
    assert client.delete(url, headers=AUTH).status_code == 400  # nothing named
    assert client.delete(f"/api/collections/{c['id'] + 99}/items", params={"position": 0}, headers=AUTH).status_code == 404
    # Deleting the collection leaves the works in the index.
    assert client.delete(f"/api/collections/{c['id']}").status_code == 401
    assert client.delete(f"/api/collections/{c['id']}", headers=AUTH).json() == {"deleted": c["id"]}
    assert client.get(f"/api/collections/{c['id']}").status_code == 404
    assert client.get(f"/api/tallies/{CITED}").json()["total"] == 5


def test_a_curator_adds_and_removes_works_on_the_page(client: TestClient) -> None:
    c = make(client, dois=[CITED])
    page = client.get(f"/collections/{c['id']}").text
    assert "Add works" not in page and "/items/remove" not in page  # readers see no forms
    assert client.post(f"/collections/{c['id']}/items", data={"csrf_token": csrf(client.get("/check").text),
                                                              "text": "10.1128/jb.187.1.55"}).status_code == 403
    login = client.get("/login").text
    client.post("/login", data={"csrf_token": csrf(login), "name": "alice", "token": "alice-token", "next": "/"})
    page = client.get(f"/collections/{c['id']}").text
    assert "Add works" in page and 'aria-label="Remove Sentinel' in page
    assert client.post(f"/collections/{c['id']}/items", data={"csrf_token": "forged", "text": "10.1/x"}
                       ).status_code == 400
    r = client.post(f"/collections/{c['id']}/items", follow_redirects=False,
                    data={"csrf_token": csrf(page), "text": f"10.1128/jb.187.1.55\n{CITED}"})
    assert r.status_code == 303
    html = client.get(r.headers["location"]).text
    assert "Added 1 work; 1 was already in the collection." in html and "10.1128/jb.187.1.55" in html
    r = client.post(f"/collections/{c['id']}/items/remove", data={"csrf_token": csrf(html), "position": "0"},
                    follow_redirects=False)
    html = client.get(r.headers["location"]).text
    assert "Removed 1 work." in html and f'href="/reports/{CITED}"' not in html
    assert client.post(f"/collections/{c['id']}/items/remove", data={"csrf_token": csrf(html), "position": "x"}
                       ).status_code == 400
