"""The public API: what ``citelens`` exports (pinned), that importing it stays cheap, that the README's Python
example runs, and that the package is ruff- and mypy-clean (it ships ``py.typed``)."""

from __future__ import annotations

import importlib.util
import inspect
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

import citelens

ROOT = Path(__file__).resolve().parents[1]

PUBLIC = {
    "__version__",
    # the document model
    "SECTIONS", "STANCES", "Affiliation", "Author", "Callout", "CitationStatement", "Document", "Paragraph",
    "Reference", "RelatedArticle",
    # errors
    "CiteLensError", "HostileInputError", "InputError", "InputTooLargeError", "MalformedInputError", "ModelError",
    "NotFoundError", "StoreError", "UnsupportedFormatError",
    # stages, store and ingest
    "parse_document", "locate_authors", "build_statements", "resolve_references", "flag_self_citations",
    "classify_statements", "get_classifier", "register_classifier", "available_classifiers", "StanceClassifier",
    "StanceInput", "StancePrediction", "open_store", "Store", "Pipeline", "IngestSummary", "ingest_paths",
    "process_document",
}


def test_exports_are_pinned() -> None:
    # Adding a name is a decision (update PUBLIC); removing or renaming one breaks users.
    assert set(citelens.__all__) == PUBLIC
    assert len(citelens.__all__) == len(PUBLIC)


def test_every_export_resolves_and_functions_are_typed() -> None:
    for name in citelens.__all__:
        value = getattr(citelens, name)
        if inspect.isfunction(value):
            sig = inspect.signature(value)
            assert sig.return_annotation is not inspect.Signature.empty, name
            assert all(p.annotation is not inspect.Parameter.empty for p in sig.parameters.values()), name
    assert issubclass(citelens.InputError, citelens.CiteLensError)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        citelens.nope  # noqa: B018 - the access is the test


def test_import_is_cheap() -> None:
    # The stages are loaded on first use: ``import citelens`` for a Document or an exception does not load
    # numpy, the stance runtime or a database driver.
    code = ("import sys, citelens; from citelens import Document, CiteLensError; "
            "print(sorted(m for m in ('numpy', 'onnxruntime', 'psycopg', 'citelens.store', 'citelens.stance') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_readme_python_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Python API"):]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code, "README has no Python example"
    # Three bundled demo articles citing the example's DOI (Boyden et al. 2005), as "articles/".
    articles = tmp_path / "articles"
    articles.mkdir()
    with tarfile.open(ROOT / "data" / "demo-corpus" / "pmc-optogenetics.tar.gz") as tar:
        for member in tar:
            fh = tar.extractfile(member) if member.isfile() else None
            data = fh.read() if fh is not None else b""
            if b"10.1038/nn1525" in data and len(list(articles.iterdir())) < 3:
                (articles / Path(member.name).name).write_bytes(data)
    assert len(list(articles.iterdir())) == 3
    monkeypatch.chdir(tmp_path)
    exec(compile(code.group(1), "README.md", "exec"), {})  # noqa: S102 - our own README
    out = capsys.readouterr().out
    assert out.startswith("3 stored, 0 documents failed")
    assert (tmp_path / "index.db").is_file()


def _tool(module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not installed (pip install -e '.[dev]')")


def test_ruff_clean() -> None:
    _tool("ruff")
    done = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]


def test_mypy_clean() -> None:
    # pyproject.toml [tool.mypy] says what is checked: the package, which ships py.typed.
    _tool("mypy")
    done = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(ROOT / ".mypy_cache")], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-1000:]
