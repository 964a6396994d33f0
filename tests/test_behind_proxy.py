"""CiteLens behind a reverse proxy under a path prefix (https://library.example.edu/citelens/).

The proxy strips the prefix and ``citelens serve --root-path /citelens`` tells uvicorn, which (as the ASGI spec asks)
puts it in front of every request's path and in ``root_path``; the TestClient's ``root_path`` does the same. Every
link, form, asset, redirect, ``Link`` header and API ``next`` the app writes must then start with the prefix, and
everything that reads a path (JSON errors, ETags, CORS) must still recognise it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from lxml import etree

from citelens.cli.serve_cmds import check_forwarded_allow_ips
from citelens.web.app import create_app
from citelens.web.settings import Settings
from test_web import CITED, build_index, csrf, settings

ROOT = "/citelens"
ATTRS = re.compile(r'\s(?:href|src|action)="(/[^"]*)"')


@pytest.fixture(scope="module")
def index_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(build_index(tmp_path_factory.mktemp("proxy") / "index.db"))


@pytest.fixture
def client(index_db: Path, tmp_path: Path) -> TestClient:
    db = tmp_path / "rw.db"
    shutil.copy(index_db, db)
    with TestClient(create_app(db, settings()), root_path=ROOT) as c:
        yield c


def local_links(html: str) -> list[str]:
    return ATTRS.findall(html)


def test_every_link_form_and_asset_of_the_pages_starts_with_the_prefix(client: TestClient) -> None:
    pages = ["/", "/search?q=cells", f"/reports/{CITED}", "/statements/1", "/check", "/badge?doi=" + CITED,
             "/collections", "/docs", "/how-labels-are-made", "/login", "/flows", "/no-such-page"]
    seen = 0
    for page in pages:
        html = client.get(ROOT + page).text
        links = local_links(html)
        assert links, page
        outside = [u for u in links if not u.startswith(ROOT + "/")]
        assert not outside, (page, outside[:5])
        seen += len(links)
        for url in links:
            if "/static/" in url:  # the stylesheet and scripts are served there
                assert client.get(url).status_code == 200, url
    assert seen > 100
    # Following the links works: every link of the report page answers (no 404 for a path without the prefix).
    for url in sorted(set(local_links(client.get(f"{ROOT}/reports/{CITED}").text)))[:40]:
        if "/login" in url:
            continue
        assert client.get(url.replace("&amp;", "&")).status_code == 200, url


def test_the_sign_in_and_a_correction_come_back_under_the_prefix(client: TestClient) -> None:
    page = client.get(f"{ROOT}/statements/1").text
    link = re.search(r'<a href="(/citelens/login\?next=[^"]+)">Curator sign-in</a>', page)
    assert link and "next=/citelens/statements/1" in link.group(1).replace("%2F", "/")
    form = client.get(link.group(1)).text
    r = client.post(f"{ROOT}/login", data={"csrf_token": csrf(form), "name": "alice", "token": "alice-token",
                                          "next": "/citelens/statements/1"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/citelens/statements/1"
    page = client.get(r.headers["location"]).text
    r = client.post(f"{ROOT}/statements/1/correct", data={"csrf_token": csrf(page), "type": "contrasting"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/citelens/statements/1?saved=1"
    r = client.post(f"{ROOT}/logout", data={"csrf_token": csrf(client.get(r.headers["location"]).text)},
                    follow_redirects=False)
    assert r.headers["location"] == "/citelens/"
    # A sign-in without a page to come back to lands on the start page under the prefix.
    r = client.post(f"{ROOT}/login", data={"csrf_token": csrf(client.get(f"{ROOT}/login").text), "name": "alice",
                                          "token": "alice-token"}, follow_redirects=False)
    assert r.headers["location"] == "/citelens/"


def test_a_collection_made_on_the_pages_and_its_feed_link_under_the_prefix(client: TestClient) -> None:
    form = client.get(f"{ROOT}/login").text
    client.post(f"{ROOT}/login", data={"csrf_token": csrf(form), "name": "alice", "token": "alice-token"})
    page = client.get(f"{ROOT}/collections").text
    r = client.post(f"{ROOT}/collections", data={"csrf_token": csrf(page), "name": "Reading list",
                                                 "text": CITED}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/citelens/collections/")
    html = client.get(r.headers["location"]).text
    feed_path = re.search(r'href="([^"]+feed\.atom)"', html)
    assert feed_path and feed_path.group(1).startswith("/citelens/collections/")
    feed = etree.fromstring(client.get(feed_path.group(1) + "?since=2000-01-01").content)
    hrefs = feed.xpath("//*[local-name()='link']/@href")
    assert hrefs and all(h.startswith("http://testserver/citelens/") for h in hrefs), hrefs


def test_the_api_pages_errors_and_etags_under_the_prefix(client: TestClient) -> None:
    r = client.get(f"{ROOT}/api/citations/{CITED}", params={"per_page": 1})
    body = r.json()
    assert r.status_code == 200 and body["pages"] > 1
    assert body["next"].startswith("/citelens/api/citations/") and body["prev"] is None
    assert all(u.startswith("/citelens/api/") for u in re.findall(r"<([^>]+)>", r.headers["link"]))
    assert client.get(body["next"]).json()["prev"].startswith("/citelens/api/citations/")
    search = client.get(f"{ROOT}/api/search", params={"q": "cells", "per_page": 1}).json()
    assert search["next"] is None or search["next"].startswith("/citelens/api/search?")
    # Paths are still recognised with the prefix in front: an API error is JSON, answers carry ETags and CORS.
    missing = client.get(f"{ROOT}/api/tallies/10.9999/none")
    assert missing.status_code == 404 and missing.json()["status"] == 404
    tallies = client.get(f"{ROOT}/api/tallies/{CITED}")
    assert tallies.headers["access-control-allow-origin"] == "*"
    assert client.get(f"{ROOT}/api/tallies/{CITED}",
                      headers={"If-None-Match": tallies.headers["etag"]}).status_code == 304
    assert "etag" in client.get(f"{ROOT}/badge.svg", params={"doi": CITED}).headers
    assert client.get(f"{ROOT}/api/health").json()["ok"] is True
    # The OpenAPI description names the prefix as its server, so a generated client calls it there.
    assert {"url": ROOT} in client.get(f"{ROOT}/openapi.json").json()["servers"]


def test_the_badge_script_asks_the_server_under_its_prefix(client: TestClient) -> None:
    """badge.js embedded elsewhere finds the server from its own src, prefix included (not only the origin)."""
    js = client.get(f"{ROOT}/static/badge.js").text
    assert 'lastIndexOf("/static/")' in js and "src.pathname.slice(0, at)" in js
    badge_page = client.get(f"{ROOT}/badge", params={"doi": CITED}).text
    assert "http://testserver/citelens/static/badge.js" in badge_page  # the snippet to copy
    assert "http://testserver/citelens/badge.svg?doi=" in badge_page


def test_a_proxy_that_did_not_strip_the_prefix_is_not_needed_at_the_root(index_db: Path) -> None:
    """Without a prefix nothing changes: links stay at the root of the host."""
    with TestClient(create_app(index_db, settings())) as c:
        assert all(u.startswith("/") and not u.startswith(ROOT) for u in local_links(c.get("/").text))


@pytest.mark.parametrize("bad", ["https://library.example.edu/citelens", "/citelens?x=1", "/cite lens"])
def test_serve_refuses_a_root_path_that_is_not_a_path(index_db: Path, bad: str) -> None:
    r = subprocess.run([sys.executable, "-m", "citelens.cli", "serve", "--db", str(index_db), "--root-path", bad],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--root-path" in r.stderr and "/citelens" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("bad", ["proxy.example.edu", "10.0.0.1/8", "127.0.0.1;10.0.0.2"])
def test_serve_refuses_a_forwarded_allow_ips_entry_that_is_no_address(index_db: Path, bad: str) -> None:
    """uvicorn keeps an entry that is not an IP address or network as a literal no client address equals: the
    proxy's X-Forwarded-Proto was then silently not believed and the feed's links said http://. Exit 2 naming it."""
    r = subprocess.run([sys.executable, "-m", "citelens.cli", "serve", "--db", str(index_db), "--forwarded-allow-ips",
                        bad], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--forwarded-allow-ips" in r.stderr and repr(bad.split(",")[0]) in r.stderr
    assert "Traceback" not in r.stderr and "serving" not in r.stderr
    if bad == "10.0.0.1/8":
        assert "10.0.0.0/8" in r.stderr


def test_forwarded_allow_ips_takes_addresses_networks_and_any() -> None:
    assert check_forwarded_allow_ips(" 127.0.0.1, ::1 ,10.0.0.0/8,fd00::/8,") == "127.0.0.1,::1,10.0.0.0/8,fd00::/8"
    assert check_forwarded_allow_ips("*") == "*"
    assert check_forwarded_allow_ips("") == ""  # believe no proxy


def test_the_session_cookie_stays_under_the_prefix(index_db: Path) -> None:
    """Other applications on the library's host (https://library.example.edu/other/) never receive it."""
    s = Settings.from_env({"CITELENS_ROOT_PATH": "citelens/", "CITELENS_CURATORS": "alice=alice-token"})
    assert s.root_path == ROOT
    with TestClient(create_app(index_db, s), root_path=ROOT) as c:
        form = c.get(f"{ROOT}/login")
        assert "path=/citelens;" in form.headers["set-cookie"]
        r = c.post(f"{ROOT}/login", data={"csrf_token": csrf(form.text), "name": "alice", "token": "alice-token"},
                   follow_redirects=False)
        assert r.status_code == 303 and "path=/citelens;" in r.headers["set-cookie"]
    with pytest.raises(ValueError, match="CITELENS_ROOT_PATH"):
        Settings.from_env({"CITELENS_ROOT_PATH": "https://library.example.edu/citelens"})


def feed_links(c: TestClient, headers: dict[str, str] | None = None, root: str = "") -> tuple[int, list[str], str]:
    """(status, every href and id of a new collection's feed, the body) asked with ``headers``."""
    made = c.post(f"{root}/api/collections", json={"name": "Reading list", "dois": [CITED]},
                  headers={"Authorization": "Bearer api-secret"})
    assert made.status_code == 201, made.text
    r = c.get(f"{root}/collections/{made.json()['id']}/feed.atom", params={"since": "2000-01-01"},
              headers=headers or {})
    if r.status_code != 200:
        return r.status_code, [], r.text
    feed = etree.fromstring(r.content)
    links = feed.xpath("//*[local-name()='link']/@href") + feed.xpath("//*[local-name()='id']/text()")
    return r.status_code, links, r.text


def test_a_public_url_starts_every_absolute_link_whatever_the_host_header(index_db: Path, tmp_path: Path) -> None:
    """With `--public-url` (CITELENS_PUBLIC_URL) a forged Host header cannot put another site into the feed that
    readers cache, nor into the badge snippet that editors paste into their pages; the prefix is still added."""
    db = tmp_path / "rw.db"
    shutil.copy(index_db, db)
    s = settings(public_url="https://library.example.edu", root_path=ROOT)
    with TestClient(create_app(db, s), root_path=ROOT) as c:
        status, links, _ = feed_links(c, {"Host": "evil.example.com"}, root=ROOT)
        assert status == 200 and len(links) > 3
        assert all(u.startswith("https://library.example.edu/citelens/") for u in links), links
        badge = c.get(f"{ROOT}/badge", params={"doi": CITED}, headers={"Host": "evil.example.com"}).text
        assert "https://library.example.edu/citelens/static/badge.js" in badge and "evil" not in badge


@pytest.mark.parametrize("host", ['evil.example.com/"><script>alert(1)</script>', "a b", "user@evil.example.com",
                                  "testserver:99999", "[::1", "<x>"])
def test_a_host_header_that_is_no_host_name_is_refused_not_written_into_links(index_db: Path, host: str) -> None:
    """Without a public URL the links follow the Host header, as before; one that is not host[:port] is a 400
    (RFC 9110 asks it), never markup or an odd address in a feed or snippet."""
    with TestClient(create_app(index_db, settings())) as c:
        status, links, body = feed_links(c, {"Host": host})
        assert status == 400 and "Host header" in body and "<script>" not in body
        badge = c.get("/badge", params={"doi": CITED}, headers={"Host": host})
        assert badge.status_code == 400 and "<script>" not in badge.text
        # A real host name still gives today's links, port and IPv6 address included.
        for good, origin in (("library.example.edu", "http://library.example.edu"),
                             ("127.0.0.1:8000", "http://127.0.0.1:8000"), ("[::1]:8000", "http://[::1]:8000")):
            status, links, _ = feed_links(c, {"Host": good})
            assert status == 200 and links and all(u.startswith(origin + "/") for u in links), (good, links)


def test_the_public_url_is_read_from_the_environment_and_checked() -> None:
    s = Settings.from_env({"CITELENS_PUBLIC_URL": " https://Library.Example.edu:8443/ "})
    assert s.public_url == "https://library.example.edu:8443"
    assert Settings.from_env({}).public_url == ""
    for bad in ("library.example.edu", "ftp://library.example.edu", "https://library.example.edu/citelens",
                "https://x.org/?q=1", 'https://a"b.org', "https://user@x.org", "https://x.org:99999"):
        with pytest.raises(ValueError, match="CITELENS_PUBLIC_URL"):
            Settings.from_env({"CITELENS_PUBLIC_URL": bad})


@pytest.mark.parametrize("bad", ["https://library.example.edu/citelens", "library.example.edu"])
def test_serve_refuses_a_public_url_that_is_not_an_origin(index_db: Path, bad: str) -> None:
    r = subprocess.run([sys.executable, "-m", "citelens.cli", "serve", "--db", str(index_db), "--public-url", bad],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--public-url" in r.stderr and repr(bad) in r.stderr
    assert "Traceback" not in r.stderr and "serving" not in r.stderr
