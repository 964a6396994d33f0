"""The pmc-oa stance set: extract statements, mine candidates by route, cut annotation batches, merge labels.

    .venv/bin/python scripts/stance_pmc.py extract            # build/stance-pmc/statements.jsonl (all, ~300 k)
    .venv/bin/python scripts/stance_pmc.py score              # + linear / minilm probabilities on a sample
    .venv/bin/python scripts/stance_pmc.py select             # build/stance-pmc/candidates.jsonl (routes recorded)
    .venv/bin/python scripts/stance_pmc.py batches --size 150 # blind annotation batches (no route, no model)
    .venv/bin/python scripts/stance_pmc.py merge              # labelled batches -> data/stance/pmc.jsonl
    .venv/bin/python scripts/stance_pmc.py select5            # round 5: mined by the round-4 cascade (train/dev)
    .venv/bin/python scripts/stance_pmc.py select5b           # round 5: top of the round-4 network's own ranking
    .venv/bin/python scripts/stance_pmc.py add-round          # round 5's labels appended to data/stance/pmc.jsonl.gz
    .venv/bin/python scripts/stance_pmc.py agree              # Cohen's kappa of the double-labelled rows
    .venv/bin/python scripts/stance_pmc.py table              # counts by split and route (README tables)

Statements come from CiteLens's own JATS parser and statement builder, run over the Europe PMC open-access
articles of ``../shared/data/pmc-oa`` (streamed from the tar, never unpacked into the repository). Articles are
split before any candidate is mined (paper-disjoint train / dev / test, seed 29), so every route feeds every
split in the same proportion. Routes:

- ``random``: a plain random sample of all statements (the natural distribution; honest dev/test figures).
- ``cue-contrast`` / ``cue-support``: the citing sentence has a disagreement / agreement cue near the
  callout and the context speaks of the citing work's own results. Cues only choose what gets read: every
  label is a reading of the statement against the guidelines, and annotators never see the route.
- ``model``: the shipped models disagree with each other, or the MiniLM is unsure (top probability < 0.7)
  or says supporting / contrasting: the rows a better model must get right.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
import tarfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from citelens.stance import StanceClassifier

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
PMC_TAR = SHARED / "pmc-oa" / "pmc-oa.tar.gz"
MANIFEST = SHARED / "pmc-oa" / "manifest.tsv"
BUILD = ROOT / "build" / "stance-pmc"
OUT = ROOT / "data" / "stance" / "pmc.jsonl.gz"
SEED = 29
SPLIT_SHARES = (("train", 0.70), ("dev", 0.15), ("test", 0.15))

# Disagreement / agreement vocabulary near the callout. A mining aid only (see module docstring).
CONTRAST_CUE = re.compile(
    r"\b(in contrast|contrary to|unlike|inconsistent|not consistent|disagree|discrepan|contradict|conflict|"
    r"differ(s|ed|ent|ence|ences)? (from|with)|opposite|not in (agreement|line|accordance)|however|whereas|"
    r"although|but (we|our|this|these|in our|here)|did not (find|observe|detect|show|confirm|support|replicate)|"
    r"was not (observed|found|detected|confirmed)|were not (observed|found|detected|confirmed)|"
    r"no (significant |such )?(effect|difference|association|correlation|evidence)|fail(ed|s)? to|"
    r"rather than|instead of|not (support|confirm|agree))",
    re.I,
)
SUPPORT_CUE = re.compile(
    r"\b(consistent with|in (good |close )?agreement|in line with|in accordance|in keeping with|agree(s|d)? with|"
    r"similar(ly)? to|similarly|confirm|corroborat|replicat|as (previously |also )?(reported|observed|shown|found|described)|"
    r"support(s|ed|ing)? (the|previous|earlier|findings|results|this)|comparable (to|with)|concur|"
    r"(results|findings|data|observations) (are|were) (also|similar))",
    re.I,
)
OWN = re.compile(
    r"\b(we|our|here|this study|present study|current study|this work|these (results|data|findings|observations))\b",
    re.I,
)
RESULTS_SECTIONS = re.compile(r"result|discussion|conclusion|finding|comparison", re.I)


def split_of(pmcid: str) -> str:
    """Paper-disjoint split by a stable hash of the article id (seeded), shares as in SPLIT_SHARES."""
    h = int(hashlib.sha256(f"{SEED}:{pmcid}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    acc = 0.0
    for name, share in SPLIT_SHARES:
        acc += share
        if h < acc:
            return name
    return SPLIT_SHARES[-1][0]


def read_manifest() -> dict[str, dict[str, str]]:
    lines = MANIFEST.read_text(encoding="utf-8").splitlines()
    head = lines[0].split("\t")
    return {row[0]: dict(zip(head, row, strict=False)) for row in (x.split("\t") for x in lines[1:])}


def cmd_extract(args: argparse.Namespace) -> int:
    from citelens.formats import parse_document
    from citelens.statements import build_statements

    manifest = read_manifest()
    BUILD.mkdir(parents=True, exist_ok=True)
    n_art = n_st = n_fail = 0
    with tarfile.open(PMC_TAR, "r|gz") as tar, (BUILD / "statements.jsonl").open("w", encoding="utf-8") as out:
        for member in tar:
            if not member.isfile() or not member.name.endswith(".xml"):
                continue
            f = tar.extractfile(member)
            if f is None:
                continue
            data = f.read()
            pmcid = Path(member.name).stem
            try:
                doc = build_statements(parse_document(data, member.name))
            except Exception as exc:  # a corpus tool: count and go on
                n_fail += 1
                print(f"{member.name}: {exc}", file=sys.stderr)
                continue
            n_art += 1
            meta = manifest.get(pmcid, {})
            for i, st in enumerate(doc.statements):
                row = {
                    "id": f"{pmcid}#{i}", "article": pmcid, "journal": meta.get("journal", ""),
                    "split": split_of(pmcid), "rid": st.reference_key,
                    "section": st.section_title or st.section, "section_type": st.section,
                    "before": st.before, "text": st.marked_sentence(), "after": st.after,
                }
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                n_st += 1
            if n_art % 500 == 0:
                print(f"{n_art} articles, {n_st} statements", file=sys.stderr)
    print(f"{n_art} articles, {n_st} statements, {n_fail} failed", file=sys.stderr)
    return 0


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(x) for x in f if x.strip()]


def cmd_score(args: argparse.Namespace) -> int:
    """Linear and MiniLM probabilities on a seeded sample (the model route mines from it)."""
    from citelens.stance import StanceInput, get_classifier

    rows = read_jsonl(BUILD / "statements.jsonl")
    rng = random.Random(SEED)
    sample = rng.sample(rows, min(args.sample, len(rows)))
    inputs = [StanceInput(r["text"], r["before"], r["after"], r["section"]) for r in sample]
    models = {name: get_classifier(name) for name in ("linear", "minilm")}
    preds = {name: m.predict(inputs) for name, m in models.items()}
    # The linear model is cheap enough to rank every statement by its minority-class probability.
    linear = models["linear"]
    with (BUILD / "linear-all.jsonl").open("w", encoding="utf-8") as out:
        for b in range(0, len(rows), 5000):
            part = rows[b : b + 5000]
            ps = linear.predict([StanceInput(r["text"], r["before"], r["after"], r["section"]) for r in part])
            for r, p in zip(part, ps, strict=True):
                out.write(json.dumps({"id": r["id"], "p": p.probabilities}) + "\n")
    with (BUILD / "scored.jsonl").open("w", encoding="utf-8") as out:
        for i, r in enumerate(sample):
            rec = {"id": r["id"]}
            for name in models:
                p = preds[name][i]
                rec[name] = p.stance
                rec[f"{name}_p"] = p.probabilities
            out.write(json.dumps(rec) + "\n")
    print(f"scored {len(sample)}", file=sys.stderr)
    return 0


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def near_callout(text: str, cue: re.Pattern[str], window: int = 160) -> bool:
    """The cue stands within ``window`` characters of the target callout."""
    at = text.find("<cite>")
    return any(abs(m.start() - at) <= window for m in cue.finditer(text))


def cmd_select(args: argparse.Namespace) -> int:
    rows = read_jsonl(BUILD / "statements.jsonl")
    scored = {r["id"]: r for r in read_jsonl(BUILD / "scored.jsonl")} if (BUILD / "scored.jsonl").exists() else {}
    rng = random.Random(SEED)
    # One row per (article, sentence): a sentence citing ten works is read once (its first target), so a long
    # list does not fill the set with copies of one sentence.
    seen: set[tuple[str, str]] = set()
    pool = []
    for r in rows:
        k = (r["article"], _norm(re.sub(r"</?cite>", "", r["text"])))
        if k in seen or len(r["text"]) < 30:
            continue
        seen.add(k)
        pool.append(r)
    rng.shuffle(pool)
    chosen: dict[str, dict] = {}
    quotas = {"random": args.random, "cue-contrast": args.contrast, "cue-support": args.support, "model": args.model}
    taken: Counter = Counter()

    def take(r: dict, route: str, detail: str = "") -> None:
        if r["id"] in chosen or taken[route] >= quotas[route]:
            return
        chosen[r["id"]] = {**r, "route": route, "route_detail": detail}
        taken[route] += 1

    for r in pool:
        take(r, "random")
    for r in pool:
        ctx = f"{r['before']} {r['text']} {r['after']}"
        own = bool(OWN.search(ctx)) or bool(RESULTS_SECTIONS.search(r["section"] or r["section_type"]))
        if own and near_callout(r["text"], CONTRAST_CUE):
            take(r, "cue-contrast")
    for r in pool:
        ctx = f"{r['before']} {r['text']} {r['after']}"
        own = bool(OWN.search(ctx)) or bool(RESULTS_SECTIONS.search(r["section"] or r["section_type"]))
        if own and near_callout(r["text"], SUPPORT_CUE):
            take(r, "cue-support")
    for r in pool:
        s = scored.get(r["id"])
        if not s:
            continue
        top = max(s["minilm_p"].values())
        if s["linear"] != s["minilm"] or top < 0.7 or s["minilm"] != "mentioning":
            take(r, "model", "minilm-unsure-or-disagrees")
    # Then the whole corpus ranked by the linear model's minority-class probability, contrasting and
    # supporting in turn, so the rare class gets most of what is left of the quota.
    linear = {r["id"]: r["p"] for r in read_jsonl(BUILD / "linear-all.jsonl")}
    by_con = sorted(pool, key=lambda r: -linear.get(r["id"], {}).get("contrasting", 0.0))
    by_sup = sorted(pool, key=lambda r: -linear.get(r["id"], {}).get("supporting", 0.0))
    for rc, rs in zip(by_con, by_sup, strict=True):
        take(rc, "model", "linear-top-contrasting")
        take(rc, "model", "linear-top-contrasting")
        take(rs, "model", "linear-top-supporting")
    out_rows = list(chosen.values())
    rng.shuffle(out_rows)
    with (BUILD / "candidates.jsonl").open("w", encoding="utf-8") as out:
        for r in out_rows:
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(dict(taken), Counter(r["split"] for r in out_rows), file=sys.stderr)
    return 0


def unread_statements(done: list[dict]) -> Iterator[dict]:
    """Statements of train and dev articles not read in an earlier round (``done``: its candidates), one per
    (article, sentence) — later rounds never mine test articles, and a sentence citing many works is read once."""
    done_ids = {r["id"] for r in done}
    seen = {(r["article"], _norm(re.sub(r"</?cite>", "", r["text"]))) for r in done}
    for r in read_jsonl(BUILD / "statements.jsonl"):
        if r["split"] == "test" or r["id"] in done_ids or len(r["text"]) < 30:
            continue
        k = (r["article"], _norm(re.sub(r"</?cite>", "", r["text"])))
        if k in seen:
            continue
        seen.add(k)
        yield r


def score_pool(pool: list[dict], clf: StanceClassifier) -> list[dict[str, float]]:
    """Class probabilities of ``clf`` for every statement of ``pool``, in batches of 5,000 (progress on stderr)."""
    from citelens.stance import StanceInput

    probs: list[dict[str, float]] = []
    for b in range(0, len(pool), 5000):
        part = pool[b : b + 5000]
        probs += [p.probabilities for p in
                  clf.predict([StanceInput(r["text"], r["before"], r["after"], r["section"]) for r in part])]
        print(f"scored {len(probs)}/{len(pool)}", file=sys.stderr)
    return probs


def top_per_article(pool: list[dict], idx: list[int], score: list[float], n: int, per_article: int) -> list[int]:
    """The ``n`` rows of ``idx`` with the highest ``score``, at most ``per_article`` from one article, so a few
    discursive papers do not fill the quota."""
    taken: Counter = Counter()
    top: list[int] = []
    for i in sorted(idx, key=lambda i: -score[i]):
        if len(top) >= n:
            break
        if taken[pool[i]["article"]] >= per_article:
            continue
        taken[pool[i]["article"]] += 1
        top.append(i)
    return top


def write_candidates(name: str, chosen: list[dict]) -> None:
    """A round's candidates as ``build/stance-pmc/<name>``, with their counts by split and route on stderr."""
    with (BUILD / name).open("w", encoding="utf-8") as out:
        for r in chosen:
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(Counter((r["split"], r["route_detail"]) for r in chosen), file=sys.stderr)


