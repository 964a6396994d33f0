"""One source of shapes: real API, CLI and export output checked against the OpenAPI description.

The schemas come from ``/openapi.json`` (built from :mod:`citelens.serialize`'s models); every object
must have exactly the documented fields with the documented types.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from citelens.cli import main
from citelens.serialize import EXPORT_FIELDS
from citelens.web.app import create_app
from citelens.web.settings import Settings
from test_web import CITED, build_index

TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool, "array": list, "object": dict,
         "null": type(None)}


def validate(value: Any, schema: dict[str, Any], spec: dict[str, Any], where: str = "$") -> None:
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if "anyOf" in schema:
        errors = []
        for option in schema["anyOf"]:
            try:
                validate(value, option, spec, where)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{where}: matches no option: {errors}")
    t = schema.get("type")
    if t:
        assert isinstance(value, TYPES[t]) and not (t in ("integer", "number") and isinstance(value, bool)), \
            f"{where}: {value!r} is not {t}"
    if t == "object" and "properties" in schema:
        props = schema["properties"]
        missing = set(schema.get("required", [])) - set(value)
        assert not missing, f"{where}: missing {missing}"
        if schema.get("additionalProperties") is False:
            assert set(value) <= set(props), f"{where}: undocumented fields {set(value) - set(props)}"
        for k, v in value.items():
            if k in props:
                validate(v, props[k], spec, f"{where}.{k}")
    if t == "array" and "items" in schema:
        for i, item in enumerate(value):
            validate(item, schema["items"], spec, f"{where}[{i}]")


@pytest.fixture(scope="module")
def index_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("shapes") / "index.db")


@pytest.fixture(scope="module")
def client(index_db: Path) -> TestClient:
    with TestClient(create_app(index_db, Settings(secret_key="k"))) as c:
        yield c


@pytest.fixture(scope="module")
def spec(client: TestClient) -> dict[str, Any]:
    return client.get("/openapi.json").json()


def response_schema(spec: dict[str, Any], path: str, method: str = "get") -> dict[str, Any]:
    return spec["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]


@pytest.mark.parametrize("template,url", [
    ("/api/tallies/{doi}", f"/api/tallies/{CITED}"),
    ("/api/tallies/{doi}/sections", f"/api/tallies/{CITED}/sections"),
    ("/api/tallies/cited-by-sections/{doi}", f"/api/tallies/cited-by-sections/{CITED}"),
    ("/api/papers/{doi}", f"/api/papers/{CITED}"),
    ("/api/citations/{doi}", f"/api/citations/{CITED}"),
    ("/api/search", "/api/search?q=sentinel"),
    ("/api/search/match_reference", "/api/search/match_reference?title=x&first_author=Barnes"),
    ("/api/statements/{statement_id}", "/api/statements/1"),
    ("/api/health", "/api/health"),
    ("/api/works", "/api/works?q=sentinel"),
    ("/api/works", f"/api/works?q={CITED}"),
    ("/api/citations/{doi}", f"/api/citations/{CITED}?per_page=2&page=2"),  # pages, next and prev
    ("/api/search", "/api/search?q=sentinel&page=2"),
])
def test_api_responses_match_openapi(client: TestClient, spec: dict[str, Any], template: str, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 200, r.text
    validate(r.json(), response_schema(spec, template), spec)


@pytest.mark.parametrize("path,body", [
    ("/api/tallies", [CITED, "10.5555/not-indexed", None]),
    ("/api/tallies/cited-by-sections", [CITED]),
    ("/api/papers", [CITED, ""]),
])
def test_batch_answers_match_openapi(client: TestClient, spec: dict[str, Any], path: str, body: list[Any]) -> None:
    r = client.post(path, json=body)
    assert r.status_code == 200 and r.json()[next(iter(r.json()))], r.text
    validate(r.json(), response_schema(spec, path, "post"), spec)


def test_every_json_route_documents_its_shape(spec: dict[str, Any]) -> None:
    undocumented = [f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m, op in ops.items()
                    if m == "get" and p.startswith("/api/") and "content" not in op["responses"].get("200", {})]
    assert not undocumented


@pytest.mark.parametrize("method,url,status", [
    ("get", "/api/tallies/10.5555/not-indexed", 404),
    ("get", "/tallies/10.5555/not-indexed", 404),  # scite's path at the root
    ("get", "/api/statements/999999", 404),
    ("get", "/api/nothing-here", 404),
    ("get", f"/api/citations/{CITED}?per_page=1000", 400),
    ("get", f"/api/citations/{CITED}?page=abc", 422),
    ("get", "/api/statements/0", 422),
    ("get", "/api/search", 422),
    ("get", "/api/search?q=x&sort=newest", 400),
    ("get", "/api/flows?by=planet", 400),
    ("get", "/api/journals/0000-0000", 404),
    ("get", "/api/collections/999", 404),
    ("post", "/api/tallies", 422),
    ("post", "/api/check", 400),
    ("delete", f"/api/tallies/{CITED}", 405),
])
def test_errors_match_the_published_error_shape(client: TestClient, spec: dict[str, Any], method: str, url: str,
                                                status: int) -> None:
    """Every JSON error has the one shape /openapi.json describes: a client reads "error" whatever the status (422
    was documented as FastAPI's {"detail": [...]}, which this server never sends; 400 and 404 not at all)."""
    r = client.request(method, url, content=b"{" if method == "post" else None,
                       headers={"Content-Type": "application/json"} if method == "post" else {})
    assert r.status_code == status, r.text
    body = r.json()
    validate(body, {"$ref": "#/components/schemas/Error"}, spec)
    assert body["status"] == status and body["error"]
    assert ("details" in body) == (status == 422)


def test_openapi_documents_errors_and_media_types_as_sent(spec: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if path == "/badge.svg":  # an SVG whatever the status; an unknown DOI is a "not indexed" badge, 200
                assert {k: list(v["content"]) for k, v in op["responses"].items()} == {
                    "200": ["image/svg+xml"], "400": ["image/svg+xml"], "422": ["image/svg+xml"]}
                continue
            for status in ("400", "404", "422"):
                content = op["responses"][status]["content"]
                assert content == {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}, \
                    (method, path, status)
    assert list(spec["paths"]["/badge.svg"]["get"]["responses"]["200"]["content"]) == ["image/svg+xml"]
    # A documented shape is the model alone: no free-form "additionalProperties": true beside its $ref.
    mixed = [(p, m, status) for p, ops in spec["paths"].items() for m, op in ops.items()
             for status, answer in op["responses"].items() for media in answer.get("content", {}).values()
             if "$ref" in media.get("schema", {}) and set(media["schema"]) != {"$ref"}]
    assert not mixed
    feed = spec["paths"]["/collections/{collection_id}/feed.atom"]["get"]["responses"]["200"]["content"]
    assert list(feed) == ["application/atom+xml"]


def test_badge_and_feed_are_served_as_documented(client: TestClient) -> None:
    assert client.get("/badge.svg", params={"doi": CITED}).headers["content-type"].startswith("image/svg+xml")
    assert client.get("/badge.svg").headers["content-type"].startswith("image/svg+xml")  # 422, still a badge


def test_cli_and_export_use_the_api_statement_shape(index_db: Path, spec: dict[str, Any]) -> None:
    statement = {"$ref": "#/components/schemas/Statement"}
    runner = CliRunner()
    out = runner.invoke(main, ["report", CITED, "--db", str(index_db), "--json"])
    assert out.exit_code == 0, out.output
    for st in json.loads(out.output)["statements"]:
        validate(st, statement, spec, "report")
    out = runner.invoke(main, ["search", "sentinel", "--db", str(index_db), "--json"])
    for st in json.loads(out.output)["results"]:
        validate(st, statement, spec, "search")
    out = runner.invoke(main, ["export", "--db", str(index_db)])
    rows = [json.loads(line) for line in out.output.splitlines()]
    assert rows
    for st in rows:
        validate(st, statement, spec, "export")
    out = runner.invoke(main, ["export", "--db", str(index_db), "--format", "csv"])
    header = next(csv.reader(io.StringIO(out.output)))
    assert tuple(header) == EXPORT_FIELDS
    assert set(EXPORT_FIELDS) <= set(spec["components"]["schemas"]["Statement"]["properties"])


def test_api_docs_page_lists_every_parameter_with_values_and_example(client: TestClient, spec: dict[str, Any]) -> None:
    import re

    html = client.get("/docs").text
    for path, ops in spec["paths"].items():
        for op in ops.values():
            for p in op.get("parameters", []):
                assert f"<code>{p['name']}</code>" in html, (path, p["name"])
    rows = re.findall(r'<td class="allowed">(.*?)</td><td>.*?</td><td class="example">(.*?)</td>', html)
    assert rows and all(allowed.strip() not in ("", "any") and example.strip() for allowed, example in rows), \
        [r for r in rows if not (r[0].strip() and r[1].strip())]
