"""Generalisation: every probe set (tests/nlp/data), each written without looking at the rules,
must keep recall on risk >= 0.97 and the false-positive rate on no_risk <= 0.10; and where a
probe item expects "immediate" (danger now or at the point of harm), it must be immediate.

First runs, before any rule change (recall / FPR): probe_unseen 0.787 / 0.116, probe_unseen_2
0.722 / 0.110, probe_unseen_3 0.748 / 0.087, probe_unseen_4_mini 0.633 / 0.250,
probe_devstyle 0.903 / 0.062, probe_devstyle_2 0.627 / 0.050. Each file's own tests hold fresh
wordings of its gaps and its hard negatives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp.evaluate import evaluate, format_report, load_items, prepare

DATA = Path(__file__).resolve().parents[2] / "nlp" / "data" / "train"
SETS = [  # (file, its size: a probe set is written once and kept as it was)
    ("probe_unseen.jsonl", 218),
    ("probe_unseen_2.jsonl", 207),
    ("probe_unseen_3.jsonl", 205),
    ("probe_unseen_4_mini.jsonl", 50),
    ("probe_devstyle.jsonl", 150),
    ("probe_devstyle_2.jsonl", 150),
]


@pytest.mark.parametrize(("name", "size"), SETS)
def test_probe_set_recall_and_false_positive_rate(detector, name, size):
    report = evaluate(load_items(str(DATA / name)), detector)
    summary = format_report(report)
    assert len(report.items) == size
    assert report.recall >= 0.97, summary
    assert report.false_positive_rate <= 0.10, summary


@pytest.mark.parametrize("name", [name for name, _ in SETS])
def test_probe_items_expected_immediate_are_immediate(detector, name):
    path = DATA / name
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    items = {i.id: i for i in load_items(str(path))}
    wrong = []
    for row in rows:
        if row.get("expected_severity") == "immediate":
            result = detector.assess(prepare(items[row["id"]]))
            if result.severity != "immediate":
                wrong.append((row["id"], result.severity))
    assert not wrong
