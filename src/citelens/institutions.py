"""Finding institutions in the index: by ROR id or address, by the name their authors' affiliations give, or by
another name the ROR registry lists for them. The CLI's ``citelens institution`` and the API's
``/api/institutions?q=`` both answer through :func:`find_institutions`."""

from __future__ import annotations

from citelens.store import Store
from citelens.store.records import InstitutionHit


def find_institutions(store: Store, query: str, limit: int = 20) -> list[InstitutionHit]:
    """Institutions for ``query``, most authors first: a ROR id or URL, else institutions whose name in the index
    contains its words in order, else the gazetteer's organisations of that name (ROR's other names and
    translations: "Instituto Tecnológico de Massachusetts" finds the Massachusetts Institute of Technology)."""
    hits = store.find_institutions(query, limit=limit)
    if not hits:
        from citelens.places import gazetteer, place_key

        for org in gazetteer().organisations.get(place_key(query), [])[:limit]:
            hits += store.find_institutions(org.ror, limit=1)
    seen: dict[str, InstitutionHit] = {}
    for h in hits:
        seen.setdefault(h.ror, h)
    return list(seen.values())[:limit]
