"""Measure the risk detector on labelled JSONL files.

    python -m nlp.evaluate FILE... [--verbose] [--only rules|model|combined]

Each line: {"id", "text", "label": "risk"|"no_risk"|"borderline", "category", "channel"},
optionally "severity" ("immediate"|"concern"|"review"). For the rules alone, the model alone
and the two combined (what the gateway runs), prints recall on ``risk``, the false-positive
rate on ``no_risk``, the flag rate on ``borderline``, a table per category, per channel and
per tier, and the ids of misses and false alarms. Email texts are passed through
``strip_quoted_reply`` first, as the gateway does. The file path may also come from the
INTAKE_RISK_EVAL environment variable. Never evaluate on nlp/data/train and call it unseen.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from nlp.quoting import strip_quoted_reply
from nlp.risk import Assessment, RiskDetector, get_detector

DETECTORS = ("rules", "model", "combined")
TIERS = ("immediate", "concern", "review")


@dataclass(frozen=True)
class Item:
    """One labelled example."""

    id: str
    text: str
    label: str
    category: str
    channel: str
    severity: str | None = None
    evidence: str | None = None  # the labelled span of a risk item, when given
    source: str = ""  # the file it came from


@dataclass(frozen=True)
class Report:
    """The figures and the per-item outcomes."""

    items: tuple[Item, ...]
    results: tuple[Assessment, ...]

    def rate(self, label: str) -> float:
        flagged = [
            r.flagged for i, r in zip(self.items, self.results, strict=True) if i.label == label
        ]
        return sum(flagged) / len(flagged) if flagged else float("nan")

    @property
    def recall(self) -> float:
        return self.rate("risk")

    @property
    def false_positive_rate(self) -> float:
        return self.rate("no_risk")

    @property
    def borderline_flag_rate(self) -> float:
        return self.rate("borderline")

    def misses(self) -> list[Item]:
        return [
            i
            for i, r in zip(self.items, self.results, strict=True)
            if i.label == "risk" and not r.flagged
        ]

    def false_alarms(self) -> list[tuple[Item, Assessment]]:
        return [
            (i, r)
            for i, r in zip(self.items, self.results, strict=True)
            if i.label == "no_risk" and r.flagged
        ]


def load_items(path: str) -> list[Item]:
    """Read the labelled file; a bad line is a hard error naming the line."""
    items = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                items.append(
                    Item(
                        str(row["id"]),
                        row["text"],
                        row["label"],
                        row.get("category") or "",
                        row.get("channel") or "",
                        row.get("severity") or row.get("expected_severity"),
                        row.get("evidence") or None,
                        os.path.basename(path),
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}: line {number}: {exc}") from None
    return items


def prepare(item: Item) -> str:
    """The text the gateway would assess for this item."""
    return strip_quoted_reply(item.text) if item.channel == "email" else item.text


def evaluate(items: Iterable[Item], detector=None) -> Report:  # noqa: ANN001
    """Assess every item with `detector` (anything with ``assess_many``; by default the
    combined detector) and keep the outcomes."""
    items = tuple(items)
    detector = detector or get_detector()
    return Report(items, tuple(detector.assess_many(prepare(i) for i in items)))


def evaluate_each(items: Iterable[Item], detector: RiskDetector | None = None) -> dict:
    """Reports for the rules alone, the model alone and the combination, by name."""
    items = tuple(items)
    detector = detector or get_detector()
    texts = [prepare(i) for i in items]
    return {
        "rules": Report(items, tuple(detector.rules.assess_many(texts))),
        "model": Report(items, tuple(detector.model_only(texts))),
        "combined": Report(items, tuple(detector.assess_many(texts))),
    }


def _tiers(report: Report) -> list[str]:
    """Labelled severity (rows) against the tier given (columns)."""
    given = (*TIERS, None)
    lines = [f"{'labelled':<24}" + "".join(f"{str(g or 'not flagged'):>14}" for g in given)]
    rows: dict[str, dict[str | None, int]] = defaultdict(lambda: defaultdict(int))
    for item, result in zip(report.items, report.results, strict=True):
        label = item.label if item.label != "risk" else f"risk/{item.severity or '?'}"
        rows[label][result.severity if result.flagged else None] += 1
    for label in sorted(rows):
        lines.append(f"{label:<24}" + "".join(f"{rows[label][g]:>14}" for g in given))
    return lines


def _table(report: Report, key: str) -> list[str]:
    groups: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for item, result in zip(report.items, report.results, strict=True):
        groups[getattr(item, key)][item.label].append(result.flagged)
    labels = ("risk", "no_risk", "borderline")
    lines = [f"{key:<24}" + "".join(f"{label + ' flagged':>22}" for label in labels)]
    for name in sorted(groups):
        cells = []
        for label in labels:
            flags = groups[name].get(label, [])
            cells.append(
                f"{sum(flags):>4}/{len(flags):<4} {sum(flags) / len(flags):6.1%}" if flags else "-"
            )
        lines.append(f"{name:<24}" + "".join(f"{c:>22}" for c in cells))
    return lines


def format_report(report: Report, verbose: bool = False) -> str:
    """The printed summary."""
    n = {
        label: sum(1 for i in report.items if i.label == label)
        for label in ("risk", "no_risk", "borderline")
    }
    out = [
        f"items: {len(report.items)} "
        f"(risk {n['risk']}, no_risk {n['no_risk']}, borderline {n['borderline']})",
        f"recall on risk:               {report.recall:.3f}",
        f"false-positive rate no_risk:  {report.false_positive_rate:.3f}",
        f"flag rate on borderline:      {report.borderline_flag_rate:.3f}",
        "",
        *_table(report, "category"),
        "",
        *_table(report, "channel"),
        "",
        *_tiers(report),
        "",
        "misses (risk not flagged): " + (", ".join(i.id for i in report.misses()) or "none"),
        "false alarms (no_risk flagged): "
        + (", ".join(i.id for i, _ in report.false_alarms()) or "none"),
    ]
    if verbose:
        for item, result in report.false_alarms():
            for e in result.evidence:
                out.append(f"  {item.id} [{e.rule}] {e.text!r}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nlp.evaluate", description=__doc__.split("\n")[0]
    )
    parser.add_argument("files", nargs="*")
    parser.add_argument("--verbose", "-v", action="store_true", help="show false-alarm evidence")
    parser.add_argument("--only", choices=DETECTORS, help="one detector instead of all three")
    args = parser.parse_args(argv)
    files = args.files or [f for f in [os.environ.get("INTAKE_RISK_EVAL")] if f]
    if not files:
        parser.error("give FILE or set INTAKE_RISK_EVAL")
    try:
        items = [item for path in files for item in load_items(path)]
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    reports = evaluate_each(items)
    summary = []
    for name in [args.only] if args.only else DETECTORS:
        report = reports[name]
        print(f"== {name} ==")
        print(format_report(report, verbose=args.verbose))
        print()
        summary.append(
            f"{name:<9} recall {report.recall:.3f}  FPR {report.false_positive_rate:.3f}  "
            f"borderline flagged {report.borderline_flag_rate:.3f}"
        )
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
