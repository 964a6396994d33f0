"""The fuzz harnesses run (a few seconds each under atheris), and every input a fuzzer ever found stays fixed.

Long runs: see fuzz/run.py (hours per target; docs/benchmarks.md has the command)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fuzz.targets import TARGETS, run_one, seeds

ROOT = Path(__file__).resolve().parent.parent
FOUND = Path(__file__).resolve().parent / "fixtures" / "fuzz"  # fuzz/<target>/<input>: regressions


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_seeds_and_past_findings_end_in_a_result_or_a_citelens_error(name: str) -> None:
    inputs = seeds(name) + [p.read_bytes() for p in sorted((FOUND / name).glob("*"))]
    inputs += [b"", b"\x00" * 64, b"<", b"%PDF-1.7\n", b"\xef\xbb\xbf<article>", "\u202e<ref>".encode()]
    for data in inputs:
        run_one(name, data)  # anything but CiteLensError propagates and fails the test


@pytest.mark.parametrize("name,seconds", [("jats", 4), ("tei", 4), ("reference", 4), ("any", 4), ("pdf", 8)])
def test_short_coverage_guided_run(name: str, seconds: int, tmp_path: Path) -> None:
    pytest.importorskip("atheris")
    corpus = tmp_path / "corpus"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "fuzz" / "run.py"), name, "--seed-corpus", str(corpus),
         f"-max_total_time={seconds}", "-timeout=20", "-rss_limit_mb=2048", "-print_final_stats=1"],
        capture_output=True, text=True, timeout=seconds + 120, cwd=tmp_path)
    tail = proc.stderr[-3000:]
    assert proc.returncode == 0, tail  # a crash writes crash-<sha1> here and exits non-zero
    assert "Done " in tail and "cov:" in tail
