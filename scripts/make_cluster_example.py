"""Write the synthetic electronics-cluster network of docs/flows-network.md (orgs.csv, ties.csv).

Every firm is invented. The cluster is modelled on a semiconductor region (Saxony): 30 firms there, domestic
and foreign-owned, of four size classes and five sectors, and 20 partners elsewhere in Germany and abroad.
Ties are drawn with a fixed seed so that foreign-owned and large firms reach further, and knowledge-source
ties further than supplier ties — the patterns the walkthrough then finds. Run from the repository root:
    python scripts/make_cluster_example.py docs/examples/electronics-cluster
"""

from __future__ import annotations

import csv
import random
import sys
from pathlib import Path

CLUSTER_CITIES = ["Dresden"] * 12 + ["Chemnitz"] * 4 + ["Freiberg"] * 3 + ["Leipzig"] * 3 + \
    ["Radebeul", "Pirna", "Meissen", "Freital", "Bautzen", "Zwickau", "Riesa"]
SECTORS = ["semiconductors", "equipment", "chip design", "software", "materials"]
SIZES = ["micro", "small", "medium", "large"]
DOMESTIC_PARTNERS = [("Munich", "", "DE"), ("Munich", "", "DE"), ("Regensburg", "", "DE"),
                     ("Berlin", "", "DE"), ("Stuttgart", "", "DE"), ("Jena", "", "DE"), ("Heilbronn", "", "DE")]
FOREIGN_PARTNERS = [("Eindhoven", "", "NL"), ("Eindhoven", "", "NL"), ("Hsinchu", "", "TW"),
                    ("Hsinchu", "", "TW"), ("Grenoble", "", "FR"), ("Leuven", "", "BE"), ("Villach", "", "AT"),
                    ("Austin", "Texas", "US"), ("Kumamoto", "", "JP"), ("Shenzhen", "", "CN"),
                    ("Villach", "", "AT"), ("Leuven", "", "BE"), ("Grenoble", "", "FR")]
TIE_TYPES = ["knowledge source", "customer", "supplier", "collaborator"]
# How far each kind of tie reaches: weights of (intra-regional, inter-regional, international).
REACH = {"knowledge source": (3, 2, 3), "customer": (2, 3, 4), "supplier": (6, 2, 1), "collaborator": (5, 2, 2)}
SYLLABLES = ["Elb", "Silic", "Nano", "Wafer", "Opti", "Quant", "Lumi", "Volt", "Ion", "Crys", "Micro", "Photon"]
SUFFIXES = ["tec", "tronic", "sys", "lab", "chip", "fab", "wave", "logic"]


def main(out: Path) -> None:
    rng = random.Random(1993)
    orgs = []
    names = set()

    def name() -> str:
        while True:
            n = rng.choice(SYLLABLES) + rng.choice(SUFFIXES) + rng.choice([" GmbH", " AG", " GmbH", " UG"])
            if n not in names:
                names.add(n)
                return n

    for i, city in enumerate(CLUSTER_CITIES, start=1):
        foreign = i % 3 == 0
        size = SIZES[3] if i in (3, 6, 9, 12) else rng.choice(SIZES[:3] if not foreign else SIZES[1:])
        orgs.append({"id": f"C{i:02d}", "name": name(), "city": city, "region": "Saxony", "country": "DE",
                     "ownership": "foreign" if foreign else "domestic", "size": size,
                     "sector": SECTORS[i % len(SECTORS)]})
    # A firm in a village the gazetteer does not list: its region is given, so it is taken as written.
    orgs[-1]["city"] = "Ottendorf-Okrilla"
    for j, (city, region, cc) in enumerate(DOMESTIC_PARTNERS + FOREIGN_PARTNERS, start=1):
        orgs.append({"id": f"P{j:02d}", "name": name(), "city": city, "region": region, "country": cc,
                     "ownership": "", "size": "", "sector": ""})
    cluster = [o for o in orgs if o["id"].startswith("C")]
    domestic = [o for o in orgs if o["id"].startswith("P") and o["country"] == "DE"]
    foreign = [o for o in orgs if o["id"].startswith("P") and o["country"] != "DE"]
    ties, seen = [], set()
    while len(ties) < 150:
        src = rng.choice(cluster)
        kind = rng.choice(TIE_TYPES)
        w = list(REACH[kind])
        if src["ownership"] == "foreign":
            w[2] *= 4
        if src["size"] == "large":
            w[2] *= 1.5
            w[1] *= 1.5
        reach = rng.choices([0, 1, 2], weights=w)[0]
        pool = [c for c in cluster if c is not src] if reach == 0 else domestic if reach == 1 else foreign
        dst = rng.choice(pool)
        if (src["id"], dst["id"], kind) in seen:
            continue
        seen.add((src["id"], dst["id"], kind))
        ties.append({"source": src["id"], "target": dst["id"], "type": kind})
    out.mkdir(parents=True, exist_ok=True)
    with (out / "orgs.csv").open("w", newline="", encoding="utf-8") as fh:
        w_ = csv.DictWriter(fh, ["id", "name", "city", "region", "country", "ownership", "size", "sector"],
                            lineterminator="\n")
        w_.writeheader()
        w_.writerows(orgs)
    with (out / "ties.csv").open("w", newline="", encoding="utf-8") as fh:
        w_ = csv.DictWriter(fh, ["source", "target", "type"], lineterminator="\n")
        w_.writeheader()
        w_.writerows(ties)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/examples/electronics-cluster"))
