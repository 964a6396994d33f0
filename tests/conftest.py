from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def shared_data() -> Path:
    if not (SHARED_DATA / "plos-starter").is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture
def mini_jats() -> bytes:
    return (FIXTURES / "mini-jats.xml").read_bytes()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "index.db"
