"""The server's edges: ids validated before they reach the database, security headers on every response
(500s included), body limits on chunked bodies, the API token checked before the body, pasted text on
/check read as text."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from citelens.pipeline import ingest_paths
from citelens.store import open_store
from citelens.web.app import create_app
from citelens.web.settings import Settings

FIXTURES = Path(__file__).resolve().parent / "fixtures"
HUGE = str(2**64 + 5)  # past SQLite's integer range: used to raise OverflowError → 500


@pytest.fixture(scope="module")
def index_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("edges") / "index.db"
    store = open_store(path)
    summary = ingest_paths([FIXTURES / "mini-jats.xml"], store, classifier="cues")
    store.close()
    assert summary.stored == 1
    return path


@pytest.fixture
def client(index_db: Path) -> Iterator[TestClient]:
    settings = Settings(api_token="tok", secret_key="k", max_upload_bytes=4096)
    with TestClient(create_app(index_db, settings), raise_server_exceptions=False) as c:
        yield c


@pytest.mark.parametrize("url", [
    f"/api/statements/{HUGE}", f"/statements/{HUGE}", f"/reports/W{HUGE}", f"/api/tallies/W{HUGE}",
    f"/api/tallies/W{HUGE}/sections", f"/api/citations/W{HUGE}", f"/api/papers/W{HUGE}",
    f"/badge.svg?doi=W{HUGE}", "/api/statements/0", "/api/statements/-1", f"/reports/W{'9' * 5000}",
    "/reports/W\u00b2\u00b3",  # superscript digits pass str.isdigit() but not int()
])
def test_ids_out_of_range_are_client_errors(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code in (200, 400, 404, 422), (url, r.status_code, r.text[:200])
    if url.startswith("/badge"):
        assert r.headers["content-type"].startswith("image/svg+xml")


def test_huge_id_on_a_write_route(client: TestClient) -> None:
    r = client.post(f"/api/statements/{HUGE}/correction", json={"type": "supporting"},
                    headers={"Authorization": "Bearer tok"})
    assert r.status_code == 422


def test_500_responses_carry_the_security_headers(client: TestClient, index_db: Path) -> None:
    ctx = client.app.state.context  # type: ignore[attr-defined]

    def broken() -> dict[str, int]:
        raise RuntimeError("simulated bug")

    ctx.stats = broken
    for url in ("/api/health", "/"):
        r = client.get(url)
        assert r.status_code == 500
        assert "default-src 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-frame-options"] == "DENY"
        assert "simulated bug" not in r.text and "Traceback" not in r.text


def test_a_failing_badge_is_still_an_image(client: TestClient) -> None:
    """A 500 or 503 on /badge.svg answers an SVG badge too (an <img> elsewhere shows it), without the details."""
    ctx = client.app.state.context  # type: ignore[attr-defined]

    def broken(*_args: object) -> dict[str, int]:
        raise RuntimeError("simulated bug")

    ctx.tallies_of = broken
    r = client.get("/badge.svg", params={"doi": "10.1128/jb.187.1.55"})
    assert r.status_code == 500 and r.headers["content-type"].startswith("image/svg+xml")
    assert "server error" in r.text and "simulated bug" not in r.text and r.headers["cache-control"] == "no-store"
    assert "default-src 'none'" in r.headers["content-security-policy"]


def test_oversized_chunked_json_body_is_413(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit can only be seen while reading
        yield b'["10.1/' + b"x" * 60_000
        for _ in range(10):
            yield b"y" * 60_000
        yield b'"]'

    r = client.post("/api/tallies", content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413, r.text  # was 400 "There was an error parsing the body"
    assert "maximum size" in r.json()["error"]


def test_body_limit_quotes_the_configured_limit(client: TestClient) -> None:
    """The 413 names CITELENS_MAX_UPLOAD_BYTES (4 KiB here), not the limit plus the 64 KiB the middleware allows
    for multipart framing around an upload of that size (it said "68 KiB")."""
    big = b'["' + b"x" * 80_000 + b'"]'
    declared = client.post("/api/tallies", content=big, headers={"Content-Type": "application/json"})

    def chunks() -> Iterator[bytes]:
        yield big

    chunked = client.post("/api/tallies", content=chunks(), headers={"Content-Type": "application/json"})
    for r in (declared, chunked):
        assert r.status_code == 413 and r.json()["error"] == "request body exceeds the maximum size (4 KiB)", r.text


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2, 3]", b'{"type": 5}'])
def test_token_is_checked_before_the_body(client: TestClient, body: bytes) -> None:
    r = client.post("/api/statements/1/correction", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 401, r.text  # was 422: the body was validated before the token was looked at
    r = client.post("/api/statements/1/correction", content=body,
                    headers={"Content-Type": "application/json", "Authorization": "Bearer wrong"})
    assert r.status_code == 401
    r = client.post("/api/statements/1/correction", content=body,
                    headers={"Content-Type": "application/json", "Authorization": "Bearer tok"})
    assert r.status_code in (400, 422)


def test_pasted_text_starting_with_angle_bracket_is_read_as_lines(client: TestClient) -> None:
    page = client.get("/check").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    text = ("<Barnes T> (2001) Sentinel behaviour in bacterial colonies. Microbiology.\n"
            "<2> Smith J (2005) Growth arrest in E. coli. J Bacteriol 187: 55-60.\n")
    r = client.post("/check", data={"csrf_token": token, "text": text})
    assert r.status_code == 200, r.text[:500]  # was 400 "could not read the JATS file"
    assert "could not read the JATS file" not in r.text and "Sentinel behaviour" in r.text


@pytest.mark.parametrize("url", ["/", "/search?q=growth", "/reports/W1", "/check", "/collections", "/docs", "/flows",
                                 "/how-labels-are-made", "/badge", "/badge.svg?doi=W1", "/static/badge.js",
                                 "/api/health", "/api/tallies/W1", "/api/citations/W1", "/tallies/W1",
                                 "/reports/10.9999/not-here", "/api/tallies/10.9999/not-here"])
def test_head_is_answered_like_get_without_a_body(client: TestClient, url: str) -> None:
    """HEAD is GET without the body (RFC 9110 9.3.2), which link checkers and `curl -I` rely on; it was 405 on
    every page and read endpoint although their CORS preflight and 405 answers list HEAD as allowed."""
    got = client.get(url)
    head = client.head(url)
    assert head.status_code == got.status_code, (url, head.status_code)
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == got.headers["content-length"]
    assert "default-src 'none'" in head.headers["content-security-policy"]


def test_head_through_uvicorn(index_db: Path) -> None:
    """The real server sends the GET's Content-Length and no body (an empty body after that length would be a
    protocol error there, which TestClient does not see)."""
    import httpx

    from live_server import live_server

    with live_server(create_app(index_db, Settings(secret_key="k")), range(18740, 18760)) as base, \
            httpx.Client(base_url=base) as http:
        for url in ("/", "/api/tallies/W1", "/reports/10.9999/not-here"):
            got, head = http.get(url), http.head(url)
            assert (head.status_code, head.content) == (got.status_code, b""), url
            assert head.headers["content-length"] == str(len(got.content)), url
        # A POST-only route still says which methods it takes.
        r = http.head("/api/tallies")
        assert r.status_code == 405 and "POST" in r.headers["allow"]


@pytest.mark.parametrize(("method", "url", "allow"), [
    ("POST", "/api/collections/1", "DELETE, GET, HEAD"),
    ("PUT", "/api/collections/1/items", "DELETE, POST"),
    ("DELETE", "/api/search", "GET, HEAD"),
    ("PATCH", "/api/statements/1", "GET, HEAD"),
    ("POST", "/", "GET, HEAD"),
])
def test_405_allow_names_every_method_served_at_the_path(client: TestClient, method: str, url: str,
                                                         allow: str) -> None:
    """RFC 9110 15.5.6: Allow lists what the path serves. Each method is its own route, and the 405 named only the
    first route that matched the path: `POST /api/collections/1` said `Allow: GET` though DELETE is served there."""
    r = client.request(method, url)
    assert r.status_code == 405 and r.headers["allow"] == allow, (r.status_code, r.headers.get("allow"))


@pytest.mark.parametrize(("method", "url"), [
    ("POST", "/api/statements/1/correction"), ("POST", "/api/collections"),
    ("POST", "/api/collections/1/items"), ("DELETE", "/api/collections/1/items?doi=10.1/x"),
    ("DELETE", "/api/collections/1"),
])
def test_every_api_write_asks_for_the_token_the_same_way(client: TestClient, method: str, url: str) -> None:
    """401 with `WWW-Authenticate: Bearer` (RFC 9110 11.6.1) before the body is read: the collection writes
    validated a malformed body first and answered 422."""
    r = client.request(method, url, content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 401, r.text
    assert r.headers["www-authenticate"].startswith("Bearer") and "token" in r.json()["error"]


def test_openapi_documents_the_token_on_every_write(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    scheme = spec["components"]["securitySchemes"]["apiToken"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    writes = [(path, m, op) for path, item in spec["paths"].items() for m, op in item.items()
              if m in ("post", "delete") and "token" in op.get("summary", "")]
    assert len(writes) == 5, [(p, m) for p, m, _ in writes]
    for path, m, op in writes:
        assert op["security"] == [{"apiToken": []}], (path, m)
        assert {"401", "403"} <= set(op["responses"]), (path, m)
    # Reads are open: no token asked.
    assert "security" not in spec["paths"]["/api/search"]["get"]
