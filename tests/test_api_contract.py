"""API contract: requests generated from /openapi.json (schemathesis + Hypothesis), valid and invalid ones,
never get a 5xx and never raise out of the app.

A short bounded run here (a few dozen examples per operation and mode, in-process; the app's own
exceptions propagate through the test client). ``benchmarks/bench_api_contract.py`` runs many more
against a real ``citelens serve``. Writes go to a private copy of the index."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402 - after the importorskip
from hypothesis.errors import Unsatisfiable  # noqa: E402

from citelens.pipeline import ingest_paths  # noqa: E402
from citelens.store import open_store  # noqa: E402
from citelens.web.app import create_app  # noqa: E402
from citelens.web.settings import Settings  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TOKEN = "contract-token"
EXAMPLES = 20


def operation_labels() -> list[str]:
    spec = create_app(FIXTURES / "no-such.db", Settings(secret_key="k")).openapi()  # opens nothing
    return [f"{m.upper()} {p}" for p, ops in spec["paths"].items() for m in ops]


@pytest.fixture(scope="module")
def web_schema(tmp_path_factory: pytest.TempPathFactory) -> Any:
    db = tmp_path_factory.mktemp("contract") / "index.db"
    store = open_store(db)
    ingest_paths([FIXTURES / "mini-jats.xml", FIXTURES / "xss-article.xml", FIXTURES / "xss-retraction.xml"],
                 store, classifier="cues")
    store.close()
    shutil.copy(db, db.with_name("rw.db"))
    app = create_app(db.with_name("rw.db"), Settings(api_token=TOKEN, secret_key="k", cache_seconds=0))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.parametrize("mode", ["positive", "negative"])
@pytest.mark.parametrize("label", operation_labels())
def test_no_server_error_for_generated_requests(web_schema: Any, label: str, mode: str) -> None:
    from schemathesis import GenerationMode

    operation = web_schema.find_operation_by_label(label)
    assert operation is not None, label
    strategy = operation.as_strategy(generation_mode=GenerationMode(mode))

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    @given(strategy)
    def check(case: Any) -> None:
        headers = {"Authorization": f"Bearer {TOKEN}"} if case.method == "POST" else None
        response = case.call(headers=headers)  # an exception in the app would propagate here
        assert response.status_code < 500, (case.method, case.formatted_path, case.query, case.body,
                                             response.status_code, response.text[:300])

    try:
        check()
    except Unsatisfiable:
        # Nothing in the operation can be made invalid (no parameters, or a catch-all path): nothing to send.
        assert mode == "negative"
