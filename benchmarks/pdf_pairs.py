"""Publisher PDFs scored against the JATS of the same articles (``../shared/data/pdf-pairs``).

Used by ``benchmarks/bench_pdf.py --pairs dev|test``. The split lives in ``benchmarks/pdf_pairs_split.tsv``
(made once by :func:`make_split`, stratified by publisher, reproducible from its seed): *dev* is what the
parser is tuned on; *test* is scored once at the end.

Truth comes from the JATS through CiteLens's own JATS parser (``citelens.formats.jats``): its reference list,
and every in-text ``<xref ref-type="bibr">`` (body, captions, tables; ranges "[3]–[6]" expanded to 3..6).

Measures, per article then summed per publisher and overall:

* Truth repair: a deposited xref whose printed text names several numbers but whose ``rid`` names only
  the first (``<xref rid="R3">3 4</xref>``) is given every reference its text names, by printed label.
* **citation contexts**, counted per (article, reference) like GROBID's end-to-end "citation context"
  measure: for each reference of the truth list, the number of callouts naming it in the JATS vs the number
  of predicted callouts linked to the predicted entry matched to it; TP = Σ min(pred, truth). Callouts
  linked to an entry that matches no truth reference count as false positives.
* **cited-reference recall**: truth references cited at least once whose matched predicted entry is linked
  by at least one predicted callout.
* **reference entries**: predicted entries matched one-to-one to truth references (DOI, else title found in
  the entry's text, else fuzzy text similarity ≥ 85, or ≥ 60 with first-author surname or year in agreement).
* **header**: title (fuzzy ratio ≥ 90 after normalisation), DOI (exact), author surnames (micro P/R/F1).
* CPU seconds per page of ``parse_pdf`` (``time.process_time``).
"""

from __future__ import annotations

import csv
import hashlib
import re
import time
import traceback
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz

from citelens.document import Document, Reference
from citelens.errors import InputError
from citelens.formats.jats import parse_jats

HERE = Path(__file__).resolve().parent
SPLIT_FILE = HERE / "pdf_pairs_split.tsv"
SPLIT_SEED = "citelens-pdf-pairs-2026"
TEST_SHARE = 0.4

# DOI prefix → publisher (the manifest has no publisher column). Unknown prefixes are "other".
PUBLISHERS = {
    "10.1186": "Springer Nature", "10.1038": "Springer Nature", "10.1007": "Springer Nature",
    "10.3389": "Frontiers", "10.3390": "MDPI", "10.1371": "PLOS", "10.1016": "Elsevier",
    "10.1002": "Wiley", "10.1111": "Wiley", "10.1093": "Oxford", "10.1155": "Hindawi",
    "10.1097": "Wolters Kluwer", "10.1136": "BMJ", "10.1080": "Taylor & Francis", "10.1177": "SAGE",
    "10.21105": "JOSE (Open Journals)", "10.15585": "CDC (MMWR)", "10.1128": "ASM", "10.1590": "SciELO",
}

# GROBID's published end-to-end citation-context F1 on publisher PDFs (GROBID documentation, "End-to-end
# evaluation", 0.8 series): different articles, so a reference point rather than a like-for-like comparison.
GROBID_CONTEXT_F1 = {"PMC": 76.3, "PLOS": 79.4, "bioRxiv": 83.6, "eLife": 92.1}


def publisher(doi: str, journal: str = "") -> str:
    if doi.startswith("10.21105") or "Open Source Education" in journal:
        return "JOSE (Open Journals)"
    return PUBLISHERS.get(doi.split("/", 1)[0], "other")


