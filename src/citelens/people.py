"""Author disambiguation rules: pure functions the stores call when they save a document's authors.

ORCID first: two records with the same ORCID are one author, two different ORCIDs are never one author.
Without an ORCID, a record joins an existing author with the same name key (folded family name and first
initial) only on evidence: a shared co-author (by name key) or a shared institution (ROR id or normalised
name). Otherwise it starts a new author, so a common name does not pool strangers (precision over recall).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from citelens.references.resolve import fold


def author_name_key(family: str, given: str) -> str:
    """Folded family name and first initial: 'Müller-Lyon', 'Hans' → 'muller lyon h'."""
    return " ".join(x for x in (fold(family), fold(given)[:1]) if x)


@dataclass(frozen=True)
class AuthorEvidence:
    """What is known about an author (a stored cluster, or the record being saved)."""

    orcid: str = ""
    coauthors: frozenset[str] = field(default_factory=frozenset)  # name keys
    institutions: frozenset[str] = field(default_factory=frozenset)  # "ror:…" and folded names
    given_names: frozenset[str] = field(default_factory=frozenset)  # as printed


def institution_keys(rors: Iterable[str], names: Iterable[str]) -> frozenset[str]:
    return frozenset({f"ror:{r}" for r in rors if r} | {fold(n) for n in names if fold(n)})


def given_names_compatible(a: str, b: str) -> bool:
    """'Jung-Gu' fits 'Jung-Gu', 'Junggu', 'J.-G.' and 'J'; 'Li' does not fit 'Lei'."""
    fa, fb = fold(a), fold(b)
    if not fa or not fb or fa.replace(" ", "") == fb.replace(" ", ""):
        return True
    ta, tb = fa.split(), fb.split()
    if all(len(t) == 1 for t in ta) or all(len(t) == 1 for t in tb):
        ia, ib = "".join(t[0] for t in ta), "".join(t[0] for t in tb)
        return ia.startswith(ib) or ib.startswith(ia)
    return False


def same_author(record: AuthorEvidence, known: AuthorEvidence) -> bool:
    """Whether ``record`` (same name key as ``known``) is the author ``known`` describes."""
    if record.orcid and known.orcid:
        return record.orcid == known.orcid
    if known.given_names and not any(given_names_compatible(g, k) for g in record.given_names or {""}
                                     for k in known.given_names):
        return False  # "Li Wang" and "Lei Wang" share a name key, not a name
    return bool(record.coauthors & known.coauthors) or bool(record.institutions & known.institutions)
