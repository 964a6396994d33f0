"""Behaviour of the learned stance classifier and the classify / eval commands (no metric thresholds)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from citelens.cli import main
from citelens.document import STANCES
from citelens.stance import DEFAULT_CLASSIFIER, StanceInput, get_classifier
from citelens.stance.features import extract, normalise
from citelens.stance.model import LinearStanceClassifier, default_model_path, model_available
from stance_examples import EXAMPLES

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"

pytestmark = pytest.mark.skipif(not model_available(), reason="stance model artefact not built")



def test_best_installed_model_is_default_and_others_stay_available() -> None:
    from citelens.stance.cascade import cascade_available
    from citelens.stance.onnx_model import model_available as minilm_available

    expected = "cascade" if cascade_available() else "minilm" if minilm_available() else "linear"
    assert expected == DEFAULT_CLASSIFIER
    assert get_classifier().name == expected
    assert get_classifier("linear").name == "linear"
    assert get_classifier("cues").name == "cues"


def test_artefact_is_small_and_loads_without_sklearn() -> None:
    assert default_model_path().stat().st_size < 5_000_000
    # A fresh interpreter with scikit-learn made unimportable must still load and run the model.
    code = (
        "import sys; sys.modules['sklearn'] = None\n"
        "from citelens.stance import get_classifier, StanceInput\n"
        "p = get_classifier('linear').predict([StanceInput('We confirm <cite>[1]</cite>.')])[0]\n"
        "assert 'sklearn' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
        "print(p.stance)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() in STANCES


def test_prediction_shape_confidence_and_evidence() -> None:
    clf = LinearStanceClassifier()
    preds = clf.predict(EXAMPLES)
    assert len(preds) == len(EXAMPLES)
    for p in preds:
        assert p.stance in STANCES
        assert 0.0 <= p.confidence <= 1.0
        assert p.probabilities is not None and set(p.probabilities) == set(STANCES)
        assert abs(sum(p.probabilities.values()) - 1.0) < 1e-3
        assert p.confidence == pytest.approx(max(p.probabilities.values()), abs=1e-3)
        assert isinstance(p.evidence, str) and (p.stance != "mentioning" or p.evidence == "")
    # Statements with a cue phrase say why; one with nothing to show has no evidence rather than loose words.
    assert preds[0].evidence and preds[1].evidence
    assert clf.predict([]) == []


def test_clear_cues_are_classified() -> None:
    # Behaviour, not a metric: textbook statements of each class come out as that class.
    preds = LinearStanceClassifier().predict(EXAMPLES[:3])
    assert [p.stance for p in preds] == ["contrasting", "supporting", "mentioning"]
    assert "contrast" in preds[0].evidence or "not" in preds[0].evidence


def test_features_mark_target_and_other_citations() -> None:
    norm = normalise("As shown in [4], [5] and by Smith et al. (2003), see <cite>[7]</cite>.")
    assert "_cite_" in norm and norm.count("_ocit_") >= 2 and "[7]" not in norm
    feats = extract(StanceInput("Consistent with <cite>[7]</cite>, we found X.", section="Discussion"))
    assert "sec:discussion" in feats and "cue:sup" in feats and "n:L:with" in feats


def test_negated_cues_are_their_own_features() -> None:
    # "not consistent with" is not a supporting cue (feature version 5); version 4 (linear-v2) is unchanged.
    x = StanceInput("Our result is not fully consistent with <cite>[7]</cite>, which we did reproduce.",
                    after="These data do not agree with earlier reports.")
    feats = extract(x)
    assert "cue:sup~neg" in feats and "cue:sup:consistent with~neg" in feats
    assert "cue:sup:consistent with" not in feats
    assert "cue:sup:reproduc" in feats  # "did reproduce": no negator before it
    assert "acue:sup~neg" in feats
    old = extract(x, 4)
    assert "cue:sup:consistent with" in old and not any("~neg" in f for f in old)
    with pytest.raises(ValueError):
        extract(x, 99)


def test_negated_cue_evidence_reads_as_the_sentence() -> None:
    # The linear model shows the evidence every classifier shows (citelens.stance.evidence): the sentence's own
    # words, the negator included, and none for mentioning.
    from citelens.stance.model import newest_model_path

    clf = LinearStanceClassifier(newest_model_path())
    [neg, plain] = clf.predict([StanceInput("These findings do not agree with <cite>[12]</cite>."),
                                StanceInput("Mice were housed as described <cite>[3]</cite>.")])
    assert neg.stance == "contrasting" and neg.evidence == "not agree with"
    assert plain.stance == "mentioning" and plain.evidence == ""


def _write(tmp_path: Path, rows: list[dict]) -> Path:
    p = tmp_path / "gold.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return p


ROWS = [
    {"text": "In contrast to <cite>[1]</cite>, we did not find an effect.", "stance": "contrasting"},
    {"text": "Our data confirm <cite>[2]</cite>.", "before": "We measured X.", "after": "", "stance": "supporting"},
    {"text": "X is a kinase <cite>[3]</cite>.", "section": "Introduction", "stance": "mentioning"},
    {"text": "Ambiguous <cite>[4]</cite>.", "stance": None},
]


def test_eval_json_keys_and_null_rows_skipped(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["eval", "--data", str(_write(tmp_path, ROWS)), "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["n"] == 3 and out["skipped"] == 1
    assert {"macro_f1", "per_class", "n", "statements_per_second", "confusion"} <= set(out)
    for c in STANCES:
        assert {"precision", "recall", "f1"} <= set(out["per_class"][c])
    assert 0.0 <= out["macro_f1"] <= 1.0 and out["statements_per_second"] > 0


def test_eval_text_report_and_cue_model(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["eval", "--data", str(_write(tmp_path, ROWS)), "--model", "cues"])
    assert res.exit_code == 0, res.output
    assert "macro-F1" in res.output and "statements/s" in res.output and "skipped 1" in res.output


def test_eval_usage_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["eval", "--data", str(tmp_path / "missing.jsonl")]).exit_code == 2
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{not json\n")
    assert runner.invoke(main, ["eval", "--data", str(bad)]).exit_code == 2
    ok = _write(tmp_path, ROWS)
    assert runner.invoke(main, ["eval", "--data", str(ok), "--model", "nope"]).exit_code == 2


def test_eval_reads_a_gzipped_set_and_names_the_file_it_cannot_read(tmp_path: Path) -> None:
    """The repository ships data/stance/pmc.jsonl.gz; `citelens eval --data` on it ended with only "error: 'utf-8'
    codec can't decode byte 0x8b in position 1", naming neither the file nor the problem. A gzip file is read
    (by its magic bytes), and a file that is not UTF-8 JSON lines, or a broken .gz, is a usage error naming the file
    (and the line)."""
    import gzip

    plain = _write(tmp_path, ROWS)
    packed = tmp_path / "gold.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    runner = CliRunner()
    outputs = []
    for data in (plain, packed):
        res = runner.invoke(main, ["eval", "--data", str(data), "--model", "cues", "--json"])
        assert res.exit_code == 0, res.output
        outputs.append(json.loads(res.stdout))
    assert outputs[0]["n"] == outputs[1]["n"] == 3 and outputs[0]["confusion"] == outputs[1]["confusion"]
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(plain.read_bytes() + '{"text": "caf\u00e9 <cite>[1]</cite>", "stance": "mentioning"}\n'
                      .encode("latin-1"))
    broken = tmp_path / "broken.jsonl.gz"
    broken.write_bytes(packed.read_bytes()[:30])
    for data, words in ((latin, f"{latin}:5: not UTF-8"), (broken, f"{broken}: cannot be read")):
        res = runner.invoke(main, ["eval", "--data", str(data), "--model", "cues"])
        assert res.exit_code == 2 and words in res.stderr, res.output
        assert "Traceback" not in res.output and "codec" not in res.output


def test_classify_refuses_a_blank_sentence() -> None:
    """`citelens classify ""` (an unquoted, empty shell variable) answered "mentioning (confidence 0.40)" with exit
    0: a label for nothing. Blank text, with or without the cite tags, is a usage error (exit 2) as a blank query
    or DOI is in search and report."""
    for text in ("", "   ", "<cite></cite>", " <cite> </cite> "):
        res = CliRunner().invoke(main, ["classify", text, "--json"])
        assert res.exit_code == 2 and "TEXT is empty" in res.stderr and res.stdout == "", (text, res.output)
    assert CliRunner().invoke(main, ["classify", "<cite>[1]</cite>", "--model", "cues"]).exit_code == 0


def test_classify_command() -> None:
    runner = CliRunner()
    res = runner.invoke(main, ["classify", "Unlike <cite>[5]</cite>, we observed no change.", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["stance"] in STANCES and 0 <= out["confidence"] <= 1 and out["model"] == DEFAULT_CLASSIFIER
    res = runner.invoke(main, ["classify", "Consistent with <cite>[5]</cite>.", "--model", "cues"])
    assert res.exit_code == 0 and res.output.startswith("supporting")


def test_eval_on_shared_biomedical_rows(tmp_path: Path) -> None:
    silver = SHARED / "stance-silver" / "statements.jsonl"
    if not silver.exists():
        pytest.skip("shared data not present")
    with silver.open(encoding="utf-8") as fh:
        rows = [json.loads(next(fh)) for _ in range(50)]
    res = CliRunner().invoke(main, ["eval", "--data", str(_write(tmp_path, rows)), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["n"] == 50
