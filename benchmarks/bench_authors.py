"""Author disambiguation benchmark (issue 10, point 5): pairwise precision/recall with ORCIDs hidden.

One command: ``.venv/bin/python benchmarks/bench_authors.py --split dev|test [--limit N] [--no-write]``

The front matter and reference list (no body, so no statements to classify) of each ``../shared/data/pmc-oa``
article of the split (even PMCIDs ``dev``, odd ``test``, as in bench_affiliations) is ingested into a fresh
SQLite index with every ``<contrib-id>`` removed, so the store disambiguates by name, co-authors,
institutions, e-mail and topic only (``citelens.people``). Truth: the ORCIDs the articles carried. Over the
author records (document, position) that had an ORCID: a pair is predicted the same author when the store gave
both one author id, truly the same when they share an ORCID; precision and recall over pairs. Confidence: each
record's stored ``author_confidence`` for records that joined an existing author, bucketed, with the share of
those joins that were right (the record's ORCID was already under that author). Writes the
``authors-<split>`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_affiliations import articles  # noqa: E402
from citelens.formats.jats import parse_jats  # noqa: E402
from citelens.pipeline import Pipeline, read_bytes_input  # noqa: E402
from citelens.store import open_store  # noqa: E402


def pairs(groups: Counter) -> int:
    return sum(n * (n - 1) // 2 for n in groups.values())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", choices=["dev", "test"], default="dev")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--show-misses", action="store_true")
    ap.add_argument("--show-merges", action="store_true", help="print the wrong merges")
    ap.add_argument("--front-only", action="store_true", help="front matter only (no references: no cited works)")
    args = ap.parse_args()
    truth: dict[tuple[str, int], str] = {}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        pipeline = Pipeline(open_store(Path(tmp) / "authors.db"), "cues")
        n_docs = 0
        for name, front, back in articles(args.split, args.limit, with_back=True):
            article = etree.Element("article")
            article.append(front)
            if back is not None and not args.front_only:
                article.append(back)
            data = etree.tostring(article)
            doc = parse_jats(data, name)
            for i, a in enumerate(doc.authors, start=1):
                if a.orcid:
                    truth[(name, i)] = a.orcid
            for cid in list(front.iter("contrib-id")):
                cid.getparent().remove(cid)
            pipeline.ingest([read_bytes_input(name, etree.tostring(article))])
            n_docs += 1
        rows = {(r.citing_source, r.position): r for r in pipeline.store.iter_document_authors()}
        predicted = {k: r.author_id for k, r in rows.items()}
        confidence = {(r["source"], int(r["position"])): r["author_confidence"] for r in pipeline.store._rows(
            "SELECT d.source, a.position, a.author_confidence FROM document_authors a JOIN documents d"
            " ON d.id = a.document_id")}
        order = {(r["source"], int(r["position"])): int(r["id"]) for r in pipeline.store._rows(
            "SELECT d.source, a.position, d.id FROM document_authors a JOIN documents d ON d.id = a.document_id")}
        pipeline.store.close()
    secs = time.perf_counter() - t0
    if args.show_misses:
        seen: dict[str, list[tuple[str, int]]] = {}
        for k, o in truth.items():
            seen.setdefault(o, []).append(k)
        for o, ks in seen.items():
            if len({predicted.get(k) for k in ks}) > 1:
                print(o, [(rows[k].name, rows[k].institution, rows[k].country, rows[k].author_id) for k in ks])
    keys = [k for k in truth if predicted.get(k)]
    # Joins: a record put under an author that already had an earlier ORCID-bearing record; right when that
    # author already held the record's ORCID.
    seen_under: dict[str, set[str]] = {}
    buckets: dict[str, list[int]] = {}
    for k in sorted(keys, key=lambda k: order[k]):
        under = seen_under.setdefault(predicted[k], set())
        if under:
            c = confidence.get(k) or 0.0
            b = "1.00 (ORCID or certain)" if c >= 0.9999 else "0.97–1.00" if c >= 0.97 else "0.90–0.97"
            buckets.setdefault(b, []).append(int(truth[k] in under))
            if args.show_merges and truth[k] not in under:
                print("wrong merge", k, rows[k].name, rows[k].institution, c)
        under.add(truth[k])
    by_orcid = Counter(truth[k] for k in keys)
    by_pred = Counter(predicted[k] for k in keys)
    by_both = Counter((truth[k], predicted[k]) for k in keys)
    tp, pred_pairs, true_pairs = pairs(by_both), pairs(by_pred), pairs(by_orcid)
    p = tp / pred_pairs if pred_pairs else 0.0
    r = tp / true_pairs if true_pairs else 0.0
    text = "\n".join([
        f"## Author disambiguation without ORCIDs (`benchmarks/bench_authors.py --split {args.split}`)", "",
        f"`.venv/bin/python benchmarks/bench_authors.py --split {args.split}"
        f"{' --limit ' + str(args.limit) if args.limit else ''}` — front matter and reference lists of {n_docs} pmc-oa articles "
        f"({args.split} split) ingested with ORCIDs removed; {len(keys)} author records had an ORCID "
        f"({len(by_orcid)} distinct ORCIDs, {true_pairs} same-person pairs). {secs:.0f} s under load.", "",
        "| pairs | precision | recall |", "|---|---|---|",
        f"| {tp} right of {pred_pairs} predicted, {true_pairs} true | {p:.3f} | {r:.3f} |", "",
        "Stored confidence of the records that joined an author already holding an ORCID-bearing record, and how "
        "many of those joins were right:", "",
        "| confidence | joins | right |", "|---|---:|---:|",
        *[f"| {b} | {len(v)} | {sum(v)} |" for b, v in sorted(buckets.items(), reverse=True)], "",
        "Rule (`citelens.people`): same folded family name and first initial (or the two names swapped), given "
        "names that fit ('J.-G.' fits 'Jung-Gu', 'Taylor R.' fits 'Taylor', 'Li' does not fit 'Lei'), then "
        "evidence weighed into a confidence — shared co-authors, institution (ROR id or name), e-mail, country, "
        "a paper citing the other's paper, and topic (shared cited works, same journal, shared title words); "
        "no co-author evidence from a paper with over 100 authors; an initial-only name ('X.') does not let "
        "other full given names in; a join needs confidence ≥ "
        "0.9."])
    print(text)
    if not args.no_write:
        from benchmarks._report import write_section

        write_section(f"authors-{args.split}", text)


if __name__ == "__main__":
    main()
