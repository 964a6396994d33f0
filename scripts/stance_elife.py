"""Build data/stance/elife.jsonl: cue-selected eLife statements, annotated twice independently, adjudicated.

The shared biomedical corpus has only 63 contrasting statements in all, so candidates were mined from eLife
research articles (CC BY 4.0) by searching their text for comparison cues (data/stance/README.md says how).
Three steps, each reproducible from the files it reads:

    python scripts/stance_elife.py merge MINED.jsonl... --out-dir build/elife --batches 2 [--existing OLD.jsonl]
        # validate, de-duplicate, shuffle; write candidates.jsonl and blind annotation batches (no cue query)
    python scripts/stance_elife.py agree build/elife/pass1.jsonl build/elife/pass2.jsonl
        # Cohen's kappa between the two independent passes, and the rows to adjudicate
        # (``agree data/stance/elife.jsonl`` recomputes it from the committed file, which keeps both passes)
    python scripts/stance_elife.py finalise --candidates build/elife/candidates.jsonl \\
        --pass1 build/elife/pass1.jsonl --pass2 build/elife/pass2.jsonl --adjudicated data/stance/elife-adjudication.jsonl
        # writes data/stance/elife.jsonl and the article-disjoint "elife" split in data/stance/splits.json
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data" / "stance"
CLASSES = ["supporting", "contrasting", "mentioning"]
SEED = 13
_CITE = re.compile(r"<cite>(.*?)</cite>", re.S)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")


def sentence_key(r: dict[str, Any]) -> tuple[str, str]:
    plain = re.sub(r"\s+", " ", r["text"].replace("<cite>", "").replace("</cite>", "")).strip().lower()
    return str(r["elife"]), plain


def merge(paths: list[Path], out_dir: Path, batches: int, existing: Path | None = None) -> None:
    """Validate and de-duplicate mined rows; with ``existing`` (an earlier round's candidates, already
    annotated), keep its rows and ids, add only new sentences, and write blind batches of the new ones."""
    old = read_jsonl(existing) if existing else []
    rows, problems, seen = [], Counter(), {sentence_key(r) for r in old}
    for path in paths:
        for r in read_jsonl(path):
            if len(_CITE.findall(r.get("text", ""))) != 1:
                problems["not exactly one <cite>"] += 1
                continue
            if not str(r.get("elife", "")).isdigit():
                problems["no eLife article number"] += 1
                continue
            key = sentence_key(r)
            if key in seen:
                problems["duplicate sentence"] += 1
                continue
            seen.add(key)
            rows.append(r)
    random.Random(SEED).shuffle(rows)
    per_article: Counter[str] = Counter()
    for r in old:
        per_article[r["elife"]] = max(per_article[r["elife"]], int(r["id"].rsplit("#", 1)[1]))
    out = []
    for r in rows:
        art = str(r["elife"]).zfill(5)
        per_article[art] += 1
        out.append({"id": f"elife-{art}#{per_article[art]}", "elife": art, "doi": f"10.7554/eLife.{art}",
                    "section": r.get("section") or "", "before": r.get("before") or "", "text": r["text"],
                    "after": r.get("after") or "", "query": r.get("query", ""), "licence": "CC BY 4.0"})
    write_jsonl(out_dir / "candidates.jsonl", old + out)
    # Annotators see the statement only: not the search phrase that found it, nor each other's labels.
    blind = [{k: r[k] for k in ("id", "section", "before", "text", "after")} for r in out]
    for b in range(batches):
        write_jsonl(out_dir / f"batch{b + 1}.jsonl", blind[b::batches])
    print(f"{len(out)} new candidates ({len(old)} kept from {existing}) from "
          f"{len({r['elife'] for r in out})} articles; dropped {dict(problems)}; {batches} blind batches in {out_dir}")


def kappa(a: list[str], b: list[str]) -> float:
    n = len(a)
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[c] * cb[c] for c in CLASSES) / (n * n)
    return (po - pe) / (1 - pe) if pe < 1 else 1.0


def labels(path: Path) -> dict[str, str]:
    out = {}
    for r in read_jsonl(path):
        if r.get("stance") not in CLASSES:
            raise SystemExit(f"{path}: row {r.get('id')!r} has no valid stance")
        out[r["id"]] = r["stance"]
    return out


def agree(p1: Path, p2: Path | None) -> None:
    if p2 is None:  # the final file carries both passes
        rows = read_jsonl(p1)
        a, b = {r["id"]: r["pass1"] for r in rows}, {r["id"]: r["pass2"] for r in rows}
    else:
        a, b = labels(p1), labels(p2)
    ids = sorted(set(a) & set(b))
    la, lb = [a[i] for i in ids], [b[i] for i in ids]
    agreement = sum(x == y for x, y in zip(la, lb, strict=True)) / len(ids)
    print(f"{len(ids)} rows in both passes (only in pass 1: {len(set(a) - set(b))}, only in pass 2: "
          f"{len(set(b) - set(a))}); raw agreement {agreement:.3f}; Cohen's kappa {kappa(la, lb):.3f}")
    print("pass 1:", dict(Counter(la)), " pass 2:", dict(Counter(lb)))
    confusion = Counter((x, y) for x, y in zip(la, lb, strict=True) if x != y)
    print("disagreements (pass 1 -> pass 2):", dict(confusion))


def assign_splits(rows: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Article-disjoint train/dev/test (60/20/20), spreading contrasting-rich articles first, then supporting."""
    arts = sorted({r["elife"] for r in rows})
    random.Random(SEED).shuffle(arts)
    con = Counter(r["elife"] for r in rows if r["stance"] == "contrasting")
    sup = Counter(r["elife"] for r in rows if r["stance"] == "supporting")
    size = Counter(r["elife"] for r in rows)
    target = {"train": 0.6, "dev": 0.2, "test": 0.2}
    tot = {"con": sum(con.values()) or 1, "sup": sum(sup.values()) or 1, "size": len(rows)}
    got = {s: Counter() for s in target}
    out: dict[str, list[str]] = {s: [] for s in target}
    for art in sorted(arts, key=lambda a: (-con[a], -sup[a])):  # stable: ties keep the seeded order
        key = "con" if con[art] else "sup" if sup[art] else "size"
        s = max(target, key=lambda s: target[s] * tot[key] - got[s][key])
        out[s].append(art)
        got[s].update({"con": con[art], "sup": sup[art], "size": size[art]})
    return {s: sorted(v) for s, v in out.items()}


