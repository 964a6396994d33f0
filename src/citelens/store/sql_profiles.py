"""The profile reads of the SQL stores: authors, institutions and journals, and the places of works that the
knowledge-flow analysis reads.

A mixin of :class:`~citelens.store.sql.SQLStore`, kept apart from its writes, resolution index and tallies so that
each module reads as one concept; the abstract methods below are what these reads take from the rest of the store.
"""

from __future__ import annotations

import abc
import heapq
import math
import re
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any, NamedTuple

from citelens.document import SECTIONS, STANCES
from citelens.flows.distance import Place
from citelens.integrity import cites_retracted
from citelens.people import author_name_key
from citelens.references.identifiers import normalise_issn
from citelens.rules import counted_stance
from citelens.store.base import MAX_ROW_ID, Row, format_work_id
from citelens.store.migrations import migration_version
from citelens.store.records import (
    AuthorAffiliation,
    AuthorProfile,
    AuthorWork,
    CitesRetracted,
    CoAuthor,
    DocumentAuthor,
    IndexWindow,
    InstitutionAuthor,
    InstitutionHit,
    InstitutionProfile,
    InstitutionWork,
    JournalHit,
    JournalProfile,
    JournalWork,
    LocatedWork,
    Notice,
    NoticedCitation,
    Tallies,
    WorkAuthor,
    author_work_order,
)