def cmd_select2(args: argparse.Namespace) -> int:
    """Round 2 (route ``model-v3``): train and dev rows the v3 cascade ranks highest for contrasting, plus a sample
    of its unsure supporting rows. Test articles are never mined again (their split was scored once)."""
    from citelens.stance import get_classifier

    pool = list(unread_statements(read_jsonl(BUILD / "candidates.jsonl")))
    probs = score_pool(pool, get_classifier("cascade"))
    p_con = [p["contrasting"] for p in probs]
    rng = random.Random(SEED + 2)
    chosen: list[dict] = []
    for split, n_con, n_sup in (("train", args.contrast, args.support),
                                ("dev", args.contrast * args.dev_share // 100, args.support * args.dev_share // 100)):
        idx = [i for i, r in enumerate(pool) if r["split"] == split]
        for i in top_per_article(pool, idx, p_con, n_con, args.per_article):
            chosen.append({**pool[i], "route": "model-v3", "route_detail": "cascade-top-contrasting"})
        picked = {r["id"] for r in chosen}
        unsure = [i for i in idx if 0.25 <= probs[i]["supporting"] <= 0.6 and pool[i]["id"] not in picked]
        for i in rng.sample(unsure, min(n_sup, len(unsure))):
            chosen.append({**pool[i], "route": "model-v3", "route_detail": "cascade-unsure-supporting"})
    rng.shuffle(chosen)
    write_candidates("candidates2.jsonl", chosen)
    return 0


# Round 3: the strict disagreement vocabulary, looked for in the citing sentence *and its neighbours* (a "However,
# we found ..." sentence after the citing one is the guidelines' commonest contrasting pattern), plus citing
# sentences that hold both an own-work marker and a concessive word near the callout. A mining aid only.
STRICT_CONTRAST_CUE = re.compile(
    r"\b(in contrast (to|with)|contrary to|unlike|inconsistent with|not consistent with|disagree|discrepan|contradict|"
    r"conflict(s|ed|ing)? with|differ(s|ed)? from|not in (agreement|line|accordance)|"
    r"did not (confirm|support|replicate|reproduce|agree)|could not (confirm|replicate|reproduce)|"
    r"fail(ed|s)? to (confirm|replicate|reproduce|detect|find|observe)|opposite to|opposed to|at odds|challenge[sd]?|"
    r"not support(ed)?|no evidence (for|of)|was not (observed|found|detected|confirmed)|"
    r"were not (observed|found|detected|confirmed)|whereas (we|our|in our|here|the present))",
    re.I,
)
CONCESSIVE = re.compile(r"\b(however|whereas|although|though|while|but|nevertheless|yet|despite|not|no)\b", re.I)
OWN_IN_SENTENCE = re.compile(
    r"\b(we|our|here|this study|present study|current study|this work|these (results|data|findings|observations)|"
    r"in this (study|work|report))\b",
    re.I,
)


def cmd_select3(args: argparse.Namespace) -> int:
    """Round 3 (route ``cue-contrast-r3``): every not-yet-read statement of the train and dev articles whose
    sentence or a neighbouring sentence holds strict disagreement vocabulary (with an own-work marker or a
    results section), and citing sentences with an own-work marker and a concessive word near the callout.
    Test articles are never mined again."""
    chosen: list[dict] = []
    for r in unread_statements(read_jsonl(BUILD / "candidates.jsonl") + read_jsonl(BUILD / "candidates2.jsonl")):
        ctx = f"{r['before']} {r['text']} {r['after']}"
        if not (OWN.search(ctx) or RESULTS_SECTIONS.search(r["section"] or r["section_type"])):
            continue
        if any(STRICT_CONTRAST_CUE.search(r[f]) for f in ("text", "before", "after")):
            chosen.append({**r, "route": "cue-contrast-r3", "route_detail": "strict-cue-in-context"})
        elif near_callout(r["text"], CONCESSIVE, 100) and OWN_IN_SENTENCE.search(r["text"]):
            chosen.append({**r, "route": "cue-contrast-r3", "route_detail": "own-and-concessive"})
    random.Random(SEED + 3).shuffle(chosen)
    write_candidates("candidates3.jsonl", chosen)
    return 0


def read_pmc_set() -> list[dict]:
    """The merged, labelled set (``data/stance/pmc.jsonl.gz``): every row read in an earlier round."""
    import gzip

    with gzip.open(OUT, "rt", encoding="utf-8") as fh:
        return [json.loads(x) for x in fh if x.strip()]


def cmd_select5(args: argparse.Namespace) -> int:
    """Round 5 (route ``model-r5``): train and dev statements not yet read, ranked by the round-4 cascade's
    P(contrasting) (at most --per-article from one article), plus a seeded sample of the rows whose
    P(contrasting) is unsure (0.15–0.5) below that top (in round 5 the top quota reached down to 0.09, so that
    band was empty and all 2,500 rows are top rows). The labelled set itself says what was read, so the
    earlier rounds' candidate files are not needed. Test articles are never mined."""
    from citelens.stance import get_classifier

    pool = list(unread_statements(read_pmc_set()))
    p_con = [p["contrasting"] for p in score_pool(pool, get_classifier("cascade"))]
    rng = random.Random(SEED + 5)
    chosen: list[dict] = []
    for split, share in (("train", 100), ("dev", args.dev_share)):
        n_top, n_unsure = args.contrast * share // 100, args.unsure * share // 100
        idx = [i for i, r in enumerate(pool) if r["split"] == split]
        top = top_per_article(pool, idx, p_con, n_top, args.per_article)
        chosen += [{**pool[i], "route": "model-r5", "route_detail": "cascade-r4-top-contrasting",
                    "p_contrasting": round(p_con[i], 4)} for i in top]
        taken = set(top)
        unsure = [i for i in idx if 0.15 <= p_con[i] < 0.5 and i not in taken]
        chosen += [{**pool[i], "route": "model-r5", "route_detail": "cascade-r4-unsure-contrasting",
                    "p_contrasting": round(p_con[i], 4)}
                   for i in rng.sample(unsure, min(n_unsure, len(unsure)))]
    rng.shuffle(chosen)
    write_candidates("candidates5.jsonl", chosen)
    return 0


def cmd_select5b(args: argparse.Namespace) -> int:
    """Round 5, second part (route ``model-r5``, ``net-top-contrasting``): statements not yet read nor chosen by
    ``select5``, ranked by the round-4 network *alone* (the cascade's second stage read on every row). Its top
    rows that the cascade's first stage settles as mentioning are the cascade's possible recall losses, which
    the cascade's own ranking cannot surface. Train and dev articles only."""
    from citelens.stance.onnx_model import V3, MiniLMStanceClassifier, models_dir

    chosen5 = read_jsonl(BUILD / "candidates5.jsonl")
    pool = list(unread_statements(read_pmc_set() + chosen5))
    p_con = [p["contrasting"] for p in score_pool(pool, MiniLMStanceClassifier(models_dir(), V3))]
    chosen: list[dict] = []
    for split, share in (("train", 100), ("dev", args.dev_share)):
        idx = [i for i, r in enumerate(pool) if r["split"] == split]
        chosen += [{**pool[i], "route": "model-r5", "route_detail": "net-top-contrasting",
                    "p_contrasting": round(p_con[i], 4)}
                   for i in top_per_article(pool, idx, p_con, args.contrast * share // 100, args.per_article)]
    random.Random(SEED + 6).shuffle(chosen)
    write_candidates("candidates5b.jsonl", chosen)
    return 0


def cmd_batches(args: argparse.Namespace) -> int:
    """Blind batches: id, section and text only (no route, no model output), in a shuffled order."""
    rows = read_jsonl(BUILD / args.candidates)
    # Dev and test rows first: they judge every model, so they are read (and read twice) before the rest.
    rows.sort(key=lambda r: r["split"] == "train")
    bdir = BUILD / args.name
    bdir.mkdir(parents=True, exist_ok=True)
    if args.reread:
        # A second reading of every row (a round read twice throughout), in another order.
        random.Random(SEED + 1).shuffle(rows)
    elif args.double:
        # The second pass: a seeded sample, dev/test first (their labels judge models), reshuffled.
        rng = random.Random(SEED + 1)
        evals = [r for r in rows if r["split"] != "train"]
        rng.shuffle(evals)
        rows = evals[: args.double]
        rng.shuffle(rows)
    clip = lambda s, n: s if len(s) <= n else s[: n - 1] + "…"  # noqa: E731
    for b in range(0, len(rows), args.size):
        part = rows[b : b + args.size]
        lines = []
        for r in part:
            lines.append(
                f"### {r['id']}\nsection: {r['section'] or r['section_type']}\n"
                f"before: {clip(r['before'], 300)}\nSENTENCE: {clip(r['text'], 600)}\nafter: {clip(r['after'], 300)}\n"
            )
        (bdir / f"batch-{b // args.size:03d}.txt").write_text("\n".join(lines), encoding="utf-8")
    print(f"{(len(rows) + args.size - 1) // args.size} batches in {bdir}", file=sys.stderr)
    return 0


LABELS = {"S": "supporting", "C": "contrasting", "M": "mentioning"}


def read_labels(folder: Path) -> dict[str, dict]:
    """Label files: one line per row, ``ID<TAB>S|C|M<TAB>confidence[<TAB>rationale]``."""
    out: dict[str, dict] = {}
    for path in sorted(folder.glob("labels-*.tsv")):
        for ln, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            parts = line.strip().split("\t")
            if len(parts) < 2 or parts[0].startswith("#"):
                continue
            lab = LABELS.get(parts[1].strip().upper()[:1])
            if lab is None:
                print(f"{path.name}:{ln}: bad label {parts[1]!r}", file=sys.stderr)
                continue
            try:
                conf = float(parts[2]) if len(parts) > 2 else None
            except ValueError:
                conf = None
            out[parts[0].strip()] = {"stance": lab, "confidence": conf,
                                      "rationale": parts[3].strip() if len(parts) > 3 else ""}
    return out


def kappa(a: list[str], b: list[str]) -> float:
    n = len(a)
    if not n:
        return float("nan")
    po = sum(x == y for x, y in zip(a, b, strict=True)) / n
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    return (po - pe) / (1 - pe) if pe < 1 else 1.0


ROW_FIELDS = ("id", "article", "journal", "split", "route", "route_detail", "rid", "section", "before", "text",
              "after")


def labelled_row(r: dict, first: dict, second: dict | None, adjudicated: dict | None) -> dict:
    """One row of the labelled set: the candidate's fields, its first reading, where read twice the second one,
    and the final ``stance`` — a disagreement settled by ``adjudicated`` or, failing that, by the guidelines'
    "when unsure, mentioning"."""
    rec = {k: r[k] for k in ROW_FIELDS}
    rec.update(pass1=first["stance"], confidence=first["confidence"], rationale=first["rationale"])
    final = first["stance"]
    if second is not None:
        rec["pass2"] = second["stance"]
        rec["pass2_rationale"] = second["rationale"]
        if second["stance"] != final:
            if adjudicated is not None:
                final = adjudicated["stance"]
                rec["adjudication"] = adjudicated["rationale"]
            else:
                final = "mentioning"
                rec["adjudication"] = "unsettled: guidelines' default (mentioning)"
    rec["stance"] = final
    return rec


def cmd_merge(args: argparse.Namespace) -> int:
    import gzip

    rows = {r["id"]: r for r in read_jsonl(BUILD / "candidates.jsonl")}
    for later in ("candidates2.jsonl", "candidates3.jsonl"):
        if (BUILD / later).exists():
            rows.update({r["id"]: r for r in read_jsonl(BUILD / later)})
    p1 = read_labels(BUILD / "pass1")
    for later in ("round2", "round3"):
        if (BUILD / later).exists():
            p1.update(read_labels(BUILD / later))
    p2 = read_labels(BUILD / "pass2") if (BUILD / "pass2").exists() else {}
    adj = read_labels_file(BUILD / "adjudication.tsv") if (BUILD / "adjudication.tsv").exists() else {}
    n: Counter = Counter()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same labels give the same bytes (a diff-able, reproducible file).
    with gzip.GzipFile(OUT, "wb", mtime=0) as raw, __import__("io").TextIOWrapper(raw, encoding="utf-8") as out:
        for rid, r in rows.items():
            first = p1.get(rid) or p2.get(rid)
            if first is None:
                continue
            rec = labelled_row(r, first, p2.get(rid) if rid in p1 else None, adj.get(rid))
            final = rec["stance"]
            n[(r["split"], final)] += 1
            n[("route", r["route"], final)] += 1
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    for split in ("train", "dev", "test"):
        print(split, {k[1]: v for k, v in n.items() if k[0] == split}, file=sys.stderr)
    print({f"{k[1]}/{k[2]}": v for k, v in sorted(n.items()) if k[0] == "route"}, file=sys.stderr)
    return 0


def cmd_add_round(args: argparse.Namespace) -> int:
    """Append a later round's labelled rows to ``data/stance/pmc.jsonl.gz``; rows already there stay as they are.

    The earlier rounds' candidate files are build products (``merge`` rebuilt the set from them); a round mined
    from the labelled set itself (``select5``) is added with this instead. A row read twice keeps both readings;
    a disagreement is settled by ``--adjudication`` or, failing that, by the guidelines' default (mentioning)."""
    import gzip
    import io

    existing = read_pmc_set()
    have = {r["id"] for r in existing}
    cands = read_jsonl(BUILD / args.candidates)
    p1 = read_labels(BUILD / args.labels)
    p2 = read_labels(BUILD / args.pass2) if args.pass2 and (BUILD / args.pass2).exists() else {}
    adj = read_labels_file(BUILD / args.adjudication) if args.adjudication and (BUILD / args.adjudication).exists() \
        else {}
    added: list[dict] = []
    for r in cands:
        first = p1.get(r["id"])
        if first is None or r["id"] in have:
            continue
        added.append(labelled_row(r, first, p2.get(r["id"]), adj.get(r["id"])))
    missing = sum(r["id"] not in p1 for r in cands)
    with gzip.GzipFile(OUT, "wb", mtime=0) as raw, io.TextIOWrapper(raw, encoding="utf-8") as out:
        for rec in existing + added:
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"added {len(added)} rows ({missing} candidates without a label); "
          f"{Counter((r['split'], r['stance']) for r in added)}", file=sys.stderr)
    return 0


def read_labels_file(path: Path) -> dict[str, dict]:
    tmp = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[1].strip().upper()[:1] in LABELS:
            tmp[parts[0].strip()] = {"stance": LABELS[parts[1].strip().upper()[:1]],
                                     "rationale": parts[2].strip() if len(parts) > 2 else ""}
    return tmp


def cmd_agree(args: argparse.Namespace) -> int:
    rows = read_pmc_set()
    both = [r for r in rows if "pass2" in r]
    a = [r["pass1"] for r in both]
    b = [r["pass2"] for r in both]
    agree = sum(x == y for x, y in zip(a, b, strict=True))
    print(json.dumps({"n": len(both), "raw_agreement": round(agree / max(1, len(both)), 4),
                      "kappa": round(kappa(a, b), 4),
                      "by_route": {route: round(kappa([r["pass1"] for r in both if r["route"] == route],
                                                      [r["pass2"] for r in both if r["route"] == route]), 4)
                                   for route in sorted({r["route"] for r in both})},
                      "confusions": Counter(f"{x}->{y}" for x, y in zip(a, b, strict=True) if x != y)},
                     indent=1))
    return 0


def cmd_table(args: argparse.Namespace) -> int:
    """Markdown tables of the merged set (for data/stance/README.md): by split, and by route."""
    rows = read_pmc_set()
    for key in ("split", "route"):
        print(f"| {key} | articles | rows | supporting | contrasting | mentioning |\n|---|---|---|---|---|---|")
        for v in sorted({r[key] for r in rows}):
            part = [r for r in rows if r[key] == v]
            c = Counter(r["stance"] for r in part)
            print(f"| {v} | {len({r['article'] for r in part}):,} | {len(part):,} | {c['supporting']:,} | "
                  f"{c['contrasting']:,} | {c['mentioning']:,} |")
        c = Counter(r["stance"] for r in rows)
        print(f"| all | {len({r['article'] for r in rows}):,} | {len(rows):,} | {c['supporting']:,} | "
              f"{c['contrasting']:,} | {c['mentioning']:,} |\n")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("extract")
    s = sub.add_parser("score")
    s.add_argument("--sample", type=int, default=40000)
    s = sub.add_parser("select")
    s.add_argument("--random", type=int, default=6000)
    s.add_argument("--contrast", type=int, default=5500)
    s.add_argument("--support", type=int, default=5000)
    s.add_argument("--model", type=int, default=7500)
    s = sub.add_parser("select2")
    s.add_argument("--contrast", type=int, default=4500)
    s.add_argument("--support", type=int, default=1500)
    s.add_argument("--dev-share", type=int, default=25, help="dev quota, percent of the train quota")
    s.add_argument("--per-article", type=int, default=12)
    sub.add_parser("select3")
    s = sub.add_parser("select5")
    s.add_argument("--contrast", type=int, default=2000, help="train rows from the top of the contrasting ranking")
    s.add_argument("--unsure", type=int, default=500, help="train rows sampled from the unsure band")
    s.add_argument("--dev-share", type=int, default=25, help="dev quota, percent of the train quota")
    s.add_argument("--per-article", type=int, default=8)
    s = sub.add_parser("select5b")
    s.add_argument("--contrast", type=int, default=1600, help="train rows from the top of the network's ranking")
    s.add_argument("--dev-share", type=int, default=25, help="dev quota, percent of the train quota")
    s.add_argument("--per-article", type=int, default=8)
    s = sub.add_parser("batches")
    s.add_argument("--candidates", default="candidates.jsonl")
    s.add_argument("--size", type=int, default=150)
    s.add_argument("--name", default="batches")
    s.add_argument("--double", type=int, default=0, help="second pass: this many dev/test rows")
    s.add_argument("--reread", action="store_true", help="second pass over every row, reshuffled")
    sub.add_parser("merge")
    s = sub.add_parser("add-round")
    s.add_argument("--candidates", default="candidates5.jsonl")
    s.add_argument("--labels", default="round5", help="folder of pass-1 labels-*.tsv under build/stance-pmc")
    s.add_argument("--pass2", default="", help="folder of second, independent readings (optional)")
    s.add_argument("--adjudication", default="", help="TSV settling pass-1/pass-2 disagreements (optional)")
    sub.add_parser("agree")
    sub.add_parser("table")
    args = ap.parse_args()
    return {"extract": cmd_extract, "score": cmd_score, "select": cmd_select, "select2": cmd_select2, "select3": cmd_select3, "select5": cmd_select5, "select5b": cmd_select5b, "batches": cmd_batches,
            "merge": cmd_merge, "add-round": cmd_add_round, "agree": cmd_agree, "table": cmd_table}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
