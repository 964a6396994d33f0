"""Build the journal-name list of the reference tagger's gazetteer feature (``citelens.references.journals``).

    .venv/bin/python scripts/build_journal_gazetteer.py            # writes src/citelens/references/models/journals.txt.gz

Names come from pmc-oa's *training* articles only (``parser_jats.article_part`` = "train"; the dev and
held-out articles and the PDF benchmark's articles are skipped): the ``<source>`` of every reference whose
publication type is a journal, and the ``<journal-title>`` / ``<abbrev-journal-title>`` of the articles'
fronts. A name is kept when at least ``--min-articles`` different articles name it: the tagger is trained on
strings rebuilt from these same articles, and a name that only its own article knows would teach it that
every journal of a training string is in the list, which is not so for strings from elsewhere.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import sys
import tarfile
from pathlib import Path

from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent))

from train_reference_parser import pdf_benchmark_articles  # noqa: E402

from citelens.formats.xmlsafe import local  # noqa: E402
from citelens.references import parser_train as T  # noqa: E402
from citelens.references.journals import GAZETTEER_NAME, MAX_WORDS, normalise_name  # noqa: E402
from citelens.references.parser_jats import article_part  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "src" / "citelens" / "references" / "models" / GAZETTEER_NAME
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, recover=True, huge_tree=True
)


def article_names(data: bytes) -> set[tuple[str, ...]]:
    """The normalised journal names one JATS article gives: its own journal's titles and its journal
    references' sources."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        return set()
    if root is None:
        return set()
    out: set[tuple[str, ...]] = set()
    for el in root.iter():
        tag = local(el.tag)
        if tag in ("journal-title", "abbrev-journal-title"):
            out.add(normalise_name("".join(el.itertext())))
        elif tag in ("element-citation", "mixed-citation", "citation"):
            kind = el.get("publication-type") or el.get("citation-type") or ""
            if kind != "journal":
                continue
            for src in el:
                if local(src.tag) == "source":
                    out.add(normalise_name("".join(src.itertext())))
    return {n for n in out if 0 < len(n) <= MAX_WORDS}


def collect(tar_path: Path, exclude: frozenset[str]) -> collections.Counter[tuple[str, ...]]:
    counts: collections.Counter[tuple[str, ...]] = collections.Counter()
    with tarfile.open(tar_path, "r|*") as tar:
        for member in tar:
            if not member.isfile() or not member.name.endswith((".xml", ".nxml")):
                continue
            article = Path(member.name).stem
            if article_part(article) != "train" or article in exclude:
                continue
            fh = tar.extractfile(member)
            if fh is not None:
                counts.update(article_names(fh.read()))
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--jats", type=Path, default=None, help="pmc-oa tar (default: shared/data/pmc-oa/pmc-oa.tar.gz)"
    )
    ap.add_argument(
        "--min-articles", type=int, default=2, help="keep names given by at least this many articles"
    )
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    data = T.default_data_path()
    tar_path = args.jats or data.parent.parent / "pmc-oa" / "pmc-oa.tar.gz"
    counts = collect(tar_path, pdf_benchmark_articles(data.parent))
    names = sorted(" ".join(n) for n, c in counts.items() if c >= args.min_articles)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same names give the same bytes (a reproducible artefact in the wheel).
    with open(args.out, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write("".join(f"{n}\n" for n in names).encode("utf-8"))
    print(
        f"{len(counts)} distinct names, {len(names)} named by >= {args.min_articles} articles; "
        f"wrote {args.out} ({args.out.stat().st_size / 1e3:.0f} kB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
