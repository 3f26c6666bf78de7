"""What a lead or an admin reads from the service: an alert or warning email says it was
generated (not a reply that filters may bin); periods read as English; the command line asks
for a password in one clear line when there is no terminal."""

from __future__ import annotations

from pathlib import Path

from intake.core.wording import period_words
from intake.mail.compose import build_message
from tests.cli.helpers import intake


def test_an_alert_is_auto_generated_and_a_reply_to_a_parent_auto_replied():
    for purpose, header in (
        ("safeguarding_alert", "auto-generated"),
        ("staff_warning", "auto-generated"),
        ("consent_request", "auto-replied"),
    ):
        payload = {"purpose": purpose, "from": "help@pps.example.org", "subject": "s", "auto": True}
        assert (
            build_message("lead@council.example", payload, "pps.example.org")["Auto-Submitted"]
            == header
        )


def test_periods_read_as_english():
    assert [period_words(s) for s in (60, 120, 3600, 7 * 86400)] == [
        "one minute",
        "two minutes",
        "one hour",
        "seven days",
    ]


def test_concerns_show_without_a_terminal_says_what_it_needs_in_one_line(tmp_path: Path):
    done = intake(
        "concerns",
        "show",
        "ABCD1234",
        "--staff",
        "lee@council.example",
        data_dir=tmp_path / "var",
        stdin="",
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "--password-stdin" in done.stderr
