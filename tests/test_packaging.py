"""What an installed CiteLens has: a wheel built from this tree carries the models, templates, migrations and the
stance model card (served at /model-card and quoted on /how-labels-are-made), so a server installed from it is
the server the tests run."""

from __future__ import annotations

import fnmatch
import importlib.metadata
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _setuptools_builds_here() -> bool:
    """The pyproject's build backend can run in this environment without fetching anything (setuptools >= 77,
    which writes wheels itself); a fresh Python 3.11 virtualenv carries setuptools 65, which cannot."""
    try:
        major = int(importlib.metadata.version("setuptools").split(".")[0])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return False
    return major >= 77


def test_the_packaged_model_card_is_the_docs_card() -> None:
    """/model-card answered 404 on an installed server: the card was read from docs/, next to the source only."""
    from citelens.web.render import MODEL_CARD, model_summary

    assert MODEL_CARD.read_bytes() == (ROOT / "docs" / "model-card.md").read_bytes()
    assert model_summary()["status"]


def test_package_data_names_what_the_server_reads() -> None:
    """Checked without building: every file the web layer and the models read matches a package-data pattern."""
    import tomllib

    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"][
        "package-data"]["citelens"]
    package = ROOT / "src" / "citelens"
    for needed in ("stance/model-card.md", "web/templates/report.html", "web/static/style.css", "py.typed"):
        assert (package / needed).is_file(), needed
        assert any(fnmatch.fnmatch(needed, p) for p in patterns), needed


@pytest.mark.skipif(not _setuptools_builds_here(), reason="setuptools >= 77 is not installed here")
def test_a_wheel_carries_what_the_server_reads(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
                             "-q", "-w", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    wheel = next(tmp_path.glob("citelens-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        card = z.read("citelens/stance/model-card.md")
    assert card == (ROOT / "docs" / "model-card.md").read_bytes()  # a copy, not a link into docs/
    for needed in ("citelens/web/templates/report.html", "citelens/web/static/style.css", "citelens/py.typed",
                   "citelens/places/gazetteer.tsv.gz"):
        assert needed in names, needed
    assert any(n.startswith("citelens/store/migrations/sqlite/") for n in names)
    assert any(n.startswith("citelens/stance/models/") for n in names)
    assert wheel.stat().st_size < 100_000_000
