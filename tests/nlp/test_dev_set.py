"""The detector on the labelled dev set: recall first, then false alarms."""

from __future__ import annotations

from nlp.evaluate import evaluate, format_report, load_items


def test_dev_set_recall_and_false_positive_rate(detector, dev_set_path):
    report = evaluate(load_items(str(dev_set_path)), detector)
    summary = format_report(report)
    assert report.recall >= 0.97, summary
    assert report.false_positive_rate <= 0.10, summary