class ProfileQueries(abc.ABC):
    """Author, institution and journal profiles and searches, and the located works and ties of the flows."""

    backend: str

    # ------------------------------------------------------------------ what these reads take from the store
    @abc.abstractmethod
    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[Row]: ...

    @abc.abstractmethod
    def _row(self, sql: str, args: Sequence[Any] = ()) -> Row | None: ...

    @abc.abstractmethod
    def _scalar(self, sql: str, args: Sequence[Any] = ()) -> Any: ...

    @abc.abstractmethod
    def _stream(self, sql: str, args: Sequence[Any] = ()) -> Iterator[Row]: ...

    @abc.abstractmethod
    def _stream_tuples(self, sql: str, args: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]: ...

    @property
    @abc.abstractmethod
    def schema_version(self) -> int: ...

    @property
    @abc.abstractmethod
    def _has_work_tallies(self) -> bool: ...

    @abc.abstractmethod
    def _tallies_of_works(self, work_ns: list[int], min_confidence: float | None = None) -> dict[int, Tallies]: ...

    @abc.abstractmethod
    def _window_counts(self, works: str, args: Sequence[Any], year: int, min_confidence: float | None = None
                       ) -> dict[int | None, dict[str, int]]: ...

    @abc.abstractmethod
    def _sure_counts(self, works: str, args: Sequence[Any], min_confidence: float, *, per_work: bool = True
                     ) -> dict[int | None, dict[str, int]]: ...

    @abc.abstractmethod
    def _notice_columns(self, table: str = "") -> str: ...

    @staticmethod
    @abc.abstractmethod
    def _notice(r: Row) -> Notice: ...

    @abc.abstractmethod
    def _by_year(self, works: str, args: Sequence[Any], *, per_work: bool = False) -> tuple[str, Sequence[Any]]: ...

    # ------------------------------------------------------------------------------------------ authors
    def find_authors(self, query: str, limit: int = 20) -> list[tuple[str, str, str, int]]:
        """Authors an ORCID, an author id or a name ("Anna Smith", "Smith, Anna", "Smith") names:
        ``(id, name, orcid, documents)``, most documents first."""
        q = query.strip()
        orcid = re.search(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]", q)
        sel = ("SELECT a.id, a.name, a.orcid, COUNT(d.document_id) AS n FROM authors a"
               " LEFT JOIN document_authors d ON d.author_id = a.id WHERE {} GROUP BY a.id, a.name, a.orcid"
               " ORDER BY n DESC, a.id LIMIT ?")
        if orcid:
            rows = self._rows(sel.format("a.orcid = ?"), (orcid.group(0), limit))
        elif (aid := _author_row_id(q)) is not None:
            rows = self._rows(sel.format("a.id = ?"), (aid, limit))
        elif q.isdigit():  # digits that are no author id ("²", a number past the 64-bit range)
            rows = []
        else:
            if "," in q:
                family, given = q.split(",", 1)
            elif " " in q:
                given, family = q.rsplit(" ", 1)
            else:
                family, given = q, ""
            key = author_name_key(family, given)
            if given.strip():
                rows = self._rows(sel.format("a.name_key = ?"), (key, limit))
            else:  # a family name alone: every initial
                rows = self._rows(sel.format("a.name_key = ? OR a.name_key LIKE ?"), (key, key + " %", limit))
        return [(str(r["id"]), r["name"], r["orcid"], int(r["n"])) for r in rows]

    def author_profile(self, author_id: str, *, works_sort: str = "newest", works_limit: int | None = None,
                       works_offset: int = 0, min_confidence: float | None = None) -> AuthorProfile | None:
        aid = _author_row_id(str(author_id))
        if aid is None:
            return None
        order = author_work_order(works_sort)
        if works_offset < 0 or (works_limit is not None and works_limit < 0):
            raise ValueError("works_offset and works_limit must not be negative")
        head = self._row("SELECT id, name, orcid FROM authors WHERE id = ?", (aid,))
        if head is None:
            return None
        # Every work, light (a prolific author has hundreds): the figures over all of them are exact whatever
        # page is shown, and the order is total on every backend. Only the page's works are sent on.
        rows = self._rows("SELECT d.work_id, MAX(d.doi) AS doi, MAX(d.title) AS title, MAX(d.year) AS year,"
                          " MIN(a.position) AS position, MIN(a.author_confidence) AS confidence"
                          " FROM document_authors a JOIN documents d ON d.id = a.document_id"
                          " WHERE a.author_id = ? GROUP BY d.work_id", (aid,))
        work_ns = [int(r["work_id"]) for r in rows]
        # One grouped query for every work's tallies, not two per work (with a threshold, from the per-work
        # tallies' confidence buckets: every figure below, the sorts and the most supported/contrasted included,
        # counts a supporting/contrasting label under it as mentioning).
        counted = self._tallies_of_works(work_ns, min_confidence)
        empty = Tallies()
        works = [AuthorWork(work_id=format_work_id(n), doi=r["doi"] or "", title=r["title"], year=r["year"],
                            position=int(r["position"]), tallies=counted.get(n, empty),
                            confidence=None if r["confidence"] is None else float(r["confidence"]))
                 for n, r in zip(work_ns, rows, strict=True)]
        # Every work once (the works are grouped by work id).
        total = {k: sum(getattr(t, k) for t in counted.values())
                 for k in ("supporting", "contrasting", "mentioning", "unclassified", "total")}
        most = {s: tuple(w.work_id for w in heapq.nsmallest(5, (w for w in works if getattr(w.tallies, s)),
                                                            key=author_work_order(s)))
                for s in ("supporting", "contrasting")}
        works.sort(key=order)
        page = works[works_offset:] if works_limit is None else works[works_offset:works_offset + works_limit]
        pubs, self_cites = 0, 0
        if works:
            # One parameter per work (a little cheaper than an IN subquery on SQLite); past what SQLite accepts
            # in one statement, the works go in as a subquery.
            marks = ",".join("?" * len(work_ns))
            works_in, works_args = (f"IN ({marks})", work_ns) if len(work_ns) <= 30_000 else (
                "IN (SELECT d.work_id FROM document_authors a JOIN documents d ON d.id = a.document_id"
                " WHERE a.author_id = ?)", [aid])
            pubs = int(self._scalar(f"SELECT COUNT(DISTINCT document_id) AS n FROM statements"
                                    f" WHERE cited_work_id {works_in}", works_args) or 0)
            self_cites = int(self._scalar(
                f"SELECT SUM(self_citations) AS n FROM work_totals WHERE work_id {works_in}"
                if self._has_work_tallies else
                f"SELECT COUNT(*) AS n FROM statements WHERE cited_work_id {works_in} AND self_citation = 1",
                works_args) or 0)
        coauthors = tuple(CoAuthor(author_id=str(r["author_id"]), name=r["name"], documents=int(r["n"])) for r in
                          self._rows("SELECT c.author_id, au.name, c.n FROM (SELECT o.author_id,"
                                     " COUNT(DISTINCT o.document_id) AS n FROM document_authors a"
                                     " JOIN document_authors o ON o.document_id = a.document_id AND o.position"
                                     " <> a.position WHERE a.author_id = ? AND o.author_id <> a.author_id"
                                     " GROUP BY o.author_id ORDER BY n DESC, o.author_id LIMIT 50) c"
                                     # names for the 50 kept only, not for every co-author row
                                     " JOIN authors au ON au.id = c.author_id ORDER BY c.n DESC, c.author_id",
                                     (aid,)))
        affiliations = tuple(AuthorAffiliation(
            institution=r["institution"], ror=r["ror"], city=r["city"], region=r["region"], country=r["country"],
            first_year=r["first_year"], last_year=r["last_year"], documents=int(r["n"])) for r in self._rows(
                "SELECT a.institution, a.ror, a.city, a.region, a.country, MIN(d.year) AS first_year,"
                " MAX(d.year) AS last_year, COUNT(*) AS n FROM document_authors a JOIN documents d"
                " ON d.id = a.document_id WHERE a.author_id = ? AND (a.institution <> '' OR a.country <> '')"
                " GROUP BY a.institution, a.ror, a.city, a.region, a.country"
                # a total order, the same on both backends (they put NULL years at opposite ends)
                " ORDER BY MAX(d.year) IS NULL, last_year DESC, n DESC, a.institution, a.ror, a.city, a.region,"
                " a.country", (aid,)))
        return AuthorProfile(id=str(aid), name=head["name"], orcid=head["orcid"], works=tuple(page),
                             tallies=Tallies(citing_publications=pubs, **total), coauthors=coauthors,
                             affiliations=affiliations,
                             self_citation_share=round(self_cites / total["total"], 4) if total["total"] else None,
                             works_total=len(works), works_sort=works_sort, works_offset=works_offset,
                             most_supported=most["supporting"], most_contrasted=most["contrasting"],
                             min_confidence=min_confidence, cites_retracted=self.cites_retracted_of(
                                 "SELECT document_id FROM document_authors WHERE author_id = ?", (aid,), min_confidence))

    def institution_profile(self, ror: str, this_year: int | None = None, *,
                            min_confidence: float | None = None, works_sort: str = "newest",
                            works_limit: int | None = 0, works_offset: int = 0,
                            authors_limit: int | None = 0) -> InstitutionProfile | None:
        """Works with an author affiliated with ``ror`` and the statements citing them, by citing-year window;
        one page of the works and the authors with the most works."""
        ror = ror.strip().rsplit("/", 1)[-1]
        author_work_order(works_sort)  # an unknown sort is a ValueError before any read
        if works_offset < 0 or (works_limit is not None and works_limit < 0):
            raise ValueError("works_offset and works_limit must not be negative")
        head = self._row("SELECT institution, city, region, country, COUNT(DISTINCT author_id) AS n"
                         " FROM document_authors WHERE ror = ? GROUP BY institution, city, region, country"
                         " ORDER BY n DESC LIMIT 1", (ror,)) if ror else None
        if head is None:
            return None
        # The institution's works as a subquery, not one bound parameter per work: a large institution has
        # more works than SQLite (32,766) or PostgreSQL (65,535) accept as parameters of one statement.
        works_sql = ("SELECT DISTINCT d.work_id FROM document_authors a JOIN documents d ON d.id = a.document_id"
                     " WHERE a.ror = ?")
        n_works = int(self._scalar(f"SELECT COUNT(*) AS n FROM ({works_sql}) w", (ror,)) or 0)
        n_authors = int(self._scalar("SELECT COUNT(DISTINCT author_id) AS n FROM document_authors WHERE ror = ?",
                                     (ror,)) or 0)
        year = this_year or date.today().year
        by_year = self._window_counts(f"IN ({works_sql})", (ror,), year, min_confidence)
        pubs = int(self._scalar(f"SELECT COUNT(DISTINCT document_id) AS n FROM statements WHERE cited_work_id IN"
                                f" ({works_sql})", (ror,)) or 0)
        windows = _index_windows(by_year, year)
        every = windows[-1]
        return InstitutionProfile(
            ror=ror, name=head["institution"], city=head["city"], region=head["region"], country=head["country"],
            works=n_works, authors=n_authors,
            tallies=Tallies(supporting=every.supporting, contrasting=every.contrasting, mentioning=every.mentioning,
                            unclassified=every.total - every.statements - every.mentioning, total=every.total,
                            citing_publications=pubs),
            windows=tuple(windows), min_confidence=min_confidence,
            cites_retracted=self.cites_retracted_of("SELECT document_id FROM document_authors WHERE ror = ?", (ror,),
                                                    min_confidence),
            works_list=self._institution_works(ror, works_sort, works_limit, works_offset, min_confidence)
            if works_limit != 0 and n_works > works_offset else (),
            works_sort=works_sort, works_offset=works_offset,
            authors_list=self._institution_authors(ror, authors_limit) if authors_limit != 0 else ())

    # The works of an institution, one row per work: its (latest) year and journal from its documents.
    _INSTITUTION_WORKS = ("SELECT d.work_id, MAX(d.year) AS year FROM document_authors a JOIN documents d"
                          " ON d.id = a.document_id WHERE a.ror = ? GROUP BY d.work_id")

    def _institution_works(self, ror: str, sort: str, limit: int | None, offset: int,
                           min_confidence: float | None) -> tuple[InstitutionWork, ...]:
        """One page of an institution's works in the order of :func:`author_work_order` (the author page's).

        An institution can have tens of thousands of works: the page is chosen in SQL (ORDER BY … LIMIT) from
        the works' years and their per-work totals, and only its works are then read in full. The order is
        author_work_order's, written in SQL: unknown years last, then newest (or oldest), then work id; a sort by
        a type, the most of it first. A total needs no threshold (one only moves a label to mentioning), but the
        count of one type at a threshold is not in the totals: that sort (or an index without per-work totals)
        reads every work's year and counts them all in one grouped read of the per-work tallies, and pages here.
        """
        field = "statements" if sort == "cited" else sort
        by_type = sort not in ("newest", "oldest")
        if by_type and (not self._has_work_tallies or (min_confidence is not None and sort != "cited")):
            ids = self._ranked_by_counts(ror, sort, limit, offset, min_confidence)
        else:
            year_order = "w.year DESC" if sort != "oldest" else "w.year"
            join = " LEFT JOIN work_totals t ON t.work_id = w.work_id" if by_type else ""
            first = f"COALESCE(t.{field}, 0) DESC, " if by_type else ""
            ids = [int(r["work_id"]) for r in self._rows(
                f"SELECT w.work_id FROM ({self._INSTITUTION_WORKS}) w{join}"
                f" ORDER BY {first}w.year IS NULL, {year_order}, w.work_id LIMIT ? OFFSET ?",
                (ror, MAX_ROW_ID if limit is None else limit, offset))]
        if not ids:
            return ()
        meta = {int(r["work_id"]): r for r in self._in_chunks(
            "SELECT work_id, MAX(doi) AS doi, MAX(title) AS title, MAX(year) AS year, MAX(journal) AS journal"
            " FROM documents WHERE work_id IN ({}) GROUP BY work_id", set(ids))}
        names: dict[int, list[WorkAuthor]] = {}
        ordered = sorted(ids)
        for i in range(0, len(ordered), 500):  # (a page of all the works runs past what one statement takes)
            part = ordered[i:i + 500]
            for r in self._rows(
                    "SELECT d.work_id, a.author_id, MIN(a.position) AS position, MAX(au.name) AS name"
                    " FROM document_authors a JOIN documents d ON d.id = a.document_id JOIN authors au"
                    f" ON au.id = a.author_id WHERE d.work_id IN ({','.join('?' * len(part))}) AND a.ror = ?"
                    " GROUP BY d.work_id, a.author_id ORDER BY d.work_id, position, a.author_id", (*part, ror)):
                names.setdefault(int(r["work_id"]), []).append(WorkAuthor(author_id=str(r["author_id"]),
                                                                           name=r["name"]))
        counted = self._tallies_of_works(ids, min_confidence)
        empty = Tallies()
        return tuple(InstitutionWork(work_id=format_work_id(n), doi=meta[n]["doi"] or "", title=meta[n]["title"],
                                     year=meta[n]["year"], journal=meta[n]["journal"] or "",
                                     tallies=counted.get(n, empty), authors=tuple(names.get(n, ())))
                     for n in ids if n in meta)

    def _ranked_by_counts(self, ror: str, sort: str, limit: int | None, offset: int,
                          min_confidence: float | None) -> list[int]:
        """The page of an institution's works in a sort by counts that the per-work totals cannot give: every
        work's year, and every cited work's count in one grouped read (not one read per work)."""
        years = [(int(r["work_id"]), r["year"]) for r in self._rows(self._INSTITUTION_WORKS, (ror,))]
        counts: dict[int, Tallies]
        if self._has_work_tallies and min_confidence is not None and math.isfinite(min_confidence):
            counts = {int(w): Tallies(**{k: v for k, v in c.items() if k in STANCES},
                                      total=sum(c.values()))
                      for w, c in self._sure_counts(f"IN (SELECT work_id FROM ({self._INSTITUTION_WORKS}) w)",
                                                    (ror,), min_confidence).items() if w is not None}
        else:
            counts = self._tallies_of_works([w for w, _ in years], min_confidence)
        empty = Tallies()
        ranked = sorted((_Ranked(n, year, counts.get(n, empty)) for n, year in years),
                        key=author_work_order(sort))
        page = ranked[offset:] if limit is None else ranked[offset:offset + limit]
        return [w.n for w in page]

    def _institution_authors(self, ror: str, limit: int | None) -> tuple[InstitutionAuthor, ...]:
        """The authors affiliated with ``ror``, the most works (with that affiliation) first."""
        return tuple(InstitutionAuthor(author_id=str(r["author_id"]), name=r["name"], works=int(r["n"])) for r in
                     self._rows("SELECT c.author_id, au.name, c.n FROM (SELECT a.author_id,"
                                " COUNT(DISTINCT d.work_id) AS n FROM document_authors a JOIN documents d"
                                " ON d.id = a.document_id WHERE a.ror = ? GROUP BY a.author_id"
                                " ORDER BY n DESC, a.author_id LIMIT ?) c"
                                # names for the authors kept only
                                " JOIN authors au ON au.id = c.author_id ORDER BY c.n DESC, c.author_id",
                                (ror, MAX_ROW_ID if limit is None else limit)))

    def find_institutions(self, query: str, limit: int = 20) -> list[InstitutionHit]:
        q = query.strip()
        ror = q.rstrip("/").rsplit("/", 1)[-1] if q.lower().startswith(("https://ror.org/", "ror.org/")) else q
        sel = ("SELECT ror, MIN(institution) AS name, MIN(country) AS country, COUNT(DISTINCT author_id) AS n"
               " FROM document_authors WHERE {} GROUP BY ror ORDER BY n DESC, ror LIMIT ?")
        rows = self._rows(sel.format("ror = ?"), (ror, limit)) if re.fullmatch(r"0[a-z0-9]{6}\d{2}", ror) else []
        words = _like_words(q)
        if not rows and words:
            rows = self._rows(sel.format("ror <> '' AND lower(institution) LIKE ?"),
                              ("%" + "%".join(words) + "%", limit))
        return [InstitutionHit(ror=r["ror"], name=r["name"], country=r["country"], authors=int(r["n"]))
                for r in rows]

    def _journal_issns(self, issn: str) -> list[str]:
        """``issn`` and the journal's other ISSN (print ↔ electronic), as a work that carries both pairs them.
        (Each lookup stops at the first such work: the indexes are (issn, eissn) and (eissn, issn).)"""
        e = self._row("SELECT eissn FROM works WHERE issn = ? AND eissn <> '' LIMIT 1", (issn,))
        p = self._row("SELECT issn FROM works WHERE eissn = ? AND issn <> '' LIMIT 1", (issn,))
        return sorted({issn, e["eissn"] if e else "", p["issn"] if p else ""} - {""})

    def find_journals(self, query: str, limit: int = 20, *, exact: bool = False) -> list[JournalHit]:
        q = query.strip()
        issn = normalise_issn(q) if len(q) <= 20 else ""
        if issn:
            hits = [issn] if self._row("SELECT issn FROM journal_names WHERE issn = ? LIMIT 1", (issn,)) else []
        elif exact:
            hits = [r["issn"] for r in self._rows("SELECT issn FROM journal_names WHERE lower(name) = ? ORDER BY issn",
                                                   (q.lower(),))] if q else []
        else:
            words = _like_words(q)
            rows = self._rows("SELECT issn FROM journal_names WHERE lower(name) = ?", (q.lower(),)) if q else []
            if words:
                rows += self._rows("SELECT issn FROM journal_names WHERE lower(name) LIKE ? ORDER BY length(name),"
                                   " issn LIMIT ?", ("%" + "%".join(words) + "%", limit * 4))
            hits = list(dict.fromkeys(r["issn"] for r in rows))
        out: list[JournalHit] = []
        seen: set[str] = set()
        for h in hits:
            if h in seen:
                continue
            issns = self._journal_issns(h)
            seen |= set(issns)
            p_issn, e_issn = self._journal_pair(issns)
            out.append(JournalHit(issn=p_issn, eissn=e_issn, name=self._journal_name(issns)))
            if len(out) >= limit:
                break
        return out

    def _journal_pair(self, issns: Sequence[str]) -> tuple[str, str]:
        """(print ISSN, e-ISSN) of a journal, by the column its works carry each in (an online-only journal
        has an e-ISSN alone); a journal known only by names keeps its one ISSN as the print one."""
        printed = next((x for x in issns if self._row("SELECT 1 AS x FROM works WHERE issn = ? LIMIT 1", (x,))), "")
        online = next((x for x in issns if x != printed
                       and self._row("SELECT 1 AS x FROM works WHERE eissn = ? LIMIT 1", (x,))), "")
        return (printed, online) if printed or online else (issns[0], "")

    def _journal_name(self, issns: Sequence[str]) -> str:
        """The longest name the journal goes by: its full title rather than an abbreviation."""
        row = self._row(f"SELECT name FROM journal_names WHERE issn IN ({','.join('?' * len(issns))})"
                        " ORDER BY length(name) DESC, name LIMIT 1", issns)
        return str(row["name"]) if row else ""

    def journal_profile(self, issn: str, this_year: int | None = None, *,
                        min_confidence: float | None = None) -> JournalProfile | None:
        """Works carrying one of the journal's ISSNs, or (without an ISSN) one of its names; the statements
        citing them, by citing-year window, and its most cited works."""
        wanted = normalise_issn(issn) if len(issn) <= 20 else ""
        if not wanted:
            return None
        issns = self._journal_issns(wanted)
        names = [r["name"] for r in self._rows(
            f"SELECT DISTINCT name FROM journal_names WHERE issn IN ({','.join('?' * len(issns))}) ORDER BY name",
            issns)]
        if not names and issns == [wanted] and not self._row(
                "SELECT id FROM works WHERE issn = ? OR eissn = ? LIMIT 1", (wanted, wanted)):
            return None
        i_marks, n_marks = ",".join("?" * len(issns)), ",".join("?" * len(names))
        # One UNION per index (issn, eissn, lower(container)): an OR would scan the works table.
        works_sql = (f"SELECT id FROM works WHERE issn IN ({i_marks}) UNION SELECT id FROM works WHERE eissn IN"
                     f" ({i_marks})")
        works_args: list[Any] = [*issns, *issns]
        by_name_sql = ""
        if names:
            by_name_sql = (f"SELECT id FROM works WHERE lower(container) IN ({n_marks}) AND issn = '' AND"
                           " eissn = ''")
            works_sql += " UNION " + by_name_sql
            works_args += [n.lower() for n in names]
        n_works = int(self._scalar(f"SELECT COUNT(*) AS n FROM ({works_sql}) AS w", works_args) or 0)
        n_by_name = int(self._scalar(f"SELECT COUNT(*) AS n FROM ({by_name_sql}) AS w",
                                     [n.lower() for n in names]) or 0) if names else 0
        year = this_year or date.today().year
        by_year = self._window_counts(f"IN ({works_sql})", works_args, year, min_confidence)
        per_work: dict[int, dict[str, int]] = {}
        if self._has_work_tallies:  # the 20 most cited works: one row each in the per-work totals
            for r in self._rows(f"SELECT work_id, supporting, contrasting, mentioning, statements FROM work_totals"
                                f" WHERE work_id IN ({works_sql}) ORDER BY statements DESC, work_id LIMIT 20",
                                works_args):
                per_work[int(r["work_id"])] = {s: int(r[s]) for s in STANCES}
                per_work[int(r["work_id"])][""] = int(r["statements"]) - sum(int(r[s]) for s in STANCES)
        else:
            for r in self._rows(*self._by_year(f"IN ({works_sql})", works_args, per_work=True)):
                work_counts = per_work.setdefault(int(r["cited_work_id"]), {})
                work_counts[r["stance"] or ""] = work_counts.get(r["stance"] or "", 0) + int(r["n"])
        # The citing publications: distinct documents over all the journal's works (not a sum of per-work counts).
        pubs = int(self._scalar(f"SELECT COUNT(DISTINCT document_id) AS n FROM statements WHERE cited_work_id IN"
                                f" ({works_sql})", works_args) or 0)
        windows = _index_windows(by_year, year)
        every = windows[-1]
        top = sorted(per_work, key=lambda w: (-sum(per_work[w].values()), w))[:20]
        # The most cited (by statements, whatever their label), counted alike; their citing publications too, which
        # the works tables of the other profile pages show (the per-work counts above have none).
        publications: dict[int, int] = {}
        for w, t in self._tallies_of_works(top, min_confidence).items():
            publications[w] = t.citing_publications
            if min_confidence is not None:
                per_work[w] = {s: getattr(t, s) for s in STANCES} | {"": t.unclassified}
        meta = {int(r["id"]): r for r in self._rows(
            f"SELECT id, doi, title, year FROM works WHERE id IN ({','.join('?' * len(top))})", top)} if top else {}
        p_issn, e_issn = self._journal_pair(issns)
        return JournalProfile(
            issn=p_issn, eissn=e_issn,
            name=self._journal_name(issns), names=tuple(names), works=n_works, works_by_name=n_by_name,
            tallies=Tallies(supporting=every.supporting, contrasting=every.contrasting, mentioning=every.mentioning,
                            unclassified=every.total - every.statements - every.mentioning, total=every.total,
                            citing_publications=pubs),
            windows=tuple(windows),
            most_cited=tuple(JournalWork(work_id=format_work_id(w), doi=meta[w]["doi"] or "", title=meta[w]["title"],
                                         year=meta[w]["year"], supporting=per_work[w].get("supporting", 0),
                                         contrasting=per_work[w].get("contrasting", 0),
                                         mentioning=per_work[w].get("mentioning", 0),
                                         total=sum(per_work[w].values()),
                                         citing_publications=publications.get(w, 0)) for w in top if w in meta),
            min_confidence=min_confidence,
            # the journal's own papers: the documents of its works (a work known only as cited has none)
            cites_retracted=self.cites_retracted_of(f"SELECT id FROM documents WHERE work_id IN ({works_sql})",
                                                    works_args, min_confidence))

    # ------------------------------------------------------------------------ citing retracted work
    def cites_retracted_of(self, documents_sql: str, args: Sequence[Any],
                           min_confidence: float | None = None) -> CitesRetracted:
        """What the documents ``documents_sql`` selects (one column of document ids, with ``args``) cite that has
        a retraction notice or an expression of concern: every (document, cited work) pair of their reference
        lists, with the document's statements citing the work counted at ``min_confidence``, dated by
        ``citelens.integrity``.

        The references come first (the planner picks notices or documents as the side to start from), then the
        statements of only the documents found citing a noticed work, by document; a journal of thousands of
        papers costs what its citations of noticed works cost.
        """
        noticed = "SELECT target_work_id FROM notices WHERE kind IN ('retraction', 'expression-of-concern')"
        refs = self._rows(f"SELECT r.id, r.document_id, r.work_id FROM refs r WHERE r.work_id IN ({noticed})"
                          f" AND r.document_id IN ({documents_sql})", args)
        if not refs:
            return CitesRetracted()
        counts: dict[tuple[int, int], dict[str, Any]] = {
            (int(r["document_id"]), int(r["work_id"])): {"ids": [], "supporting": 0, "contrasting": 0,
                                                          "mentioning": 0, "": 0} for r in refs}
        # Those documents' statements citing those works, a few hundred documents at a time (statements_document
        # on both backends). Not from the notices again: with Retraction Watch's ~50,000 noticed works PostgreSQL
        # hashed them and scanned every statement (120-140 ms at 1 M statements for the largest institution).
        by_doc: dict[int, set[int]] = {}
        for d, w in counts:
            by_doc.setdefault(d, set()).add(w)
        parts: list[tuple[list[int], set[int]]] = []
        for d in sorted(by_doc):  # documents in parts of at most ~500 parameters with their works
            if not parts or len(parts[-1][0]) + len(parts[-1][1] | by_doc[d]) > 500:
                parts.append(([], set()))
            parts[-1][0].append(d)
            parts[-1][1].update(by_doc[d])
        statements: list[Row] = []
        for docs_part, works_part in parts:
            statements += self._rows(
                "SELECT s.id, s.document_id, s.cited_work_id, s.stance, s.confidence,"
                " CASE WHEN s.corrected_by IS NULL THEN 0 ELSE 1 END AS corrected FROM statements s"
                f" WHERE s.document_id IN ({','.join('?' * len(docs_part))})"
                # "+ 0": a filter, not a second index to intersect (PostgreSQL read the most cited works' entries
                # of statements_cited_year for it, 8 of its 10 ms)
                f" AND s.cited_work_id + 0 IN ({','.join('?' * len(works_part))})", [*docs_part, *sorted(works_part)])
        for st in sorted(statements, key=lambda st: int(st["id"])):
            c = counts.get((int(st["document_id"]), int(st["cited_work_id"])))
            if c is None:  # a statement whose reference no longer resolves there (cannot happen; never counted)
                continue
            c["ids"].append(int(st["id"]))
            stance = counted_stance(st["stance"] or "", st["confidence"], bool(st["corrected"]), min_confidence)
            c[stance if stance in STANCES else ""] += 1
        docs = {int(r["id"]): r for r in self._in_chunks(
            "SELECT id, work_id, doi, title, year FROM documents WHERE id IN ({})", {d for d, _ in counts})}
        works = {int(r["id"]): r for r in self._in_chunks(
            "SELECT id, doi, title, year FROM works WHERE id IN ({})", {w for _, w in counts})}
        notices: dict[int, list[Notice]] = {}
        for r in self._in_chunks(f"SELECT target_work_id, {self._notice_columns()} FROM notices"
                                 " WHERE target_work_id IN ({}) ORDER BY id", {w for _, w in counts}):
            notices.setdefault(int(r["target_work_id"]), []).append(self._notice(r))
        rows = []
        for (d, w), c in counts.items():
            doc, work = docs[d], works[w]
            rows.append(NoticedCitation(
                citing_work_id=format_work_id(doc["work_id"]), citing_doi=doc["doi"] or "", citing_title=doc["title"],
                citing_year=doc["year"], cited_work_id=format_work_id(w), cited_doi=work["doi"] or "",
                cited_title=work["title"], cited_year=work["year"], notices=tuple(notices.get(w, ())),
                statements=len(c["ids"]), supporting=c["supporting"], contrasting=c["contrasting"],
                mentioning=c["mentioning"], unclassified=c[""], statement_ids=tuple(c["ids"][:MAX_STATEMENT_LINKS])))
        return cites_retracted(rows)

    def _in_chunks(self, sql: str, ids: set[int]) -> list[Row]:
        """``sql`` with its ``IN ({})`` filled by ``ids``, in statements of at most 500 parameters (SQLite takes
        32,766 per statement)."""
        ordered = sorted(ids)
        out: list[Row] = []
        for i in range(0, len(ordered), 500):
            part = ordered[i:i + 500]
            out += self._rows(sql.format(",".join("?" * len(part))), part)
        return out

    # ------------------------------------------------------------------------------- knowledge flows
    def flow_statements(self) -> Iterator[tuple[int, int, int]]:
        # Codes, not text, and no GROUP BY: SQLite sorts for a GROUP BY (seconds at a million rows) and text
        # costs a string object per row; the caller counts with numpy.
        section = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(SECTIONS))
        stance = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(STANCES))
        return self._stream_tuples(
            f"SELECT citing_work_id, cited_work_id, (CASE section {section} ELSE {SECTIONS.index('other')} END) * 8"
            f" + (CASE stance {stance} ELSE {len(STANCES)} END) * 2 + (CASE WHEN self_citation <> 0 THEN 1 ELSE 0"
            " END) FROM statements WHERE cited_work_id IS NOT NULL")

    def flow_references(self) -> Iterator[tuple[int, int]]:
        # No DISTINCT: it would sort half a million rows; the caller keeps a set.
        return self._stream_tuples("SELECT d.work_id, r.work_id FROM refs r JOIN documents d"
                                   " ON d.id = r.document_id WHERE r.work_id IS NOT NULL")

    def located_places(self) -> Iterator[tuple[Any, ...]]:
        # Two sorted scans as plain tuples; the precedence is one set lookup and one comparison per row.
        full_text: set[int] = set()
        for r in self._stream_tuples(
                "SELECT d.work_id, d.year, d.journal, 'full text', a.institution, a.ror, a.city, a.region,"
                " a.country FROM document_authors a JOIN documents d ON d.id = a.document_id WHERE a.country <> ''"
                " ORDER BY d.work_id, d.id, a.position"):
            full_text.add(r[0])
            yield r
        if self.schema_version < _work_places_version(self.backend):  # an older index read as it is has none
            return
        work, first_source = None, None
        for r in self._stream_tuples(
                "SELECT p.work_id, w.year, w.container, p.source, p.institution, p.ror, p.city, p.region,"
                " p.country FROM work_places p JOIN works w ON w.id = p.work_id WHERE p.country <> ''"
                " ORDER BY p.work_id, p.source, p.position, p.n"):
            if r[0] != work:
                work, first_source = r[0], r[3]
            if r[3] == first_source and r[0] not in full_text:  # the full text (or the first source) wins
                yield r

    def located_works(self) -> list[LocatedWork]:
        found: dict[int, tuple[int | None, str, list[tuple[str, ...]], str]] = {}  # work row id →
        for r in self.located_places():
            entry = found.get(r[0])
            if entry is None:
                entry = found[r[0]] = (r[1], r[2], [], r[3])
            entry[2].append(r[4:])
        places: dict[tuple[str, ...], Place] = {}  # each distinct place made once

        def place(fields: tuple[str, ...]) -> Place:
            p = places.get(fields)
            if p is None:
                p = places[fields] = Place(*fields)
            return p

        return [LocatedWork(format_work_id(int(n)), year, journal, tuple(place(f) for f in dict.fromkeys(rows)),
                            source) for n, (year, journal, rows, source) in sorted(found.items())]

    def iter_document_authors(self) -> Iterator[DocumentAuthor]:
        for r in self._stream(
                "SELECT d.source, d.doi, a.* FROM document_authors a JOIN documents d ON d.id = a.document_id"
                " ORDER BY a.document_id, a.position"):
            name = f"{r['given']} {r['family']}".strip() if r["given"] else r["family"]
            yield DocumentAuthor(
                citing_source=r["source"], doi=r["doi"] or "", position=int(r["position"]),
                author_id=str(r["author_id"]) if r["author_id"] is not None else "", name=name, orcid=r["orcid"],
                affiliation=r["affiliation"], institution=r["institution"], ror=r["ror"], city=r["city"],
                region=r["region"], country=r["country"])


