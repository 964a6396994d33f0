"""``citelens references parse|eval`` through click's test runner."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from citelens.cli import main

LINES = (
    "Okafor CN, Lindqvist M. Soil moisture controls nitrogen uptake in dryland wheat. J Agric Sci. 2014;52(3):211-19.\n"
    "\n"
    "A. B. Marsh, C. D. Ortega, Phys. Rev. Lett. 108, 191802 (2012).\n"
)


def test_parse_json_lines_from_stdin() -> None:
    result = CliRunner().invoke(main, ["references", "parse", "-", "--json"], input=LINES)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    assert len(rows) == 2  # the blank line is skipped
    first = rows[0]
    assert first["authors"] == ["Okafor, CN", "Lindqvist, M"]
    assert first["year"] == 2014 and first["pages"] == "211-219" and first["issue"] == "3"
    assert set(first) >= {"authors", "title", "container", "year", "volume", "issue", "pages", "doi"}
    assert rows[1]["authors"][0] == "Marsh, A. B."


def test_parse_table_from_file(tmp_path: Path) -> None:
    src = tmp_path / "refs.txt"
    src.write_text(LINES, encoding="utf-8")
    result = CliRunner().invoke(main, ["references", "parse", str(src)], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert "Okafor, CN" in result.output and "2014" in result.output


def test_eval_on_a_small_corpus(tmp_path: Path) -> None:
    raw = "Okafor CN. Soil moisture and wheat. J Agric Sci. 2014;52:211-9."
    fields = [
        {"label": "author", "start": 0, "end": 9, "text": raw[0:9]},
        {"label": "title:a", "start": 11, "end": 34, "text": raw[11:34]},
        {"label": "title:j", "start": 36, "end": 47, "text": raw[36:47]},
        {"label": "date", "start": 49, "end": 53, "text": raw[49:53]},
        {"label": "biblScope:vol", "start": 54, "end": 56, "text": raw[54:56]},
        {"label": "biblScope:pp", "start": 57, "end": 62, "text": raw[57:62]},
    ]
    corpus = tmp_path / "references.jsonl"
    corpus.write_text(
        "".join(json.dumps({"source_file": f"f{i}.xml", "index": 0, "raw": raw, "fields": fields}) + "\n" for i in range(20)),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["references", "eval", "--data", str(corpus), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["test_strings"] >= 1
    assert {"title", "container", "year", "micro(goal fields)"} <= set(report["fields"])
    assert 0.0 <= report["fields"]["micro(goal fields)"]["f1"] <= 1.0


def test_eval_without_data_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["references", "eval", "--data", str(tmp_path / "missing.jsonl")])
    assert result.exit_code == 2