def finalise(candidates: Path, p1: Path, p2: Path, adjudicated: Path, out: Path) -> None:
    a, b = labels(p1), labels(p2)
    adj = labels(adjudicated) if adjudicated.exists() else {}
    rows, missing = [], 0
    for r in read_jsonl(candidates):
        i = r["id"]
        if i not in a or i not in b:
            missing += 1
            continue
        if a[i] == b[i]:
            stance = a[i]
        elif i in adj:
            stance = adj[i]
        else:
            raise SystemExit(f"{i}: the passes disagree ({a[i]} / {b[i]}) and there is no adjudicated label")
        rows.append({**{k: v for k, v in r.items() if k != "query"}, "stance": stance, "pass1": a[i],
                     "pass2": b[i], "cue_query": r.get("query", "")})
    write_jsonl(out, rows)
    splits_path = DATA / "splits.json"
    splits = json.loads(splits_path.read_text())
    splits["elife"] = assign_splits(rows)
    splits_path.write_text(json.dumps(splits, indent=1) + "\n")
    where = {art: s for s, arts in splits["elife"].items() for art in arts}
    table = Counter((where[r["elife"]], r["stance"]) for r in rows)
    print(f"wrote {len(rows)} rows to {out} ({missing} candidates without both passes left out)")
    for s in ("train", "dev", "test"):
        print(f"  elife-{s}: {len(splits['elife'][s])} articles, "
              + ", ".join(f"{c} {table[(s, c)]}" for c in CLASSES))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("merge")
    m.add_argument("mined", type=Path, nargs="+")
    m.add_argument("--out-dir", type=Path, default=ROOT / "build" / "elife")
    m.add_argument("--batches", type=int, default=2)
    m.add_argument("--existing", type=Path, default=None, help="an earlier round's candidates.jsonl to extend")
    g = sub.add_parser("agree")
    g.add_argument("pass1", type=Path)
    g.add_argument("pass2", type=Path, nargs="?", help="omit to read both passes from a final elife.jsonl")
    f = sub.add_parser("finalise")
    f.add_argument("--candidates", type=Path, required=True)
    f.add_argument("--pass1", type=Path, required=True)
    f.add_argument("--pass2", type=Path, required=True)
    f.add_argument("--adjudicated", type=Path, required=True)
    f.add_argument("--out", type=Path, default=DATA / "elife.jsonl")
    args = ap.parse_args(argv)
    if args.cmd == "merge":
        merge(args.mined, args.out_dir, args.batches, args.existing)
    elif args.cmd == "agree":
        agree(args.pass1, args.pass2)
    else:
        finalise(args.candidates, args.pass1, args.pass2, args.adjudicated, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
