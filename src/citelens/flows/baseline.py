"""The matched-control baseline of Jaffe, Trajtenberg & Henderson (1993), for citation statements.

JTH asked whether patent citations are more often local than the geography of the technology alone would
make them, by pairing each citation with a *control*: a patent like the cited one that was not cited. Here,
for each (citing work, cited work) pair, the control is a located work

* of the **same publication year** as the cited work,
* in the **same field** as the cited work — with our data, the field is the **journal** the work appeared
  in (folded name: ``documents.journal`` for ingested articles, the metadata's container / OpenAlex
  ``primary_location.source`` otherwise). A journal is a narrow field, as JTH's 3-digit patent classes
  were; a work without a journal or a year has no stratum and its pairs stay unmatched;
* that the citing work **did not cite** (it is not in the citing article's reference list), and that is
  neither the cited nor the citing work itself,

drawn uniformly at random with a seeded generator (the pairs are visited in a fixed order, so a seed gives
the same controls on every run and backend). The expected distance of a pair is the distance from the
citing work to its control; pairs whose stratum holds no eligible control are *unmatched*, counted, and
left out of the baseline (not of the observed counts).
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from citelens.references.resolve import fold

Stratum = tuple[int, str]


@dataclass(frozen=True)
class WorkStratum:
    """What the control must share with the cited work."""

    year: int | None
    journal: str

    @property
    def key(self) -> Stratum | None:
        field = fold(self.journal)
        return (self.year, field) if self.year is not None and field else None


def match_controls(pairs: Iterable[tuple[str, str]], strata: Mapping[str, WorkStratum],
                   cited_by: Mapping[str, frozenset[str] | set[str]], *, seed: int = 1,
                   draws: int = 16) -> dict[tuple[str, str], str | None]:
    """{(citing, cited): control work id, or None when the cited work's stratum has no eligible control}.

    ``strata``: every located work that may serve as a control (and every cited work) → its stratum.
    ``cited_by``: citing work → the works its reference list names. A few random draws usually find an
    eligible control; when they do not, the eligible ones are listed and one is drawn from them, so the
    choice is uniform among the eligible works either way.
    """
    pool: dict[Stratum, list[str]] = {}
    for work_id, work_stratum in sorted(strata.items()):
        if work_stratum.key is not None:
            pool.setdefault(work_stratum.key, []).append(work_id)
    rng = random.Random(seed)
    out: dict[tuple[str, str], str | None] = {}
    no_refs: frozenset[str] = frozenset()
    for citing, cited in sorted(set(pairs)):
        stratum = strata.get(cited)
        key = stratum.key if stratum is not None else None
        candidates = pool.get(key, []) if key is not None else []
        refs = cited_by.get(citing, no_refs)
        chosen: str | None = None
        if candidates:
            for _ in range(draws):
                w = candidates[rng.randrange(len(candidates))]
                if w != cited and w != citing and w not in refs:
                    chosen = w
                    break
            else:
                rest = [w for w in candidates if w != cited and w != citing and w not in refs]
                chosen = rest[rng.randrange(len(rest))] if rest else None
        out[(citing, cited)] = chosen
    return out
