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


# A heading that is nothing but a section's name ("3.7. Discussion", "Materials and Methods", "CONCLUSIONS"): where
# a subsection is titled so, it names its section whatever its parent is called ("3. Results" › "3.7. Discussion").
_NUMBERING = re.compile(r"^\s*(?:(?:\d+|[IVXivx]+|[A-Za-z])[.)]?)(?:\.\d+)*[.)]?\s+")
_SECTION_NAME = re.compile(
    r"(introduction|background|methods?|methodology|materials?(?: and|,| &) methods?|methods? and materials?|"
    r"(?:patients|subjects|participants) and methods|experimental(?: section| procedures?)?|results?|findings|"
    r"results and discussion|discussion|conclusions?|discussion and conclusions?|concluding remarks)", re.I)
# Keyword matches below the outermost heading only count in short headings: in "4.10.4. Possibility of
# Patient-Specific Photoreceptor Cell Replacement" (a review's subsection) "patient" does not make it methods.
_SHORT_HEADING_WORDS = 3


def is_section_name(title: str) -> bool:
    """Whether ``title`` is, apart from its numbering and punctuation, just the name of a section."""
    t = _NUMBERING.sub("", title or "").strip(" .:;")
    return bool(t) and _SECTION_NAME.fullmatch(" ".join(t.split())) is not None


def section_of(headings: list[tuple[str, str]]) -> str:
    """One of ``SECTIONS`` for a paragraph under ``headings`` ((sec_type, title), outermost first).

    The innermost heading that names a section outright (a known ``sec-type`` or a title such as "Discussion")
    decides; else the outermost heading whose words name one; below the outermost, only short headings'
    words count ("Statistical analysis" under an untitled or "Study 1" section)."""
    for sec_type, title in reversed(headings):
        if (sec_type or "").strip().lower() in _SEC_TYPE or is_section_name(title):
            return normalise_section(title, sec_type)
    for depth, (sec_type, title) in enumerate(headings):
        norm = normalise_section(title, sec_type)
        if norm != "other" and (depth == 0 or len(_NUMBERING.sub("", title).split()) <= _SHORT_HEADING_WORDS):
            return norm
    return "other"


assert set(s for s, _ in _TITLE_RULES) | {"other"} == set(SECTIONS)
