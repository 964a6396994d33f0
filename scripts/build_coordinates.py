"""Build the coordinates the knowledge-flow map uses (src/citelens/places/coordinates.tsv.gz).

Reads the ROR records of ../shared/data/geo (the only source there with coordinates: every record has a
latitude and longitude; CC0) and writes one gzipped TSV, coordinates rounded to 0.1° (about 10 km: a
point on a world map, not an address):

    T  <alpha-2>  <folded region>  <folded city>  <lat>  <lng>  <organisations>
                                                a city of a region (one name in two regions is two cities:
                                                Rochester, Minnesota and Rochester, New York): the median
                                                position of its organisations, and how many there are (an
                                                institution is drawn at its city: on a world map the
                                                organisations of one city are one point anyway)
    R  <alpha-2>  <folded region>  <lat>  <lng> a region (ROR's subdivision): the median of its organisations
    C  <alpha-2>  <lat>  <lng>                  a country: the median of its organisations — where its
                                                research is, not its geometric centre (France's point is
                                                in France, not pulled towards its overseas departments)
    G  <lat>  <lng>                             the south-west corners of the 2° cells that hold at least
                                                one organisation: the map's backdrop (no coastlines are
                                                shipped; where research happens draws the continents)

City and region names are folded as ``citelens.references.resolve.fold`` folds them, the way a flow unit
keys them (``Place.unit``). Run: ``python scripts/build_coordinates.py [../shared/data/geo]``.
"""

from __future__ import annotations

import gzip
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from citelens.references.resolve import fold  # noqa: E402

OUT = ROOT / "src" / "citelens" / "places" / "coordinates.tsv.gz"
CELL = 2  # degrees


def _point(points: list[tuple[float, float]]) -> str:
    return (f"{statistics.median(p[0] for p in points):.1f}\t"
            f"{statistics.median(p[1] for p in points):.1f}")


def main(geo: Path) -> None:
    lines: list[str] = []
    cities: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    regions: dict[tuple[str, str], list[tuple[float, float]]] = {}
    countries: dict[str, list[tuple[float, float]]] = {}
    cells: set[tuple[int, int]] = set()
    with gzip.open(geo / "ror_records_latest.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            cc = r.get("country_code") or ""
            if r.get("status") not in ("active", None) or not cc:
                continue
            try:
                lat, lng = float(r["lat"]), float(r["lng"])
            except (KeyError, TypeError, ValueError):
                continue
            if not (-90 <= lat <= 90 and -180 <= lng <= 180):
                continue
            cells.add((int((lat + 90) // CELL) * CELL - 90, int((lng + 180) // CELL) * CELL - 180))
            countries.setdefault(cc, []).append((lat, lng))
            if city := fold(r.get("city") or ""):
                cities.setdefault((cc, fold(r.get("subdivision") or ""), city), []).append((lat, lng))
            if region := fold(r.get("subdivision") or ""):
                regions.setdefault((cc, region), []).append((lat, lng))
    lines += [f"T\t{cc}\t{region}\t{city}\t{_point(p)}\t{len(p)}" for (cc, region, city), p in sorted(cities.items())]
    lines += [f"R\t{cc}\t{region}\t{_point(p)}" for (cc, region), p in sorted(regions.items())]
    lines += [f"C\t{cc}\t{_point(p)}" for cc, p in sorted(countries.items())]
    lines += [f"G\t{lat}\t{lng}" for lat, lng in sorted(cells)]
    with gzip.GzipFile(OUT, "wb", compresslevel=9, mtime=0) as out:
        out.write(("\n".join(lines) + "\n").encode("utf-8"))
    print(f"{OUT}: {len(lines)} lines ({len(cities)} cities, {len(regions)} regions, {len(countries)} countries,"
          f" {len(cells)} cells),"
          f" {OUT.stat().st_size} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT.parent / "shared" / "data" / "geo"))
