"""A dictionary-backed :class:`~citelens.references.resolve.WorkIndex` for tests and evaluations.

It applies the same rules as the stores (:mod:`citelens.rules`: blocking, merging, one work per
identifier), so resolution measured on it is resolution as stored.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from citelens.references.resolve import (
    WorkCandidate,
    WorkIndex,
    WorkRecord,
    author_key,
    first_page,
    fold,
    title_key,
)
from citelens.rules import IDENTIFIER_KINDS, MIN_TITLE_KEY, free_identifiers, is_candidate, merge_work


class InMemoryWorkIndex(WorkIndex):
    """Implements the resolver's WorkIndex protocol without a database (dictionaries: nothing to prefetch)."""

    def __init__(self) -> None:
        self.works: dict[str, WorkRecord] = {}
        self._ids: dict[tuple[str, str], str] = {}
        self._by_author: dict[str, list[str]] = defaultdict(list)
        self._by_title: dict[str, list[str]] = defaultdict(list)
        self.aliases: dict[tuple[str, str], str] = {}

    def find_work_by_identifier(self, kind: str, value: str) -> str | None:
        return self._ids.get((kind, value)) if value else None

    def find_work_by_alias(self, kind: str, value: str) -> str | None:
        return self.aliases.get((kind, value)) if value else None

    def add_work_alias(self, work_id: str, kind: str, value: str) -> None:
        if value and work_id in self.works:
            self.aliases.setdefault((kind, value), work_id)

    def find_work_candidates(self, first_author: str, year: int | None, title_key_: str) -> list[WorkCandidate]:
        ids = list(self._by_author.get(first_author, [])) if first_author else []
        if title_key_ and len(title_key_) >= MIN_TITLE_KEY:
            ids += self._by_title.get(title_key_, [])
        out, seen = [], set()
        for wid in ids:
            if wid in seen:
                continue
            seen.add(wid)
            w = self.works[wid]
            if not is_candidate(w, first_author, year, title_key_):
                continue
            out.append(WorkCandidate(work_id=wid, title_norm=fold(w.title), first_author=author_key(w.authors),
                                     year=w.year, container_norm=fold(w.container), volume=w.volume,
                                     first_page=first_page(w.pages), doi=w.doi, pages=w.pages))
        return out

    def _taken(self, record: WorkRecord, other_than: str | None = None) -> set[tuple[str, str]]:
        return {(k, getattr(record, k)) for k in IDENTIFIER_KINDS
                if getattr(record, k) and self._ids.get((k, getattr(record, k)), other_than) != other_than}

    def create_work(self, record: WorkRecord) -> str:
        wid = f"W{len(self.works) + 1}"
        self.works[wid] = free_identifiers(replace(record, authors=list(record.authors)), self._taken(record))
        self._index(wid)
        return wid

    def enrich_work(self, work_id: str, record: WorkRecord) -> WorkRecord:
        old = self.works[work_id]
        self._unindex(work_id)
        self.works[work_id] = merge_work(old, record, self._taken(record, other_than=work_id))
        self._index(work_id)
        return self.works[work_id]

    def _unindex(self, wid: str) -> None:
        w = self.works[wid]
        a, t = author_key(w.authors), title_key(w.title)
        if a and wid in self._by_author[a]:
            self._by_author[a].remove(wid)
        if t and wid in self._by_title[t]:
            self._by_title[t].remove(wid)

    def _index(self, wid: str) -> None:
        w = self.works[wid]
        for kind in IDENTIFIER_KINDS:
            v = getattr(w, kind)
            if v:
                self._ids.setdefault((kind, v), wid)
        a = author_key(w.authors)
        if a and wid not in self._by_author[a]:
            self._by_author[a].append(wid)
            self._by_author[a].sort(key=lambda i: int(i[1:]))  # id order, as the stores' queries
        t = title_key(w.title)
        if t and wid not in self._by_title[t]:
            self._by_title[t].append(wid)
            self._by_title[t].sort(key=lambda i: int(i[1:]))