class _Ranked(NamedTuple):
    """A work as :func:`author_work_order` sorts it, by row id (``n``)."""

    n: int
    year: int | None
    tallies: Tallies

    @property
    def work_id(self) -> str:
        return format_work_id(self.n)


def _author_row_id(text: str) -> int | None:
    """An author id as typed ("109") as the row id it names; None for anything else, digits included that no
    row can have: "²" is a digit to str.isdigit and not to int(), 30 digits overflow SQLite's 64-bit integers
    (`citelens author 999…` ended in OverflowError, /api/authors?q=999… in a 500)."""
    s = text.strip()
    return int(s) if s.isascii() and s.isdigit() and int(s) <= MAX_ROW_ID else None


def _like_words(query: str) -> list[str]:
    """The words of a name query, lower-cased and safe inside a LIKE pattern (no % or _ wildcards)."""
    return [w for w in re.split(r"[\W_]+", query.lower()) if w][:20]


MAX_STATEMENT_LINKS = 20  # statement ids kept per citation, for links (a paper rarely cites one work more often)

WINDOW_YEARS = (2, 5)  # the index windows besides all-time: the citing years up to this one, this many


def _index_windows(by_year: dict[int | None, dict[str, int]], year: int) -> list[IndexWindow]:
    """Supporting ÷ (supporting + contrasting) over citing years ``year``-1.., ``year``-4.. and all, from
    statement counts by citing year and stance ("" = unclassified)."""
    windows = []
    for name, first in (("2y", year - WINDOW_YEARS[0] + 1), ("5y", year - WINDOW_YEARS[1] + 1), ("all", None)):
        c = {s: sum(v.get(s, 0) for y, v in by_year.items() if first is None or (y is not None and y >= first))
             for s in (*STANCES, "")}
        sc = c["supporting"] + c["contrasting"]
        windows.append(IndexWindow(window=name, index=round(c["supporting"] / sc, 4) if sc else None,
                                   statements=sc, total=sum(c.values()), supporting=c["supporting"],
                                   contrasting=c["contrasting"], mentioning=c["mentioning"]))
    return windows


def _work_places_version(backend: str) -> int:
    """The schema version that made the work_places table (numbered in landing order, so looked up by name)."""
    return migration_version(backend, "work_places")
