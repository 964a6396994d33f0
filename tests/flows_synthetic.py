"""A seeded random index for the knowledge-flow tests: a few thousand statements between works whose places,
years and journals vary in every way the analysis has a rule for.

Written straight into the real SQLite schema (as benchmarks/bench_web.py builds its index) because the
cases matter more than the text: work ids scattered over several digit counts (so "W12" sorts before "W9",
as the seeded draws' order does), works with several places (duplicates too), institutions with and
without a ROR id and names that only fold to the same key, places without a city or a region, cited works
located from full text, from metadata, from both (the full text wins) or not at all, works without a year
or a journal (no stratum), citing works that are cited themselves, unclassified statements,
self-citations, references without statements or without a resolved work, and every section.

tests/fixtures/flows-golden.json holds what the analysis gave on this index before it was vectorised
(``analyse_flows`` over whole-index Python loops, 2026-12-03); test_flows_equivalence checks the analysis
still gives exactly that.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from citelens.document import SECTIONS

COUNTRIES = ("US", "GB", "DE", "CA", "FR")
# (institution, ror, city, region): per country, some sharing a city or a region, some without a ROR id,
# one spelt two ways that fold to the same key, one without a city, one without a region.
INSTITUTIONS = [
    ("Institute {c}1", "0r{c}1", "Alpha", "North"),
    ("Institute {c}2", "0r{c}2", "Alpha", "North"),
    ("Institute {c}3", "", "Beta", "North"),
    ("INSTITUTE  {c}3", "", "beta", "North"),
    ("College {c}4", "", "Gamma", "South"),
    ("College {c}5", "0r{c}5", "", "South"),
    ("School {c}6", "0r{c}6", "Delta", ""),
    ("", "", "Delta", ""),
]
JOURNALS = ("Journal of Flows", "journal of  FLOWS", "Annals of Ties", "Letters", "")


def _place(rng: random.Random) -> tuple[str, str, str, str, str]:
    c = rng.choice(COUNTRIES)
    name, ror, city, region = rng.choice(INSTITUTIONS)
    return name.format(c=c), ror.format(c=c), city, region, c


def build_flow_index(path: Path, seed: int = 11, n_citing: int = 160, n_cited: int = 640) -> dict[str, int]:
    from citelens.store import open_store

    open_store(path).close()
    rng = random.Random(seed)
    ids = rng.sample(range(1, 300_000), n_citing + n_cited)
    ids = [i // 10 ** rng.randint(0, 3) or i for i in ids]  # 1- to 6-digit ids
    ids = list(dict.fromkeys(ids))
    citing, cited = ids[:n_citing], ids[n_citing:]
    conn = sqlite3.connect(path)
    with conn:
        for w in ids:
            year = None if rng.random() < 0.05 else rng.choice((2015, 2016, 2017))
            conn.execute("INSERT INTO works (id, doi, title, year, container, kind) VALUES (?,?,?,?,?,?)",
                         (w, f"10.5555/syn.{w}", f"Work {w}", year, rng.choice(JOURNALS),
                          "article" if w in citing else "reference"))
        doc = 0
        full_text = set(citing) | {w for w in cited if rng.random() < 0.3}
        for w in sorted(full_text, key=lambda _: rng.random()):
            for _ in range(2 if rng.random() < 0.05 else 1):  # a few works with two documents
                doc += 1
                year = None if rng.random() < 0.05 else rng.choice((2015, 2016, 2017, 2018))
                conn.execute("INSERT INTO documents (id, identity, source, format, work_id, title, year, journal,"
                             " ingested_at) VALUES (?,?,?,?,?,?,?,?,?)",
                             (doc, f"source:d{doc}", f"d{doc}.xml", "jats", w, f"Doc {doc}", year,
                              rng.choice(JOURNALS), "2026-01-01T00:00:00+00:00"))
                for pos in range(1, rng.randint(1, 4) + 1):
                    name, ror, city, region, country = _place(rng)
                    if rng.random() < 0.12:
                        country = ""  # not located
                    conn.execute("INSERT INTO document_authors (document_id, position, family, institution, ror,"
                                 " city, region, country) VALUES (?,?,?,?,?,?,?,?)",
                                 (doc, pos, f"Author{pos}", name, ror, city, region, country))
        for w in cited:
            if rng.random() < 0.2:
                continue
            for k, source in enumerate(rng.sample(("openalex", "crossref"), rng.randint(1, 2))):
                for pos in range(10 * k + 1, 10 * k + rng.randint(1, 3) + 1):
                    for n in range(1, rng.randint(1, 2) + 1):
                        name, ror, city, region, country = _place(rng)
                        conn.execute("INSERT INTO work_places (work_id, position, n, source, institution, ror,"
                                     " city, region, country) VALUES (?,?,?,?,?,?,?,?,?)",
                                     (w, pos, n, source, name, ror, city, region,
                                      "" if rng.random() < 0.1 else country))
        docs = conn.execute("SELECT id, work_id, year FROM documents ORDER BY id").fetchall()
        ref_id = sid = 0
        for d, w, year in docs:
            if w not in citing:
                continue
            for target in rng.sample([*cited, *citing[:20]], 12):
                if target == w:
                    continue
                if rng.random() < 0.04:
                    target = None  # an unresolved reference
                ref_id += 1
                conn.execute("INSERT INTO refs (id, document_id, key, work_id) VALUES (?,?,?,?)",
                             (ref_id, d, f"r{ref_id}", target))
                for _ in range(rng.choice((0, 1, 1, 1, 2, 3))):
                    sid += 1
                    stance = rng.choice(("supporting", "contrasting", "mentioning", "mentioning", None))
                    conn.execute("INSERT INTO contexts (id, document_id, sentence) VALUES (?,?,?)",
                                 (sid, d, f"Sentence {sid}."))
                    conn.execute(
                        "INSERT INTO statements (id, document_id, ref_id, cited_work_id, citing_work_id, citing_year,"
                        " section, context_id, callout_start, callout_end, stance, self_citation)"
                        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        (sid, d, ref_id, target, w, year, rng.choice(SECTIONS), sid, 0, 1, stance,
                         int(rng.random() < 0.08)))
    conn.close()
    return {"works": len(ids), "documents": doc, "refs": ref_id, "statements": sid}
