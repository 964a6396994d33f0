"""Map a section's type attribute and printed title to one of the five sections users filter by."""

from __future__ import annotations

import re

from citelens.document import SECTIONS

# Order matters: the first rule whose pattern matches wins. "Results and discussion" counts as results
# (its statements report the citing work's own findings), "Conclusions" as discussion.
_TITLE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("introduction", re.compile(r"\b(introduction|background|overview|motivation|preamble)\b", re.I)),
    ("methods", re.compile(
        r"\b(method|methods|methodology|materials?|experimental (procedures?|design|setup|section)|"
        r"patients?|participants|subjects|study (design|population|area|site)|procedures?|protocol|"
        r"statistical analys[ie]s|data (collection|analysis|sources?)|sample collection|ethics)\b", re.I)),
    ("results", re.compile(r"\b(results?|findings|observations|experiments?|evaluation)\b", re.I)),
    ("discussion", re.compile(r"\b(discussion|conclusions?|concluding|summary|limitations?|implications|"
                              r"comparison with|perspectives?|outlook)\b", re.I)),
)

_SEC_TYPE: dict[str, str] = {
    "intro": "introduction", "introduction": "introduction", "background": "introduction",
    "methods": "methods", "materials": "methods", "materials|methods": "methods", "method": "methods",
    "materials and methods": "methods", "subjects": "methods", "cases": "methods",
    "results": "results", "results|discussion": "results", "discussion": "discussion",
    "conclusions": "discussion", "conclusion": "discussion", "discussion|conclusions": "discussion",
}


def normalise_section(title: str, sec_type: str = "") -> str:
    """Return one of ``SECTIONS`` for a section with this ``sec-type`` attribute and printed ``title``.

    The attribute wins when it is one we know; otherwise the title's words decide; else "other".
    """
    st = (sec_type or "").strip().lower()
    if st in _SEC_TYPE:
        return _SEC_TYPE[st]
    for part in re.split(r"[|\s]+", st):
        if part in _SEC_TYPE:
            return _SEC_TYPE[part]
    t = (title or "").strip()
    if t:
        for section, pattern in _TITLE_RULES:
            if pattern.search(t):
                return section
    return "other"


assert set(s for s, _ in _TITLE_RULES) | {"other"} == set(SECTIONS)
