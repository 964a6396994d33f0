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
    if t == "object" and isinstance(schema.get("additionalProperties"), dict):  # a map: every value has the shape
        for k, v in value.items():
            validate(v, schema["additionalProperties"], spec, f"{where}[{k!r}]")
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


def response_schema(spec: dict[str, Any], path: str, method: str = "get", status: str = "200") -> dict[str, Any]:
    return spec["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]


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
    """Every JSON route under /api, whatever its method, publishes the shape of its success answer (a route
    without one appears to generated clients as a free-form object)."""
    def named(op: dict[str, Any]) -> bool:
        # FastAPI describes a route that returns a dict as {"type": "object", "additionalProperties": true}: JSON,
        # but no shape. A documented answer is a named schema.
        return any("$ref" in op["responses"].get(status, {}).get("content", {}).get("application/json", {}).get(
            "schema", {}) for status in ("200", "201"))

    undocumented = [f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m, op in ops.items()
                    if p.startswith("/api/") and not named(op)]
    assert not undocumented
    # Free-form objects hide shapes too: every object a documented answer reaches names its fields or its values.
    free = [f"{name}.{field}" for name, schema in spec["components"]["schemas"].items()
            for field, prop in schema.get("properties", {}).items()
            if prop.get("type") == "object" and not isinstance(prop.get("additionalProperties"), dict)]
    assert not free


def profiles_index(db: Path | str, tmp: Path) -> str:
    """An index with something in every answer of the profile, flows and collection routes: an author with seven
    works (paged), a journal with ISSNs, affiliations matched to ROR ids, and the knowledge-flow corpus of
    docs/flows.md. Returns the paged author's id."""
    from citelens.pipeline import Pipeline, ingest_paths, read_bytes_input
    from citelens.store import open_store
    from flows_corpus import write_corpus
    from test_author_pages import build as build_author
    from test_journals import article, citing

    store = open_store(db)
    try:
        author = build_author(store)
        summary = Pipeline(store, "cues").ingest([
            read_bytes_input("ja.xml", article("10.1234/ja", 2019)),
            read_bytes_input("jc1.xml", citing("10.1234/jc1", 2023, "10.1234/ja")),
            read_bytes_input("jc2.xml", citing("10.1234/jc2", 2016, "10.1234/ja"))])
        assert summary.failed == [], summary.failed
        assert ingest_paths(write_corpus(tmp / "flows"), store, "cues").failed == []
    finally:
        store.close()
    return author


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_profile_flow_collection_and_correction_answers_match_openapi(
        backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    """The answers of the author, institution and journal finders and profiles, /api/flows, the collection routes
    and a statement's corrections, from real data on each backend, have the published shapes: every field
    documented, none missing, types and nulls as declared. Each list checked holds something, so no shape passes
    for want of data."""
    db: Path | str = tmp_path / "p.db" if backend == "sqlite" else request.getfixturevalue("pg_url")
    author = profiles_index(db, tmp_path)
    auth = {"Authorization": "Bearer t"}
    with TestClient(create_app(db, Settings(secret_key="k", api_token="t"))) as c:
        spec = c.get("/openapi.json").json()

        def check(method: str, template: str, url: str, *, status: int = 200, **kw: Any) -> dict[str, Any]:
            r = c.request(method, url, **kw)
            assert r.status_code == status, (url, r.text)
            body = r.json()
            validate(body, response_schema(spec, template, method, str(status)), spec, f"{method} {url}")
            return body

        found = check("get", "/api/authors", "/api/authors?q=Okafor")
        assert found["authors"] and found["authors"][0]["id"] == author
        whole = check("get", "/api/authors/{author_id}", f"/api/authors/{author}")
        assert whole["works"] and whole["coauthors"] == [] and whole["works_next"] is None
        paged = check("get", "/api/authors/{author_id}", f"/api/authors/{author}?per_page=3&min_confidence=0.5")
        assert paged["works_next"] and paged["min_confidence"] == 0.5
        smith = check("get", "/api/authors", "/api/authors?q=Smith")["authors"][0]["id"]
        assert check("get", "/api/authors/{author_id}", f"/api/authors/{smith}")["affiliations"]

        hits = check("get", "/api/institutions", "/api/institutions?q=Toronto")["institutions"]
        assert hits and hits[0]["ror"]
        inst = check("get", "/api/institutions/{ror}", f"/api/institutions/{hits[0]['ror']}")
        assert inst["windows"] and inst["tallies"]["total"]

        assert check("get", "/api/journals", "/api/journals?q=1544-9173")["journals"]
        journal = check("get", "/api/journals/{ident}", "/api/journals/1544-9173?min_confidence=auto")
        assert journal["most_cited"] and journal["windows"] and journal["names"]

        flows = check("get", "/api/flows", "/api/flows")
        assert flows["top_pairs"] and flows["map"]["points"] and flows["map"]["arcs"]
        assert flows["chi2"]["statistic"] is not None and flows["localisation"]["ratio"] is not None
        narrow = check("get", "/api/flows", "/api/flows?by=country&type=mentioning&section=discussion&top=1")
        assert list(narrow["by_section"]) == ["discussion"] and "reason" in narrow["chi2"]

        made = check("post", "/api/collections", "/api/collections", status=201, headers=auth,
                     json={"name": "Shapes", "dois": ["10.1234/ja", "10.5555/cited.c4"]})
        cid = made["id"]
        assert check("get", "/api/collections", "/api/collections")["collections"]
        alerts = check("get", "/api/collections/{collection_id}/alerts",
                       f"/api/collections/{cid}/alerts?since=2000-01-01&limit=2")
        assert alerts["alerts"] and alerts["truncated"] and alerts["next_until"]
        assert check("post", "/api/collections/{collection_id}/items", f"/api/collections/{cid}/items",
                     headers=auth, json={"dois": ["10.1234/p1", "10.1234/ja"]})["already_in"] == 1
        removed = check("delete", "/api/collections/{collection_id}/items",
                        f"/api/collections/{cid}/items?doi=10.1234/p1&position=99", headers=auth)
        assert removed["not_found"] == ["position 99"]
        assert check("delete", "/api/collections/{collection_id}", f"/api/collections/{cid}",
                     headers=auth) == {"deleted": cid}

        sid = c.get("/api/citations/10.1234/ja").json()["citations"][0]["id"]
        assert c.post(f"/api/statements/{sid}/correction", headers=auth,
                      json={"type": "contrasting", "curator": "alice", "note": "n"}).status_code == 200
        history = check("get", "/api/statements/{statement_id}/corrections", f"/api/statements/{sid}/corrections")
        assert history["corrections"]


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


def test_cli_profiles_and_flows_use_the_api_shapes(tmp_path: Path, spec: dict[str, Any]) -> None:
    """``citelens author|institution|journal|flows --json`` give the objects the API answers with (docs/web.md says
    "the same object"), one shape for both."""
    from citelens import serialize as S

    db = tmp_path / "p.db"
    author = profiles_index(db, tmp_path)
    runner = CliRunner()

    def run(*args: str) -> Any:
        out = runner.invoke(main, [*args, "--db", str(db), "--json"])
        assert out.exit_code == 0, out.output
        return json.loads(out.output)

    # The CLI's author lacks only the API's page of works: its own model, in the same terms as the spec.
    figures = S.AuthorFigures.model_json_schema(ref_template="#/components/schemas/{model}")
    with_figures = {"components": {"schemas": {**spec["components"]["schemas"], **figures.pop("$defs", {})}}}
    (found,) = run("author", author)["authors"]
    assert found["works"]
    validate(found, figures, with_figures, "author")
    ror = run("institution", "Toronto")["institutions"][0]["ror"]
    (inst,) = run("institution", ror)["institutions"]
    assert inst["works_list"] and inst["authors_list"]
    inst_figures = S.InstitutionFigures.model_json_schema(ref_template="#/components/schemas/{model}")
    with_inst = {"components": {"schemas": {**spec["components"]["schemas"], **inst_figures.pop("$defs", {})}}}
    validate(inst, inst_figures, with_inst, "institution")
    (journal,) = run("journal", "1544-9173")["journals"]
    assert journal["most_cited"]
    validate(journal, {"$ref": "#/components/schemas/JournalProfile"}, spec, "journal")
    flows = run("flows", "--by", "region")
    assert flows.pop("db") == str(db) and flows["top_pairs"]  # the CLI names the index it read
    validate(flows, {"$ref": "#/components/schemas/FlowReport"}, spec, "flows")


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


@pytest.mark.parametrize("by", ["cited", "supporting", "contrasting"])
def test_top_works_answer_one_shape_in_the_api_and_the_cli(by: str, client: TestClient, index_db: Path,
                                                           spec: dict[str, Any]) -> None:
    """GET /api/works/top and ``citelens top --json`` are one function (citelens.rankings) and one shape (TopWorks):
    the API adds only its page links."""
    api = client.get("/api/works/top", params={"by": by, "per_page": 3}).json()
    validate(api, {"$ref": "#/components/schemas/TopWorks"}, spec, by)
    out = CliRunner().invoke(main, ["top", "--by", by, "--per-page", "3", "--db", str(index_db), "--json"])
    assert out.exit_code == 0, out.output
    cli = json.loads(out.output)
    validate(cli, {"$ref": "#/components/schemas/TopWorks"}, spec, by)
    assert {k: v for k, v in api.items() if k not in ("next", "prev")} == cli
    assert api["works"] and [w["rank"] for w in api["works"]] == list(range(1, len(api["works"]) + 1))
    counted = {"cited": "citingPublications", "supporting": "supporting", "contrasting": "contradicting"}[by]
    assert [w["count"] for w in api["works"]] == [w["tallies"][counted] for w in api["works"]]
    assert [w["count"] for w in api["works"]] == sorted((w["count"] for w in api["works"]), reverse=True)
