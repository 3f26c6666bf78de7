"""The versioned wording: complete, and what consent records keep."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.core.wording import REQUIRED, WordingError, current_wording, load_wording
from storage.values import Channel, ConsentMethod


def test_current_wording_has_every_text_the_service_speaks():
    wording = current_wording()
    assert all(wording[key] for key in REQUIRED)
    assert "999" in wording["greeting"] and "press 0" in wording["greeting"].lower()


def test_consent_text_is_what_each_channel_shows():
    w = current_wording()
    assert w["consent_question_voice"] in w.consent_text(Channel.VOICE)
    email = w.consent_text(Channel.EMAIL, ConsentMethod.EMAIL_REPLY)
    assert w["notice"] in email and w["consent_question_email"] in email
    page = w.consent_text(Channel.EMAIL, ConsentMethod.WEB_PAGE)
    assert w["consent_question_web"] in page and w["consent_button_no"] in page


def test_a_wording_file_missing_a_text_is_refused_by_name(tmp_path: Path):
    broken = tmp_path / "2027-01.toml"
    broken.write_text('version = "2027-01"\ngreeting = "Hello"\n')
    with pytest.raises(WordingError, match="2027-01.toml: missing .*consent_question_voice"):
        load_wording(broken)
    garbled = tmp_path / "2027-02.toml"
    garbled.write_text("version = \n")
    with pytest.raises(WordingError, match="2027-02.toml"):
        load_wording(garbled)


def test_how_long_mail_is_held_is_said_as_configured():
    from intake.core.wording import period_words

    assert period_words(604_800) == "seven days"
    assert period_words(86_400) == "one day"
    assert period_words(3 * 3_600) == "three hours"
    assert period_words(30 * 86_400) == "30 days"
    w = current_wording().for_service(2 * 86_400)
    assert "within two days" in w.consent_text(Channel.EMAIL)
    assert "{hold_period}" not in " ".join(w.texts.values())


def test_the_notice_says_how_long_records_are_kept_as_configured():
    from intake.core.wording import retention_words

    assert retention_words(730) == "two years"
    assert retention_words(180) == "six months"
    assert retention_words(45) == "45 days"
    kept = current_wording().for_service(7 * 86_400, retention_days=2_190)
    notice = kept["notice"]
    assert "We keep your records for six years after we last hear from you" in notice
    assert "{retention}" not in " ".join(kept.texts.values())
    assert "{retention}" not in kept.consent_text(Channel.EMAIL)
    # how to see it and how to change your mind, in the notice itself
    assert "To see everything we hold" in notice and "To change your mind" in notice
    unset = current_wording().for_service(7 * 86_400)["notice"]
    assert "We keep your records until you ask us to delete them" in unset


def test_a_version_carries_its_review_date_and_knows_when_it_is_overdue():
    from datetime import date

    wording = current_wording()
    assert wording.review_by == date(2027, 12, 1) and "review_by" not in wording.texts
    assert not wording.review_overdue(date(2027, 12, 1))
    assert wording.review_overdue(date(2027, 12, 2))
    assert wording.for_service(3600, 730).review_by == wording.review_by


def test_a_review_date_that_is_not_a_date_is_refused(tmp_path: Path):
    text = (Path(__file__).resolve().parents[2] / "intake/core/wording/2026-12b.toml").read_text()
    broken = tmp_path / "2027-02.toml"
    broken.write_text(text.replace("review_by = 2027-12-01", 'review_by = "next year"'))
    with pytest.raises(WordingError, match="review_by must be a date"):
        load_wording(broken)


def test_a_new_version_is_named_to_sort_after_every_other():
    from datetime import date

    from intake.core.wording import next_version

    december = date(2026, 12, 2)
    assert next_version(["2026-11", "2026-12", "2026-12b"], december) == "2026-12c"
    assert next_version(["2026-11"], december) == "2026-12"
    assert next_version(["2026-12b"], date(2027, 1, 15)) == "2027-01"
    assert next_version(["2027-03"], december) == "2027-03b"  # a file from the future
