"""Pre-select likely supporting/contrasting statements that the silver set does not contain, for annotation.

    .venv/bin/python scripts/stance_candidates.py > build/stance-candidates.jsonl

Runs CiteLens's own JATS parser and statement builder over ../shared/data/{plos-starter,pmc-samples}, drops
statements already in stance-silver (same file, reference and sentence), and keeps those whose sentence has
a comparison cue (agreement or disagreement vocabulary). Output rows use the silver schema minus labels.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from citelens.formats.jats import parse_jats
from citelens.statements.link import build_statements

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"

CUE = re.compile(
    r"\b(consistent|inconsistent|agree|agreement|disagree|confirm|corroborat|replicat|similar|in line with|"
    r"in accordance|contrast|contrary|unlike|differ|discrepan|conflict|contradict|oppos|whereas|however|"
    r"fail|not observe|not find|not found|no evidence|in keeping|accord|support|previously)",
    re.I,
)
OWN = re.compile(r"\b(we|our|here|this study|present study|these (results|data|findings))\b", re.I)


def key(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def main() -> int:
    silver = [json.loads(x) for x in (SHARED / "stance-silver" / "statements.jsonl").open(encoding="utf-8")]
    by_file: dict[str, list[str]] = {}
    for r in silver:
        by_file.setdefault(r["file"], []).append(key(re.sub(r"</?cite>", "", r["text"])))
    n = 0
    for path in sorted([*(SHARED / "plos-starter").glob("*.xml"), *(SHARED / "pmc-samples").glob("*.nxml")]):
        doc = build_statements(parse_jats(path.read_bytes(), path.name))
        for i, st in enumerate(doc.statements):
            text = st.marked_sentence()
            # Sentence splits differ slightly from the silver set's splitter: match on a middle chunk.
            probe = key(st.sentence)[10:50]
            if any(probe in t for t in by_file.get(path.name, ())):
                continue
            ctx = f"{st.before} {st.sentence} {st.after}"
            if not (CUE.search(st.sentence) and OWN.search(ctx)):
                continue
            n += 1
            row = {"id": f"{path.name}#c{i}", "file": path.name, "rid": st.reference_key,
                   "section": st.section_title or st.section, "before": st.before, "text": text, "after": st.after}
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{n} candidates", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
