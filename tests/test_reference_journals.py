"""The journal-name gazetteer of the reference tagger (``citelens.references.journals``, round 9): the list,
the leftmost-longest matching, the token features, the list's builder and a model trained with them."""

from __future__ import annotations

import gzip
import random
import sys
from pathlib import Path

import pytest

from citelens.references import bilstm
from citelens.references import parser as P
from citelens.references.crf_features import featurize, normalise_spacing, tokenize
from citelens.references.journals import (
    MAX_WORDS,
    build_trie,
    journal_spans,
    load_trie,
    normalise_name,
)

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def _words(text: str) -> list[str]:
    return ["and" if t.text == "&" else t.text.lower() for t in tokenize(text)]


def test_names_are_normalised_for_matching() -> None:
    assert normalise_name("J. Biol. Chem.") == ("j", "biol", "chem")
    assert normalise_name("The Plant Cell") == ("plant", "cell")
    assert normalise_name("Plant, Cell & Environment") == ("plant", "cell", "and", "environment")
    assert normalise_name("Proc. Natl. Acad. Sci. U.S.A.") == ("proc", "natl", "acad", "sci", "u", "s", "a")
    assert normalise_name(" ,. ") == ()


def test_matching_is_leftmost_longest_and_stops_at_field_punctuation() -> None:
    trie = build_trie(
        [("plant", "cell"), ("plant", "cell", "environ"), ("cell",), ("j", "biol", "chem"), ("nature",)]
    )
    # Abbreviation dots are inside a name; the longer of two names that start at one word wins.
    words = _words("Roots. Plant Cell Environ. 2003; J. Biol. Chem. 5")
    spans = journal_spans(words, trie)
    assert [" ".join(w for w in words[a : b + 1] if w != ".") for a, b in spans] == [
        "plant cell environ",
        "j biol chem",
    ]
    # A comma, colon or bracket ends a name: "Plant, Cell" is two fields, not the journal "Plant Cell".
    words = _words("Plant, Cell (Nature)")
    assert [words[a : b + 1] for a, b in journal_spans(words, trie)] == [["cell"], ["nature"]]
    # A name does not end on the transparent mark after its last word, and a dead end falls back.
    words = _words("J. Biol. Methods")
    assert journal_spans(words, trie) == []
    assert journal_spans([], trie) == []


def test_packaged_list_is_small_normalised_and_holds_common_journals() -> None:
    path = Path(str(P.model_path())).with_name("journals.txt.gz")
    assert path.stat().st_size < 1e6  # the wheel's limit is 20 MB for all models; this stays a few per cent
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    assert lines == sorted(set(lines)) and len(lines) > 1000
    assert all(
        normalise_name(line) == tuple(line.split()) and len(line.split()) <= MAX_WORDS for line in lines
    )
    trie = load_trie()
    for name in ("J. Biol. Chem", "Plant Physiol", "PLoS ONE", "Proc Natl Acad Sci U S A"):
        words = _words(name)
        assert journal_spans(words, trie) == [(0, len(words) - 1)], name


def test_featurize_marks_tokens_of_known_names_only_when_asked() -> None:
    trie = build_trie([("j", "biol", "chem"), ("nature",)])
    text, _ = normalise_spacing("Smith J. A study. J. Biol. Chem. 2003;12:1-9. Nature")
    toks = tokenize(text)
    with_gz = featurize(text, toks, neighbours=False, journals=trie)
    marked = [(t.text, f["gz"], f["gzn"]) for t, f in zip(toks, with_gz, strict=True) if "gz" in f]
    assert marked == [
        ("J", "B", "3"),
        (".", "I", "3"),
        ("Biol", "I", "3"),
        (".", "I", "3"),
        ("Chem", "E", "3"),
        ("Nature", "S", "1"),
    ]
    # Without a trie (every model trained before round 9, the CRF): exactly the old features.
    assert not any("gz" in f for f in featurize(text, toks, neighbours=False))


def test_builder_takes_journal_sources_and_the_front_titles(mini_jats: bytes) -> None:
    sys.path.insert(0, str(SCRIPTS))
    from build_journal_gazetteer import article_names

    names = article_names(mini_jats)
    assert ("journal", "of", "test", "biology") in names
    assert {("microbiology",), ("j", "bacteriol"), ("cell",), ("nature",), ("plos", "biol")} <= names
    assert article_names(b"<not xml") == set()


def test_builder_writes_names_of_two_or_more_training_articles(shared_data: Path, tmp_path: Path) -> None:
    # The real corpus: only training articles are read, and the written list is what the package ships.
    sys.path.insert(0, str(SCRIPTS))
    import build_journal_gazetteer as B

    from citelens.references.parser_jats import article_part

    tar = shared_data / "pmc-oa" / "pmc-oa.tar.gz"
    if not tar.is_file():
        pytest.skip("pmc-oa is not present")
    read: list[str] = []
    original = B.article_part

    def spy(article: str) -> str:
        read.append(article)
        return original(article)

    B.article_part = spy  # type: ignore[assignment]
    try:
        out = tmp_path / "journals.txt.gz"
        assert B.main(["--jats", str(tar), "--out", str(out)]) == 0
    finally:
        B.article_part = original  # type: ignore[assignment]
    assert {article_part(a) for a in read} == {"train", "dev", "test"}  # each is asked, then skipped
    packaged = Path(str(P.model_path())).with_name("journals.txt.gz")
    assert out.read_bytes() == packaged.read_bytes()  # reproducible, byte for byte


def test_a_model_trained_with_the_gazetteer_gets_its_features_when_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("torch")
    sys.path.insert(0, str(SCRIPTS))
    from train_reference_tagger import DEFAULTS, train

    from citelens.references.parser_train import Example

    raw = "Smith J, Jones A. A study of things. J Biol Chem. 2003;12:1-9."
    fields = [
        {"label": "author", "start": 0, "end": 16},
        {"label": "title", "start": 18, "end": 36},
        {"label": "title:j", "start": 37, "end": 48},
        {"label": "date", "start": 50, "end": 54},
    ]
    items = [(Example("f.xml", raw, fields), 1)] * 4
    hp = {
        **DEFAULTS,
        "epochs": 1,
        "emb": 8,
        "hidden": 8,
        "minfreq": 1,
        "char_channels": 4,
        "char_minfreq": 1,
        "gazetteer": 1,
    }
    random.seed(0)
    train(items, tmp_path / "gz.npz", hp)
    bilstm._load.cache_clear()
    assert bilstm.reads_journal_names(tmp_path / "gz.npz")
    assert not bilstm.reads_journal_names(P.model_path())  # the shipped model: no gazetteer work when parsing

    seen: list[bool] = []
    real = P.featurize

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(kwargs.get("journals") is not None)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(P, "featurize", spy)
    try:
        P.use_model(tmp_path / "gz.npz")
        assert P.parse_reference_strings([raw])[0] is not None
        P.use_model(None)
        P.parse_reference_strings([raw])
    finally:
        P.use_model(None)
    assert seen == [True, False]
