"""Reference check on real manuscripts: publisher PDFs through ``citelens check``'s own code path, against the JATS.

One command: ``.venv/bin/python benchmarks/bench_check.py [--split dev|test] [--db FILE] [--only REGEX] [--no-write]``

* Inputs: the PDFs of ``../shared/data/pdf-pairs`` in one part of ``benchmarks/pdf_pairs_split.tsv`` (*dev* for
  looking at errors, *test* scored once at the end).
* Path: :func:`citelens.check.parse_reference_list` then :func:`citelens.check.check_references`, the two functions
  ``citelens check FILE`` and the /check page call, timed together per PDF.
* Index: the JATS of all 120 pdf-pairs articles ingested with ``citelens ingest`` (classifier ``cues``; built once
  into ``--db``, default a file in the temp dir): every article and every work its JATS cites, with the DOIs the
  publisher deposited. So the index knows each cited work as the publisher described it.
* Truth: the JATS reference list of the same article (``citelens.formats.jats``).
* Measures, per publisher and overall:
  - *references found*: entries the check lists; *recall* = JATS references matched one-to-one by an entry
    (``pdf_pairs.match_references``: DOI, title in the text, or fuzzy text); *precision* = matched / listed.
  - *DOIs*: recall = JATS DOIs the check's entries carry (exact, normalised); precision = entries' DOIs that are in
    the article's JATS DOIs, over entries' DOIs where the JATS can say (the matched JATS reference has a DOI, or the
    entry matched none). DOIs the PDF prints where the JATS reference has none are counted apart (*extra*).
  - *right work*: for each JATS reference the index resolves (the work the same resolver finds for the JATS
    reference), whether the check's matched entry resolved to that work; *wrong* = resolved to another work.
  - *seconds per PDF*: wall time of the check's path (parse + look-up), one process.

Writes the ``check-pdf-{split}`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _report import machine, write_section  # noqa: E402
from pdf_pairs import match_references, read_split  # noqa: E402

from citelens.check import CheckInputError, check_references, parse_reference_list  # noqa: E402
from citelens.formats.jats import parse_jats  # noqa: E402
from citelens.references.identifiers import normalise_doi  # noqa: E402
from citelens.references.resolve import find_matching_work, record_from_reference  # noqa: E402
from citelens.store import open_store  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "pdf-pairs"


def build_index(db: Path) -> None:
    xmls = sorted(str(p) for p in DATA.glob("*.xml"))
    cmd = [sys.executable, "-m", "citelens.cli", "ingest", *xmls, "--db", str(db), "--classifier", "cues",
           "-j", "1", "-q"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)


def _pdf_text(pid: str) -> str:
    """The PDF's text, lower case, without white space: where a JATS DOI is printed (many PDFs print none)."""
    import pypdfium2

    from citelens.formats.pdf import PDFIUM_LOCK

    with PDFIUM_LOCK:
        pdf = pypdfium2.PdfDocument((DATA / f"{pid}.pdf").read_bytes())
        try:
            text = "".join(page.get_textpage().get_text_range() for page in pdf)
        finally:
            pdf.close()
    return "".join(text.lower().split()).replace("\u00ad", "").replace("\ufffe", "")


def score(pid: str, store) -> tuple[Counter[str], str, list[str]]:  # noqa: ANN001 - any Store
    t: Counter[str] = Counter()
    truth = parse_jats((DATA / f"{pid}.xml").read_bytes(), f"{pid}.xml").references
    t["true"] = len(truth)
    tdois = {normalise_doi(r.doi) for r in truth if normalise_doi(r.doi)}
    t["doi_true"] = len(tdois)
    t0 = time.perf_counter()
    try:
        _fmt, refs = parse_reference_list((DATA / f"{pid}.pdf").read_bytes(), f"{pid}.pdf")
        results = check_references(refs, store)
    except CheckInputError as exc:
        t["seconds"] = time.perf_counter() - t0
        t["failed"] = 1
        return t, str(exc), []
    t["seconds"] = time.perf_counter() - t0
    t["listed"] = len(refs)
    m = match_references(refs, truth)
    t["matched"] = len(m)
    by_key = {r.key: r for r in truth}
    found = set()
    notes: list[str] = []
    for r in refs:
        d = normalise_doi(r.doi)
        if not d:
            continue
        found.add(d)
        tr = by_key.get(m.get(r.key, ""))
        td = normalise_doi(tr.doi) if tr else ""
        if tr is not None and not td:
            t["doi_extra"] += 1
            continue
        t["doi_pred"] += 1
        if d in tdois:
            t["doi_tp_pred"] += 1
        else:
            notes.append(f"DOI {d!r} not in JATS (JATS: {td!r})")
    t["doi_tp"] = len(found & tdois)
    text = _pdf_text(pid)
    printed = {d for d in tdois if d in text}
    t["doi_printed"] = len(printed)
    t["doi_tp_printed"] = len(found & printed)
    notes += [f"printed DOI missed {d!r}" for d in sorted(printed - found)][:5]
    # Right work: the work the resolver finds for the JATS reference, vs the one the check found for its entry.
    work_of = {c.reference.key: c.work["id"] if c.work else None for c in results}
    pred_for_truth = {tk: pk for pk, tk in m.items()}
    for tr in truth:
        want, _method, _s = find_matching_work(record_from_reference(tr), store)
        if want is None:
            continue
        t["known"] += 1
        got = work_of.get(pred_for_truth.get(tr.key, ""))
        if got == want:
            t["right"] += 1
        elif got is not None:
            t["wrong"] += 1
    return t, "", notes


