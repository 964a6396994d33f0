"""kill -9 during an ingest, and two ingests with readers beside them, as real processes on a real file.

A few trials here; ``benchmarks/bench_crash.py`` runs 20+ (results in docs/benchmarks.md)."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.crash_harness import kill_trials, make_corpus, writers_and_readers


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("crash") / "corpus"
    make_corpus(folder, 40)
    return folder


def test_kill_9_at_random_points_loses_nothing_and_recovers(corpus: Path, tmp_path: Path) -> None:
    _clean_s, trials = kill_trials([corpus], tmp_path / "work", n=3, seed=11)
    for t in trials:
        assert t.exit_status is not None
        assert t.ok, (t.kill_point, t.problems, t.recovery_diff)


def test_two_ingests_and_readers_on_one_file(corpus: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    make_corpus(other, 30, seed=5)
    for p in other.iterdir():  # other DOIs: a second, disjoint batch
        p.write_text(p.read_text().replace("10.5555/crash.", "10.5555/crash-b."))
    run = writers_and_readers([[corpus], [other]], tmp_path / "both.db", readers=2)
    assert run.writer_exit == [0, 0], run.writer_failed  # the second writer used to fail files at once
    assert run.writer_failed == [[], []]
    assert run.documents == 70
    assert run.read_errors == [] and run.reads > 0
