"""Affiliation → country benchmark (issue 10, point 5): precision/recall over (article, country) pairs.

One command: ``.venv/bin/python benchmarks/bench_affiliations.py --split dev|test [--limit N] [--no-write]``

Truth: the ``<country>`` tags of ``../shared/data/pmc-oa`` articles in which *every* ``<aff>`` of the
article metadata has one (so the truth is complete), mapped to ISO alpha-2 by ``country_code``; articles with
a tag it cannot map are left out (counted). Prediction: the same article with the tags taken away, parsed by
``parse_jats`` and placed by ``locate_authors``; the predicted set is every country of its located
affiliations. Two variants:

* ``unwrapped``: the ``<country>`` element is removed but its text stays in the address — an untagged
  affiliation that names its country, the common case in the wild;
* ``deleted``: the element and its text are removed — the country must be inferred from city, postcode, state
  or ROR organisation (harder than any real untagged affiliation).

A third measure, on affiliations that were never tagged: ``affiliations_hand_checked.tsv`` beside this file
holds the countries a person read off the author affiliations of 60 test-split articles that have no
``<country>`` tag at all; those articles are parsed and placed as they are and scored against it (``--split
test`` only: the sample is held out like the rest of the test split).

Split by PMCID: even numbers are ``dev`` (tuning), odd numbers ``test`` (scored once). Writes the
``affiliations-<split>`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
import tarfile
import time
from collections import Counter
from pathlib import Path

from lxml import etree

from citelens.formats.jats import parse_jats
from citelens.places import country_code, gazetteer, locate_authors

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "data" / "pmc-oa" / "pmc-oa.tar.gz"
sys.path.insert(0, str(ROOT))


def articles(split: str, limit: int | None, *, with_back: bool = False):  # noqa: ANN201 - yields (name, front[, back])
    n = 0
    with tarfile.open(CORPUS, "r:gz") as tar:
        for member in tar:
            digits = "".join(c for c in Path(member.name).stem if c.isdigit())
            if not member.isfile() or not digits or (int(digits) % 2 == 0) != (split == "dev"):
                continue
            fh = tar.extractfile(member)
            if fh is None:
                continue
            try:
                root = etree.fromstring(fh.read(), etree.XMLParser(resolve_entities=False, no_network=True,
                                                                   recover=True, huge_tree=False))
            except etree.XMLSyntaxError:
                continue
            front = root.find(".//front") if root is not None else None
            if front is None:
                continue
            if with_back:
                yield member.name, front, root.find(".//back")
            else:
                yield member.name, front
            n += 1
            if limit and n >= limit:
                return


def tagged_country(aff: etree._Element, tag: etree._Element) -> str:
    """ISO code of an affiliation's ``<country>`` tag ("Barcelona, Spain" → ES).

    Publishers tag "Kowloon, Hong Kong SAR, <country>China</country>": in ISO 3166-1, which CiteLens reports,
    Hong Kong (HK), Macao (MO) and Taiwan (TW) have codes of their own, so a "China" tag whose address names
    one of them just before it counts as that territory ("City University of Hong Kong, Shenzhen, China" stays
    CN: the place before the tag is Shenzhen).
    """
    cc = country_code("".join(tag.itertext()).split(",")[-1])
    if cc == "CN":
        tagged = "".join(tag.itertext())
        before = "".join(aff.itertext()).split(tagged)[0] + "," + tagged.rsplit(",", 1)[0] * ("," in tagged)
        last = next((p for p in reversed(re.split(r"[,;]", before)) if p.strip(" .")), "")
        territory = country_code(re.sub(r"\b(SAR|S\.A\.R\.|\d+)\b", " ", last), allow_code=False)
        cc = territory if territory in ("HK", "MO", "TW") else cc
    return cc


def predict(front: etree._Element, mode: str) -> set[str]:
    front = copy.deepcopy(front)
    for c in list(front.iter("country")):
        parent = c.getparent()
        text = ("".join(c.itertext()) if mode == "unwrapped" else "") + (c.tail or "")
        prev = c.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + text
        else:
            parent.text = (parent.text or "") + text
        parent.remove(c)
    article = etree.Element("article")
    article.append(front)
    doc = parse_jats(etree.tostring(article), "x.xml")
    locate_authors(doc)
    return {aff.country_code for a in doc.authors for aff in a.affiliations if aff.country_code}


HAND_CHECKED = Path(__file__).resolve().parent / "affiliations_hand_checked.tsv"


def hand_checked_truth() -> dict[str, set[str]]:
    """PMCID → the countries a person read off its author affiliations."""
    rows = [line.split("\t") for line in HAND_CHECKED.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    return {r[0]: set(r[1].split(",")) for r in rows[1:]}


def score_hand_checked(limit: int | None) -> tuple[Counter, list[str]]:
    truth = hand_checked_truth()
    counts: Counter = Counter()
    errors = []
    for name, front in articles("test", limit):
        pmcid = Path(name).stem
        meta = front.find(".//article-meta")
        if pmcid not in truth or (meta is not None and meta.find(".//country") is not None):
            continue  # the sample is of articles with no <country> tag at all
        article = etree.Element("article")
        article.append(copy.deepcopy(front))
        doc = parse_jats(etree.tostring(article), name)
        locate_authors(doc)
        pred = {aff.country_code for a in doc.authors for aff in a.affiliations if aff.country_code}
        counts["articles"] += 1
        counts["tp"] += len(pred & truth[pmcid])
        counts["fp"] += len(pred - truth[pmcid])
        counts["fn"] += len(truth[pmcid] - pred)
        if pred != truth[pmcid]:
            errors.append(f"{pmcid}: truth {sorted(truth[pmcid])} predicted {sorted(pred)}")
    return counts, errors


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", choices=["dev", "test"], default="dev")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--show-errors", type=int, default=0)
    ap.add_argument("--errors-of", choices=["unwrapped", "deleted"], default="deleted")
    args = ap.parse_args()
    gazetteer()
    counts = {m: Counter() for m in ("unwrapped", "deleted")}
    skipped = Counter()
    errors: list[str] = []
    t0 = time.perf_counter()
    n_articles = 0
    for name, front in articles(args.split, args.limit):
        meta = front.find(".//article-meta")
        # Authors' affiliations only: eLife tags its editors' and reviewers' too (the parser skips those).
        affs = [a for a in (meta.iter("aff") if meta is not None else [])
                if all(c.get("contrib-type", "author") == "author" for c in a.iterancestors("contrib"))]
        if not affs:
            skipped["no <aff>"] += 1
            continue
        tags = [a.find(".//country") for a in affs]
        if any(t is None for t in tags):
            skipped["an <aff> without <country>"] += 1
            continue
        truth = {tagged_country(a, t) for a, t in zip(affs, tags, strict=True)}
        if "" in truth:
            skipped["a <country> tag country_code cannot map"] += 1
            continue
        n_articles += 1
        for mode, c in counts.items():
            pred = predict(front, mode)
            c["tp"] += len(pred & truth)
            c["fp"] += len(pred - truth)
            c["fn"] += len(truth - pred)
            if mode == args.errors_of and pred != truth and len(errors) < args.show_errors:
                affs_text = " | ".join(" ".join("".join(a.itertext()).split()) for a in affs)
                errors.append(f"{name}: truth {sorted(truth)} predicted {sorted(pred)}\n    {affs_text}")
    secs = time.perf_counter() - t0
    lines = [f"## Affiliation → country (`benchmarks/bench_affiliations.py --split {args.split}`)", "",
             f"`.venv/bin/python benchmarks/bench_affiliations.py --split {args.split}"
             f"{' --limit ' + str(args.limit) if args.limit else ''}` — {n_articles} pmc-oa articles "
             f"({args.split} split: {'even' if args.split == 'dev' else 'odd'} PMCIDs) whose every `<aff>` has a "
             f"`<country>`; pairs are (article, ISO country). {secs:.0f} s under load.", "",
             "| variant | pairs in truth | precision | recall |", "|---|---|---|---|"]
    hand, hand_errors = score_hand_checked(args.limit) if args.split == "test" else (Counter(), [])
    if hand:
        counts["hand-checked, never tagged"] = hand
    for mode, c in counts.items():
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
        lines.append(f"| {mode} | {c['tp'] + c['fn']} | {p:.3f} | {r:.3f} |")
    lines += ["", "Left out: " + (", ".join(f"{v} ({k})" for k, v in skipped.items()) or "none") + ".", "",
              "Truth is the ISO 3166-1 code: a `China` tag after an address ending in Hong Kong, Macao or Taiwan "
              "counts as HK, MO or TW (their own codes, which CiteLens reports)."]
    if hand:
        lines += ["", f"Hand-checked: {hand['articles']} test-split articles with no `<country>` tag at all, "
                  "countries read off their author affiliations by a person "
                  "(`benchmarks/affiliations_hand_checked.tsv`), scored on the articles as they are."]
        errors += hand_errors[:args.show_errors]
    text = "\n".join(lines)
    print(text)
    for e in errors:
        print(e)
    if not args.no_write:
        from benchmarks._report import write_section

        write_section(f"affiliations-{args.split}", text)


if __name__ == "__main__":
    main()
