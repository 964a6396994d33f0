"""Where places are on a map: the offline coordinates the knowledge-flow map draws with.

Built by ``scripts/build_coordinates.py`` from the ROR records of ``../shared/data/geo`` (CC0; see
LICENSES.txt): a city's, region's or country's point is the median position of its research organisations
(0.1° precision), keyed as a flow unit keys places (country code and folded name). The 2° cells that hold
any organisation are the map's backdrop; nothing else (no coastlines, no shapefile) is shipped.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

LatLng = tuple[float, float]


@dataclass
class Coordinates:
    cities: dict[tuple[str, str], LatLng] = field(default_factory=dict)  # (alpha-2, folded city) →
    regions: dict[tuple[str, str], LatLng] = field(default_factory=dict)  # (alpha-2, folded region) →
    countries: dict[str, LatLng] = field(default_factory=dict)  # alpha-2 →
    cells: list[tuple[int, int]] = field(default_factory=list)  # south-west corners of occupied cells
    cell_degrees: int = 2


@cache
def coordinates() -> Coordinates:
    """The shipped coordinates (read once per process, a few milliseconds)."""
    out = Coordinates()
    raw = resources.files(__package__).joinpath("coordinates.tsv.gz").read_bytes()
    for line in gzip.decompress(raw).decode("utf-8").splitlines():
        kind, *cols = line.split("\t")
        if kind == "T":
            out.cities[(cols[0], cols[1])] = (float(cols[2]), float(cols[3]))
        elif kind == "R":
            out.regions[(cols[0], cols[1])] = (float(cols[2]), float(cols[3]))
        elif kind == "C":
            out.countries[cols[0]] = (float(cols[1]), float(cols[2]))
        elif kind == "G":
            out.cells.append((int(cols[0]), int(cols[1])))
    return out