def pct(a: float, b: float) -> str:
    return f"{a / b:.3f}" if b else "–"


def row(name: str, rows: list[tuple[str, Counter[str]]]) -> str:
    t: Counter[str] = Counter()
    for _p, c in rows:
        t.update(c)
    secs = [c["seconds"] for _p, c in rows]
    return (f"| {name} | {len(rows)} | {t['failed']} | {t['listed']} / {t['true']} | {pct(t['matched'], t['true'])} | "
            f"{pct(t['matched'], t['listed'])} | {pct(t['doi_tp'], t['doi_true'])} ({t['doi_true']}) | "
            f"{pct(t['doi_tp_printed'], t['doi_printed'])} ({t['doi_printed']}) | "
            f"{pct(t['doi_tp_pred'], t['doi_pred'])} | {t['doi_extra']} | {pct(t['right'], t['known'])} "
            f"({t['known']}) | {t['wrong']} | {statistics.mean(secs):.2f} / {max(secs):.2f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--split", choices=["dev", "test"], default="dev")
    ap.add_argument("--db", type=Path, default=Path(tempfile.gettempdir()) / "citelens-bench-check.db")
    ap.add_argument("--only", help="ids matching this regular expression (no report written)")
    ap.add_argument("--no-write", action="store_true")
    a = ap.parse_args()
    if not a.db.exists():
        print(f"building the index {a.db} from the JATS of {DATA} …", flush=True)
        build_index(a.db)
    store = open_store(str(a.db))
    import re

    ids = [(i, pub) for i, pub, s in read_split() if s == a.split and (not a.only or re.search(a.only, i))]
    rows: list[tuple[str, str, Counter[str]]] = []
    w0 = time.perf_counter()
    for k, (pid, pub) in enumerate(ids, 1):
        t, err, notes = score(pid, store)
        rows.append((pid, pub, t))
        print(f"[{k}/{len(ids)}] {pid:12s} {pub:22s} listed {t['listed']:3d} / true {t['true']:3d} matched "
              f"{t['matched']:3d}  DOIs {t['doi_tp']}/{t['doi_true']} printed {t['doi_tp_printed']}/{t['doi_printed']} (pred ok {t['doi_tp_pred']}/{t['doi_pred']},"
              f" extra {t['doi_extra']})  work {t['right']}/{t['known']} wrong {t['wrong']}  {t['seconds']:.2f}s"
              f" {err}", flush=True)
        for n in notes[:8]:
            print("      ", n)
    wall = time.perf_counter() - w0
    by_pub: dict[str, list[tuple[str, Counter[str]]]] = {}
    for pid, pub, t in rows:
        by_pub.setdefault(pub, []).append((pid, t))
    head = ("| publisher | PDFs | failed | references listed / in JATS | recall | precision | DOI recall (JATS DOIs) |"
            " DOI recall, printed (JATS DOIs printed in the PDF) | DOI precision | extra DOIs | right work (index knows) | wrong work | s per PDF mean / max |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for pub in sorted(by_pub, key=lambda p: (-len(by_pub[p]), p)):
        lines.append(row(pub, by_pub[pub]))
    lines.append(row("**all**", [(p, t) for p, _pub, t in rows]))
    print("\n".join(lines))
    if a.only or a.no_write:
        return
    tuned = "**looked at for errors**" if a.split == "dev" else "**held-out, scored once after the fixes**"
    md = "\n".join([
        f"## Reference check on publisher PDFs — {a.split} part (`citelens check`)",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_check.py --split {a.split}` — {machine()}, one process; "
        f"{len(rows)} PDFs ({tuned}; split: `benchmarks/pdf_pairs_split.tsv`).",
        "",
        "Path: `citelens.check.parse_reference_list` + `check_references`, what `citelens check FILE` and the /check "
        "page run. Index: the JATS of all 120 pdf-pairs articles (`citelens ingest`, so every cited work with the "
        "publisher's metadata and DOIs). Truth: the same article's JATS reference list. *Recall*: JATS references "
        "matched one-to-one by a listed entry (DOI, title, or fuzzy text; `benchmarks/pdf_pairs.py`); *precision*: "
        "matched / listed. *DOI recall*: JATS DOIs carried by some entry (*printed*: of those JATS DOIs that the PDF's text holds, white "
        "space aside: many PDFs print no DOI in their references); *DOI precision*: entries' DOIs found among "
        "the JATS DOIs, where the JATS can say; *extra*: DOIs the PDF prints where the JATS reference has none. "
        "*Right work*: JATS references the index resolves, whose entry the check resolved to the same work; *wrong*: "
        "resolved to another work. Time: wall seconds of the check's path per PDF.",
        "",
        *lines,
        "",
        f"Whole run: {wall:.1f} s wall; 1-minute load average {os.getloadavg()[0]:.1f} (shared 2-core machine: read "
        "times as upper bounds).",
    ])
    print("wrote", write_section(f"check-pdf-{a.split}", md))


if __name__ == "__main__":
    main()
