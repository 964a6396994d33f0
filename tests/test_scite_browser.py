"""scite's badge code path in a real browser: a page on another origin (another port) calls the batch
endpoints with a JSON body, so Chromium sends a real CORS preflight first — the request that got 405 before.

Debian's /usr/bin/chromium through Playwright; skipped without them.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chromium import why_no_browser
from citelens.web.app import create_app
from citelens.web.settings import Settings
from live_server import free_port, live_server
from test_web import CITED, build_index

pytestmark = pytest.mark.browser
if reason := why_no_browser():
    pytest.skip(reason, allow_module_level=True)

# What scite's badge does (scite-extension src/badge): POST a JSON array of DOIs to /tallies, /papers and
# /tallies/cited-by-sections with Accept and Content-Type: application/json, then read the fields.
THIRD_PARTY_PAGE = """<!doctype html><html><body><div id="out">pending</div><script>
const api = "%(api)s";
const post = (path) => fetch(api + path, {method: "POST", body: JSON.stringify(["%(doi)s", null]),
  headers: {Accept: "application/json", "Content-Type": "application/json"}}).then(r => r.json());
Promise.all([post("/tallies"), post("/papers"), post("/tallies/cited-by-sections")]).then(([t, p, s]) => {
  const tally = t.tallies["%(doi)s"];
  const statuses = p.papers["%(doi)s"].editorialNotices.map(({status}) => status.toLowerCase());
  document.getElementById("out").textContent = [tally.supporting, tally.contradicting, tally.mentioning,
    tally.citingPublications, statuses.join("|"), s.tallies["%(doi)s"].results].join(",");
}).catch(e => { document.getElementById("out").textContent = "error: " + e; });
</script></body></html>"""


SEEN: list[tuple[str, str]] = []


def recording(app: Any) -> Any:
    """The app, noting each request's method and path (to see the browser's preflights arrive)."""

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            SEEN.append((scope["method"], scope["path"]))
        await app(scope, receive, send)

    return wrapped


@pytest.fixture(scope="module")
def api_base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = build_index(tmp_path_factory.mktemp("scite-browser") / "index.db")
    with live_server(recording(create_app(db, Settings(secret_key="k"))), range(18460, 18480)) as url:
        yield url


@pytest.fixture(scope="module")
def third_party(api_base: str) -> Iterator[str]:
    """A plain static page on another origin (port), as a journal's article page would be."""
    body = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            for suffix in ("api", ""):
                if self.path == f"/{suffix}.html":
                    data = body[suffix]
                    break
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    body["api"] = (THIRD_PARTY_PAGE % {"api": api_base + "/api", "doi": CITED}).encode()
    body[""] = (THIRD_PARTY_PAGE % {"api": api_base, "doi": CITED}).encode()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port(range(18480, 18490))), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(10)


@pytest.mark.parametrize("base", ["api", ""], ids=["api-prefix", "bare-host"])
def test_badge_calls_work_from_another_origin(third_party: str, base: str, new_page: Callable[..., Any]) -> None:
    page = new_page()
    SEEN.clear()
    page.goto(f"{third_party}/{base}.html")
    page.wait_for_function("document.getElementById('out').textContent !== 'pending'", timeout=15_000)
    out = page.inner_text("#out")
    assert out == "1,1,3,1,retracted,2", out
    prefix = "/api" if base else ""
    assert {("OPTIONS", f"{prefix}{p}") for p in ("/tallies", "/papers", "/tallies/cited-by-sections")} <= set(SEEN)
