"""Numbered schema migrations, one SQL file each, per backend (``sqlite/``, ``postgres/``).

``NNNN_name.sql`` takes an index from schema version NNNN-1 to NNNN. A store applies, in order and all in one
transaction, every migration newer than the version its database records, so an index made by an older
CiteLens is upgraded in place and a reader never sees a half-made schema; a database from a newer CiteLens is refused (it may hold what this
version cannot read). SQLite's history starts at version 2 (the first release); PostgreSQL's at 3.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def migrations(backend: str) -> list[Migration]:
    """Every migration of ``backend`` ("sqlite" or "postgres"), oldest first."""
    out = []
    for entry in resources.files(__package__).joinpath(backend).iterdir():
        name = entry.name
        if name.endswith(".sql") and name[:4].isdigit():
            out.append(Migration(int(name[:4]), name[5:-4], entry.read_text(encoding="utf-8")))
    return sorted(out, key=lambda m: m.version)


def latest_version(backend: str) -> int:
    return migrations(backend)[-1].version


@cache
def migration_version(backend: str, name: str) -> int:
    """The schema version of the migration called ``name`` (numbered in landing order, so looked up by name)."""
    return next(m.version for m in migrations(backend) if m.name == name)
