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


def institution_keys(rors: Iterable[str], names: Iterable[str]) -> frozenset[str]:
    return frozenset({f"ror:{r}" for r in rors if r} | {fold(n) for n in names if fold(n)})


def same_author(record: AuthorEvidence, known: AuthorEvidence) -> bool:
    """Whether ``record`` (same name key as ``known``) is the author ``known`` describes."""
    if record.orcid and known.orcid:
        return record.orcid == known.orcid
    return bool(record.coauthors & known.coauthors) or bool(record.institutions & known.institutions)
