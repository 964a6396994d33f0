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
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from citelens.references.resolve import fold

Stratum = tuple[int, str]
W = TypeVar("W", bound=Hashable)


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
    keys = {work_id: s.key for work_id, s in strata.items()}  # folded once per work
    ordered = sorted(set(pairs))
    pool_of: dict[Stratum, int] = {}
    pools: list[list[str]] = []
    for work_id in sorted(keys):
        key = keys[work_id]
        if key is not None:
            if key not in pool_of:
                pool_of[key] = len(pools)
                pools.append([])
            pools[pool_of[key]].append(work_id)
    no_refs: frozenset[str] = frozenset()
    index = [-1 if (key := keys.get(cited)) is None else pool_of.get(key, -1) for _, cited in ordered]
    controls = draw_controls(ordered, index, pools,
                             lambda citing, w: w in cited_by.get(citing, no_refs), seed=seed, draws=draws)
    return dict(zip(ordered, controls, strict=True))


def draw_controls(pairs: Sequence[tuple[W, W]], pool_index: Sequence[int], pools: Sequence[Sequence[W]],
                  cites: Callable[[W, W], bool], *, seed: int = 1, draws: int = 16) -> list[W | None]:
    """The draw behind :func:`match_controls`, over ids of any kind: one control (or None) per pair, in
    ``pairs`` order, which must be the (citing, cited) order of the work ids as ``match_controls`` sorts
    them (the draws are sequential; the same order gives the same controls). ``pool_index``: each pair's
    cited work's stratum as an index into ``pools`` (-1: none); ``pools``: each stratum's works, in work id
    order; ``cites(citing, w)``: whether the citing work's reference list names ``w``."""
    rng = random.Random(seed)
    randrange = rng.randrange
    getrandbits = rng.getrandbits
    bits = [len(p).bit_length() for p in pools]
    out: list[W | None] = []
    for (citing, cited), k in zip(pairs, pool_index, strict=True):
        candidates = pools[k] if k >= 0 else ()
        chosen: W | None = None
        if candidates:
            n, b = len(candidates), bits[k]
            for _ in range(draws):
                # rng.randrange(n), inlined (the hot loop of a whole-index analysis): CPython draws
                # getrandbits(n.bit_length()) until below n; the same numbers, without its argument checks.
                r = getrandbits(b)
                while r >= n:
                    r = getrandbits(b)
                w = candidates[r]
                if w != cited and w != citing and not cites(citing, w):
                    chosen = w
                    break
            else:
                rest = [w for w in candidates if w != cited and w != citing and not cites(citing, w)]
                chosen = rest[randrange(len(rest))] if rest else None
        out.append(chosen)
    return out
