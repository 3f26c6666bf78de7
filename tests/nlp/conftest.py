"""Shared fixtures: the loaded detectors for the whole nlp test session, and the dev set.

`detector` is the rule detector: most tests here pin down what a rule does (its category, its
evidence, its silencing context). `combined` is what the gateway runs: rules and model."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nlp.risk import RiskDetector, RuleDetector, get_detector


@pytest.fixture(scope="session")
def combined() -> RiskDetector:
    return get_detector()


@pytest.fixture(scope="session")
def detector(combined: RiskDetector) -> RuleDetector:
    return combined.rules


@pytest.fixture(scope="session")
def dev_set_path() -> Path:
    """The labelled dev set: INTAKE_RISK_EVAL, else ../shared/eval/risk_dev.jsonl beside the
    repository root (parents[2] is the repository root; the set sits in its parent)."""
    env = os.environ.get("INTAKE_RISK_EVAL")
    repo_root = Path(__file__).resolve().parents[2]
    path = Path(env) if env else repo_root.parent / "shared" / "eval" / "risk_dev.jsonl"
    if not path.exists():
        pytest.skip(f"labelled dev set not found at {path} (set INTAKE_RISK_EVAL)")
    return path