def manifest(data: Path) -> list[dict[str, str]]:
    with open(data / "manifest.tsv", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def make_split(data: Path) -> list[tuple[str, str, str]]:
    """(id, publisher, split) for every pair: within each publisher, files ordered by a seeded hash, the
    first ``TEST_SHARE`` of them (rounded) go to test, so every publisher with ≥ 2 files is on both sides."""
    groups: dict[str, list[str]] = {}
    for row in manifest(data):
        groups.setdefault(publisher(row["doi"], row["journal"]), []).append(row["id"])
    out = []
    for pub, ids in sorted(groups.items()):
        ids.sort(key=lambda i: hashlib.sha256(f"{SPLIT_SEED}:{i}".encode()).hexdigest())
        n_test = round(TEST_SHARE * len(ids)) if len(ids) >= 2 else 0
        out += [(i, pub, "test" if k < n_test else "dev") for k, i in enumerate(ids)]
    return sorted(out)


def read_split() -> list[tuple[str, str, str]]:
    with open(SPLIT_FILE, encoding="utf-8") as fh:
        rows = [line.rstrip("\n").split("\t") for line in fh if line.strip() and not line.startswith("#")]
    return [(r[0], r[1], r[2]) for r in rows[1:]]


def write_split(rows: list[tuple[str, str, str]]) -> None:
    with open(SPLIT_FILE, "w", encoding="utf-8") as fh:
        fh.write(f"# ../shared/data/pdf-pairs split by file (benchmarks/pdf_pairs.py, seed {SPLIT_SEED!r}); "
                 "tune on dev, score test once\n")
        fh.write("id\tpublisher\tsplit\n")
        for r in rows:
            fh.write("\t".join(r) + "\n")


# ---------------------------------------------------------------------------------------------------------


def _norm(s: str) -> str:
    s = unicodedata.normalize("NFKD", s or "")
    return re.sub(r"[^0-9a-z]+", " ", "".join(c for c in s if not unicodedata.combining(c)).lower()).strip()


def _soft(s: str) -> str:
    return _norm(s).replace(" ", "")


def _truth_text(r: Reference) -> str:
    if r.raw:
        return r.raw
    names = " ".join(a.family for a in r.authors)
    return " ".join(str(x) for x in (names, r.year or "", r.title, r.container, r.volume, r.pages) if x)


def _pair_score(pred: Reference, truth: Reference) -> float:
    if pred.doi and truth.doi and pred.doi.lower() == truth.doi.lower():
        return 100.0
    praw = _soft(pred.raw)
    t_title = _soft(truth.title)
    if len(t_title) >= 15 and t_title in praw:
        return 95.0
    score = fuzz.token_sort_ratio(_norm(pred.raw), _norm(_truth_text(truth)))
    surname = _soft(truth.authors[0].family) if truth.authors else ""
    agree = (surname and surname in praw[: max(40, len(surname) + 20)]) or (truth.year and str(truth.year) in pred.raw)
    # Near-identical text needs no corroboration (web pages and reports have no author or year to agree on).
    return score if score >= 85 or (agree and score >= 60) else 0.0


def match_references(pred: list[Reference], truth: list[Reference]) -> dict[str, str]:
    """Predicted key → truth key, one-to-one, best scores first."""
    cands = []
    for p in pred:
        for t in truth:
            s = _pair_score(p, t)
            if s:
                cands.append((s, p.key, t.key))
    cands.sort(key=lambda c: -c[0])
    out: dict[str, str] = {}
    used: set[str] = set()
    for _s, pk, tk in cands:
        if pk not in out and tk not in used:
            out[pk] = tk
            used.add(tk)
    return out


def _expand_numeric_xrefs(truth: Document) -> int:
    """Some deposited JATS link a multi-number callout to its first reference only
    (``<xref rid="R3">3 4</xref>``, ``<xref rid="R5">5–9</xref>``): name every reference its printed text
    names, by the list's printed labels, when they include the linked one. Returns how many were fixed."""
    by_label: dict[int, str] = {}
    for r in truth.references:
        m = re.fullmatch(r"\W*(\d{1,4})\W*", r.label or "")
        if m:
            by_label.setdefault(int(m.group(1)), r.key)
    fixed = 0
    for p in truth.paragraphs:
        for c in p.callouts:
            spec = c.text.strip("[]() ")
            if not re.fullmatch(r"\d{1,4}(?:\s*(?:[,;]\s*|\s+|[-–—]\s*)\d{1,4})+", spec):
                continue
            nums: list[int] = []
            for part in re.split(r"\s*[,;]\s*|\s+(?=\d)", spec):
                a, _, b = re.sub(r"\s", "", part).replace("—", "–").replace("-", "–").partition("–")
                lo, hi = int(a), int(b or a)
                nums += list(range(lo, hi + 1)) if 0 <= hi - lo <= 50 else [lo, hi]
            keys = [by_label.get(n) for n in nums]
            if all(keys) and set(c.reference_keys) <= set(keys) and len(set(keys)) > len(set(c.reference_keys)):
                c.reference_keys = [k for k in dict.fromkeys(keys) if k]
                fixed += 1
    return fixed


def _callout_counts(doc: Document) -> Counter[str]:
    c: Counter[str] = Counter()
    for p in doc.paragraphs:
        for co in p.callouts:
            c.update(set(co.reference_keys) | set(co.inferred_keys))
    return c


@dataclass
class Result:
    id: str
    publisher: str
    pages: int = 0
    cpu: float = 0.0
    error: str = ""  # reason given to the user (InputError) or "internal: …"
    tot: Counter[str] = field(default_factory=Counter)


def score_pair(pdf: Path, xml: Path, pub: str) -> Result:
    import pypdfium2

    from citelens.formats.pdf import PDFIUM_LOCK, parse_pdf

    res = Result(pdf.stem, pub)
    data = pdf.read_bytes()
    try:
        with PDFIUM_LOCK:
            d = pypdfium2.PdfDocument(data)
            res.pages = len(d)
            d.close()
    except Exception:  # noqa: BLE001 - counted as a failure below by parse_pdf itself
        res.pages = 0
    truth = parse_jats(xml.read_bytes(), xml.name)
    t = res.tot
    t["truth_xrefs_expanded"] += _expand_numeric_xrefs(truth)
    tcount = _callout_counts(truth)
    t["ctx_true"] += sum(tcount.values())
    t["ref_true"] += len(truth.references)
    t["cited_true"] += sum(1 for r in truth.references if tcount[r.key])
    t["docs"] += 1
    c0 = time.process_time()
    try:
        doc = parse_pdf(data, pdf.name)
    except InputError as exc:
        res.cpu = time.process_time() - c0
        res.error = exc.problem
        return res
    except Exception as exc:  # noqa: BLE001 - the benchmark reports internal errors instead of stopping
        res.cpu = time.process_time() - c0
        res.error = f"internal: {type(exc).__name__}: {exc}"
        traceback.print_exc()
        return res
    res.cpu = time.process_time() - c0
    m = match_references(doc.references, truth.references)
    pcount = _callout_counts(doc)
    mapped: Counter[str] = Counter()
    for pk, n in pcount.items():
        mapped[m.get(pk, "?" + pk)] += n
    if tcount:
        t["ctx_pred"] += sum(pcount.values())
    else:
        # The JATS tags no in-text citation at all (some publishers deposit none): no truth to score
        # predicted callouts against, so they are not counted as false positives.
        t["no_truth_callouts"] += 1
    t["ctx_tp"] += sum(min(n, tcount[k]) for k, n in mapped.items() if k in tcount)
    t["ref_pred"] += len(doc.references)
    t["ref_tp"] += len(m)
    linked = {m[pk] for pk, n in pcount.items() if n and pk in m}
    t["cited_found"] += sum(1 for r in truth.references if tcount[r.key] and r.key in linked)
    t["zero_statements"] += not pcount
    t["title_ok"] += bool(truth.title) and fuzz.ratio(_norm(doc.title), _norm(truth.title)) >= 90
    t["title_true"] += bool(truth.title)
    t["doi_ok"] += bool(truth.doi) and doc.doi.lower() == truth.doi.lower()
    t["doi_true"] += bool(truth.doi)
    ts = Counter(_soft(a.family) for a in truth.authors if a.family)
    ps = Counter(_soft(a.family) for a in doc.authors if a.family)
    t["au_true"] += sum(ts.values())
    t["au_pred"] += sum(ps.values())
    t["au_tp"] += sum((ts & ps).values())
    return res


def prf(tp: float, npred: float, ntrue: float) -> tuple[float, float, float]:
    p = tp / npred if npred else 0.0
    r = tp / ntrue if ntrue else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def summarise(results: list[Result]) -> dict[str, float]:
    t: Counter[str] = Counter()
    for r in results:
        t.update(r.tot)
    ctx = prf(t["ctx_tp"], t["ctx_pred"], t["ctx_true"])
    ent = prf(t["ref_tp"], t["ref_pred"], t["ref_true"])
    au = prf(t["au_tp"], t["au_pred"], t["au_true"])
    pages = sum(r.pages for r in results if not r.error)
    cpu = sum(r.cpu for r in results if not r.error)
    return {
        "files": len(results), "failed": sum(bool(r.error) for r in results),
        "internal": sum(r.error.startswith("internal") for r in results),
        "zero": t["zero_statements"], "no_truth": t["no_truth_callouts"], "pages": sum(r.pages for r in results),
        "ctx_p": ctx[0], "ctx_r": ctx[1], "ctx_f1": ctx[2],
        "cited_recall": t["cited_found"] / t["cited_true"] if t["cited_true"] else 0.0,
        "ref_p": ent[0], "ref_r": ent[1],
        "title": t["title_ok"] / t["title_true"] if t["title_true"] else 0.0,
        "doi": t["doi_ok"] / t["doi_true"] if t["doi_true"] else 0.0,
        "authors_f1": au[2], "cpu_per_page": cpu / pages if pages else 0.0,
    }


def table(results: list[Result]) -> list[str]:
    by_pub: dict[str, list[Result]] = {}
    for r in results:
        by_pub.setdefault(r.publisher, []).append(r)
    head = ("| publisher | files | pages | failed | 0 statements | context P | context R | **context F1** | "
            "cited refs found | entries P / R | title | DOI | authors F1 | CPU s/page |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]

    def row(name: str, rs: list[Result]) -> str:
        s = summarise(rs)
        return (f"| {name} | {s['files']} | {s['pages']} | {s['failed']} | {s['zero']} | {s['ctx_p']:.3f} | "
                f"{s['ctx_r']:.3f} | **{s['ctx_f1']:.3f}** | {s['cited_recall']:.3f} | {s['ref_p']:.2f} / "
                f"{s['ref_r']:.2f} | {s['title']:.2f} | {s['doi']:.2f} | {s['authors_f1']:.2f} | "
                f"{s['cpu_per_page']:.4f} |")

    for pub in sorted(by_pub, key=lambda p: (-len(by_pub[p]), p)):
        lines.append(row(pub, by_pub[pub]))
    lines.append(row("**all**", results))
    return lines


def run(data: Path, split: str, only: str | None = None, progress: bool = True) -> list[Result]:
    results = []
    rows = [r for r in read_split() if r[2] == split and (only is None or re.search(only, r[0]))]
    for k, (i, pub, _s) in enumerate(rows, 1):
        res = score_pair(data / f"{i}.pdf", data / f"{i}.xml", pub)
        results.append(res)
        if progress:
            s = summarise([res])
            print(f"[{k}/{len(rows)}] {i:12s} {pub:22s} p={res.pages:3d} cpu={res.cpu:6.2f}s "
                  f"ctxF1={s['ctx_f1']:.3f} cited={s['cited_recall']:.2f} refs {res.tot['ref_tp']}/"
                  f"{res.tot['ref_true']} (pred {res.tot['ref_pred']}) title={res.tot['title_ok']} "
                  f"doi={res.tot['doi_ok']} {res.error[:90]}", flush=True)
    return results


if __name__ == "__main__":
    import sys

    d = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent.parent / "shared" / "data" / "pdf-pairs"
    write_split(make_split(d))
    print(f"wrote {SPLIT_FILE}")
