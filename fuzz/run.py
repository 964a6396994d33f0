"""Run one fuzz target under atheris (coverage-guided, libFuzzer options pass through).

    .venv/bin/pip install atheris                        # in the dev extras; wheels for Linux x86-64
    .venv/bin/python fuzz/run.py jats -max_total_time=60               # one minute
    .venv/bin/python fuzz/run.py pdf fuzz/corpus/pdf -max_total_time=14400 -rss_limit_mb=2048 -timeout=20

Targets: jats, tei, pdf, reference, any (format sniffing). For a long run give a corpus folder (it grows
with the inputs that found new coverage; start it from the seeds: ``--seed-corpus DIR`` writes them) and
run several targets side by side, e.g. under ``nohup`` or tmux, one per core. A crash leaves
``crash-<sha1>`` in the working directory: replay it with ``fuzz/run.py TARGET crash-<sha1>`` and add it
to ``tests/fixtures/fuzz/`` so that tests/test_fuzz.py keeps it fixed.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    import atheris

    # Instrument CiteLens for coverage: it must be first imported inside this block.
    with atheris.instrument_imports(include=["citelens"]):
        import citelens.formats  # noqa: F401
        import citelens.pipeline  # noqa: F401
        import citelens.references.parser  # noqa: F401
        import citelens.store  # noqa: F401
        from fuzz.targets import TARGETS, run_one, seeds

    if len(sys.argv) < 2 or sys.argv[1] not in TARGETS:
        sys.exit(f"usage: fuzz/run.py {{{','.join(TARGETS)}}} [--seed-corpus DIR] [libFuzzer options]")
    name = sys.argv.pop(1)
    if len(sys.argv) > 2 and sys.argv[1] == "--seed-corpus":
        folder = Path(sys.argv[2])
        folder.mkdir(parents=True, exist_ok=True)
        for i, data in enumerate(seeds(name)):
            (folder / f"seed-{i}").write_bytes(data)
        del sys.argv[1:3]
        sys.argv.append(str(folder))


    def one_input(data: bytes) -> None:
        run_one(name, data)

    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
