"""The benchmarks speak to machines: with --json, each ends with one JSON object holding the
figures CI and comparisons read. Run tiny here (a handful of webhooks and mails): what is
checked is the shape of the report and that both sides really answered, never a speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _last_json(*args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-m", *args, "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_voice_reports_both_sides_and_the_median_of_its_runs_ratios() -> None:
    report = _last_json("bench.voice", "--calls", "2", "--rounds", "1", "--repeat", "2")
    for key in ("bare_p50_ms", "bare_p99_ms", "gateway_p50_ms", "gateway_p99_ms"):
        assert report[key] > 0
    assert report["calls"] == 2 and len(report["runs"]) == 2
    ratios = sorted(run["gateway_p99_ms"] / run["bare_p99_ms"] for run in report["runs"])
    assert report["median_p99_ratio"] == pytest.approx(sum(ratios) / 2, abs=1e-3)


@pytest.mark.slow
def test_mail_reports_messages_per_second_for_both_sides() -> None:
    report = _last_json("bench.mail", "--sessions", "1", "--messages", "5")
    assert (report["sessions"], report["messages"]) == (1, 5)
    assert report["bare_msgs_per_s"] > 0 and report["gateway_msgs_per_s"] > 0
    run = report["runs"][0]
    assert report["median_ratio"] == pytest.approx(
        run["gateway_msgs_per_s"] / run["bare_msgs_per_s"], abs=1e-3
    )


@pytest.mark.slow
def test_risk_reports_one_entry_per_message_size() -> None:
    report = _last_json("bench.risk", "--messages", "5")
    sizes = report["sizes"]
    assert [size["words"] for size in sizes] == sorted(size["words"] for size in sizes)
    for size in sizes:
        assert size["msgs_per_s"] > 0 and size["p99_ms"] > 0 and size["bare_msgs_per_s"] > 0
