"""A dictionary-backed :class:`~citelens.references.resolve.WorkIndex` for tests and evaluations."""

from __future__ import annotations

from collections import defaultdict

from citelens.references.resolve import WorkCandidate, WorkRecord, author_key, first_page, fold, title_key


class InMemoryWorkIndex:
    """Implements the resolver's WorkIndex protocol without a database."""

    def __init__(self) -> None:
        self.works: dict[str, WorkRecord] = {}
        self._ids: dict[tuple[str, str], str] = {}
        self._by_author: dict[str, list[str]] = defaultdict(list)
        self._by_title: dict[str, list[str]] = defaultdict(list)

    def find_work_by_identifier(self, kind: str, value: str) -> str | None:
        return self._ids.get((kind, value)) if value else None

    def find_work_candidates(self, first_author: str, year: int | None, title_key_: str) -> list[WorkCandidate]:
        ids = list(self._by_author.get(first_author, [])) if first_author else []
        if title_key_ and len(title_key_) >= 12:
            ids += self._by_title.get(title_key_, [])
        out, seen = [], set()
        for wid in ids:
            if wid in seen:
                continue
            seen.add(wid)
            w = self.works[wid]
            if first_author and year is not None and w.year is not None and abs(w.year - year) > 1 \
                    and title_key(w.title) != title_key_:
                continue
            out.append(WorkCandidate(work_id=wid, title_norm=fold(w.title), first_author=author_key(w.authors),
                                     year=w.year, container_norm=fold(w.container), volume=w.volume,
                                     first_page=first_page(w.pages), doi=w.doi))
        return out

    def create_work(self, record: WorkRecord) -> str:
        wid = f"W{len(self.works) + 1}"
        self.works[wid] = WorkRecord(**vars(record))
        self._index(wid)
        return wid

    def enrich_work(self, work_id: str, record: WorkRecord) -> None:
        w = self.works[work_id]
        for attr in ("doi", "pmid", "pmcid", "title", "container", "volume", "pages", "year"):
            if getattr(record, attr) and not getattr(w, attr):
                if attr in ("doi", "pmid", "pmcid") and (attr, getattr(record, attr)) in self._ids:
                    continue
                setattr(w, attr, getattr(record, attr))
        if record.authors and not w.authors:
            w.authors = list(record.authors)
        self._index(work_id)

    def _index(self, wid: str) -> None:
        w = self.works[wid]
        for kind in ("doi", "pmid", "pmcid"):
            v = getattr(w, kind)
            if v:
                self._ids.setdefault((kind, v), wid)
        a = author_key(w.authors)
        if a and wid not in self._by_author[a]:
            self._by_author[a].append(wid)
        t = title_key(w.title)
        if t and wid not in self._by_title[t]:
            self._by_title[t].append(wid)
