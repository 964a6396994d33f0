"""``citelens classify`` (one statement) and ``citelens eval`` (score a classifier on a labelled JSONL file)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from citelens.cli import EXIT_USAGE, TEXT, main
from citelens.stance import (
    DEFAULT_CLASSIFIER,
    StanceClassifier,
    StanceInput,
    available_classifiers,
    get_classifier,
)


def _classifier(name: str | None) -> StanceClassifier:
    try:
        return get_classifier(name)
    except ValueError as e:
        raise click.UsageError(str(e)) from None


@main.command()
@click.argument("text", type=TEXT)
@click.option("--before", default="", type=TEXT, help="The sentence before the citing sentence.")
@click.option("--after", default="", type=TEXT, help="The sentence after the citing sentence.")
@click.option("--section", default="", type=TEXT, help="Section title, e.g. Discussion.")
@click.option("--classifier", "--model", "model", default=None,
              help=f"Classifier name ({', '.join(available_classifiers())}; default {DEFAULT_CLASSIFIER})."
                   " --model is the old spelling, kept as an alias.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object.")
def classify(text: str, before: str, after: str, section: str, model: str | None, as_json: bool) -> None:
    """Classify one citation statement; wrap the target citation in <cite>…</cite>.

    Example: citelens classify "Our results are consistent with <cite>[12]</cite>."
    """
    if not text.replace("<cite>", "").replace("</cite>", "").strip():
        # A blank sentence (an unquoted variable in a script, say) got a confident-looking label of nothing;
        # report and search refuse a blank argument the same way.
        raise click.BadParameter("TEXT is empty: give the citing sentence, e.g. \"Unlike <cite>[5]</cite>, we"
                                 " found no change.\"", param_hint="TEXT")
    if "<cite>" not in text:
        click.echo("warning: no <cite>…</cite> in TEXT; the target citation position is unknown", err=True)
    clf = _classifier(model)
    pred = clf.predict([StanceInput(text=text, before=before, after=after, section=section)])[0]
    if as_json:
        click.echo(json.dumps({
            "stance": pred.stance, "confidence": round(pred.confidence, 4), "evidence": pred.evidence,
            "probabilities": pred.probabilities, "model": clf.name,
        }))
        return
    click.echo(f"{pred.stance}  (confidence {pred.confidence:.2f}, model {clf.name})")
    if pred.evidence:
        click.echo(f"evidence: {pred.evidence}")


@main.command(name="eval")
@click.option("--data", "data", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSONL: text (with <cite>…</cite>), optional before/after/section, gold stance.")
@click.option("--classifier", "--model", "model", default=None,
              help=f"Classifier name ({', '.join(available_classifiers())}; default {DEFAULT_CLASSIFIER})."
                   " --model is the old spelling, kept as an alias.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of tables.")
@click.option("--plot", "plot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write an SVG chart here: precision-recall curves and reliability diagrams of the "
                   "supporting and contrasting probabilities.")
def eval_cmd(data: Path, model: str | None, as_json: bool, plot: Path | None) -> None:
    """Score a stance classifier on a labelled file: per-class P/R/F1, macro-F1, confusion, throughput.

    Rows whose stance is null are skipped (and counted as skipped).

    Example: citelens eval --data data/stance/elife.jsonl --classifier cascade --plot elife.svg
    """
    from citelens.stance.evaluate import evaluate, format_report, read_eval_rows

    if not data.is_file():
        raise click.UsageError(f"no such file: {data}")
    try:
        inputs, gold, skipped = read_eval_rows(data)
    except ValueError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(EXIT_USAGE)
    if not inputs:
        click.echo(f"error: {data} has no rows with a gold stance", err=True)
        sys.exit(EXIT_USAGE)
    clf = _classifier(model)
    preds: list = []
    report = evaluate(clf, inputs, gold, preds)
    report["skipped"] = skipped
    report["data"] = str(data)
    if plot is not None:
        from citelens.stance.charts import stance_charts_svg

        try:
            plot.write_text(stance_charts_svg(gold, {clf.name: preds}, title=f"{clf.name} on {data.name}"),
                            encoding="utf-8")
        except OSError as e:
            click.echo(f"error: cannot write {plot}: {e.strerror or e}", err=True)
            sys.exit(EXIT_USAGE)
        report["plot"] = str(plot)
    if as_json:
        click.echo(json.dumps(report))
    else:
        click.echo(format_report(report))
        if skipped:
            click.echo(f"skipped {skipped} rows with a null stance")
