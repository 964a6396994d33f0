"""Reference-string parser: field-level accuracy on the held-out part and throughput.

    .venv/bin/python benchmarks/bench_reference_parser.py [--no-write]
    .venv/bin/python benchmarks/bench_reference_parser.py --speed-only   # throughput only; nothing scored

Scores the packaged tagger (BiLSTM-CRF, ``citelens.references.bilstm``) on the file-disjoint test part of GROBID's labelled citation strings and on the
article-disjoint test part of the reference strings rebuilt from pmc-oa's JATS (``parser_jats``; printed
mixed-citations and rendered element-citations reported apart). Neither was used for training or feature
choices. Writes the ``reference-parsing`` section of docs/benchmarks.md (``--no-write``: print it only).
Each run scores the held-out parts: run it once per release, after every choice was made on dev.
``--speed-only`` times the parser over the held-out strings' raw text without reading their labels (no score
is computed), so a speed-only change can be measured without looking at the held-out parts again.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks._report import machine, write_section  # noqa: E402
from citelens.references import parser as P  # noqa: E402
from citelens.references import parser_train as T  # noqa: E402
from citelens.references.parser_jats import sample_tar_examples  # noqa: E402

COMMAND = ".venv/bin/python benchmarks/bench_reference_parser.py"


def throughput(raws: list[str], repeats: int = 3) -> tuple[float, float, float]:
    """Best of ``repeats`` passes: references/s wall clock and per CPU-second with the batch API, and
    references/s with one call per string."""
    batch = single = batch_cpu = 0.0
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        P.parse_reference_strings(raws)
        batch = max(batch, len(raws) / (time.perf_counter() - t0))
        batch_cpu = max(batch_cpu, len(raws) / max(time.process_time() - c0, 1e-9))
        t0 = time.perf_counter()
        for raw in raws:
            P.parse_reference_string(raw)
        single = max(single, len(raws) / (time.perf_counter() - t0))
    return batch, batch_cpu, single


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--no-write", action="store_true", help="print the section, leave docs/benchmarks.md alone"
    )
    ap.add_argument(
        "--speed-only", action="store_true", help="time the parser on the held-out strings' raw text; score nothing"
    )
    args = ap.parse_args(argv)
    path = T.default_data_path()
    if not path.is_file():
        print(f"labelled corpus not found at {path}", file=sys.stderr)
        return 2
    examples = T.load_examples(path)
    train, dev, test = T.split_examples(examples)
    if args.speed_only:
        P.parse_reference_strings([e.raw for e in test[:50]])  # warm the tagger
        batch, batch_cpu, single = throughput([e.raw for e in test], repeats=5)
        print(f"{len(test):,} strings, best of 5, one process: {batch:,.0f} references/s wall clock and "
              f"{batch_cpu:,.0f} per CPU-second with parse_reference_strings; {single:,.0f}/s one string per call")
        return 0
    table, _ = T.evaluate(test)  # first pass also warms the tagger
    jats = path.parent.parent / "pmc-oa" / "pmc-oa.tar.gz"
    jats_tables = []
    if jats.is_file():
        jats_test = sample_tar_examples(jats, "test", 6000)
        for kind in ("printed", "rendered"):
            part = [e for e in jats_test if e.source_file.endswith("#" + kind)]
            n_art = len({e.source_file for e in part})
            jats_tables.append((kind, len(part), n_art, T.evaluate(part)[0]))
    batch, batch_cpu, single = throughput([e.raw for e in test])
    size = P.model_path().stat().st_size
    n_files = len({e.source_file for e in test})
    micro = table["micro(goal fields)"]["f1"]
    md = f"""## Reference-string parsing (BiLSTM-CRF)

Command: `{COMMAND}` (model trained with `.venv/bin/python scripts/train_reference_tagger.py`).
Machine: {machine()}.

Data: GROBID's labelled citation strings (`shared/data/grobid-references/references.jsonl`, {len(examples):,}
strings from {len({e.source_file for e in examples})} files), split by source file with a fixed seed:
train {len(train):,} + dev {len(dev):,} (the model is trained on both; feature choices were made on dev),
**held-out test {len(test):,} strings from {n_files} files**. The largest file (about half the corpus) is
always in train, so the test part is made of the smaller, more varied files.

Matching is GROBID-style "soft": case, punctuation and whitespace are ignored. Gold values are the gold
spans passed through the same clean-up as predictions (author splitting, year, page normalisation), so the
table measures tagging; `first_author` is the first author's surname. A field the parser fills but the
gold leaves empty counts as a false positive.

{T.format_table(table)}

Micro-average F1 over title, container, year, volume, pages and first-author surname: **{micro:.4f}**
(issue 12's goal: 0.93, title 0.90).

"""
    for kind, n, n_art, tab in jats_tables:
        what = (
            "`<mixed-citation>`: the string as the publisher printed it, parts tagged"
            if kind == "printed"
            else "`<element-citation>` printed in one of six styles (Vancouver, APA, Harvard, Nature, "
            "Chicago, physics)"
        )
        md += f"""### Held-out JATS references, {kind} ({n:,} strings from {n_art:,} articles)

{what}; articles of the held-out part (5 % of pmc-oa's articles by a seeded hash, never trained on), sampled
with a fixed seed.

{T.format_table(tab)}

Micro-average F1 (goal fields): **{tab["micro(goal fields)"]["f1"]:.3f}**.

"""
    md += f"""Training data: GROBID's train+dev strings (those of the largest file, `citations.xml`, counted twice, those
of the other files six times) and 20,000 strings sampled from pmc-oa's training articles (half printed, half
rendered; the PDF benchmark's articles left out; 30 % of them printed again in a physics / mathematics / IEEE
style, 30 % made noisy), the CRF's recipe. Tagger: the CRF's token features (`citelens.references.crf_features`,
features seen fewer than 3 times dropped, neighbour-window features left out) summed as 64-dimensional
embeddings, with a character CNN (16-dimensional characters, 32 filters of width 3) per token, one
bidirectional LSTM layer (96 per direction) and a label-transition matrix (CRF likelihood, Viterbi), 6 epochs
of Adam on one CPU thread with `.venv/bin/python scripts/train_reference_tagger.py` (torch, training only);
served with numpy (`citelens.references.bilstm`).

Throughput (one process, best of 3 over the test strings): {batch:,.0f} references/s wall clock with
`parse_reference_strings` ({batch_cpu:,.0f} per CPU-second of that process: the figure that does not depend on
how busy the shared machine is), {single:,.0f} references/s calling `parse_reference_string` per string.
Packaged model `src/citelens/references/models/{P.MODEL_NAME}`: {size / 1e6:.2f} MB.
"""
    print(md)
    if not args.no_write:
        print(f"wrote {write_section('reference-parsing', md)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
