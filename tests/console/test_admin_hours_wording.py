"""The admin's office hours and wording pages, over real HTTP: hours saved day by day decide
when callers are put through (and what they hear), with no restart; a new wording version,
with its review date, becomes the one new consent records name; bad input is refused by its
field; an overdue review warns the admin on every page, and nobody else."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import insert, select

from intake.admin_choices import AdminChoices
from intake.core.types import Inbound, Turn
from intake.core.wording import wording_files
from intake.voice.hours import bank_holidays
from storage.admin_tables import WordingVersion
from storage.tables import AuditEntry, ConsentRecord
from storage.values import Channel, Contact, utcnow
from tests.console.conftest import Console
from tests.console.test_admin import admin, adviser

HOURS = "/console/admin/hours"
WORDING = "/console/admin/wording"
CLOSED = {f"{d}-{end}": "" for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
          for end in ("opens", "closes")}  # fmt: skip
WEDNESDAY_NOON = datetime(2027, 1, 6, 12, 0, tzinfo=UTC)
WEDNESDAY_6PM = datetime(2027, 1, 6, 18, 0, tzinfo=UTC)
SATURDAY_11 = datetime(2027, 1, 9, 11, 0, tzinfo=UTC)
CHRISTMAS_DAY_2026 = datetime(2026, 12, 25, 11, 0, tzinfo=UTC)  # a Friday


async def test_the_admin_sets_the_hours_day_by_day_and_callers_hear_them(console: Console):
    _, browser = await admin(console)
    hours = console.services.choices.hours
    page = await browser.get(HOURS)
    assert "In force now Monday to Friday, 9am to 5pm, except on bank holidays" in page.words
    coming = min(d for d in bank_holidays() if d >= utcnow().date())
    assert "INTAKE_OFFICE_HOURS" in page.words and f"{coming.day} {coming:%B %Y}" in page.words
    assert not hours.open_at(WEDNESDAY_6PM)

    week = {"mon": ("09:00", "17:00"), "tue": ("9:00", "17:00"), "wed": ("09:00", "19:30"),
            "thu": ("09:00", "17:00"), "fri": ("09:00", "16:30"), "sat": ("10", "12")}  # fmt: skip
    form = dict(CLOSED)
    for day, (opens, closes) in week.items():
        form[f"{day}-opens"], form[f"{day}-closes"] = opens, closes
    saved = await browser.post(HOURS, form)

    assert saved.status == 200 and "The office hours are saved" in saved.words
    spoken = (
        "Monday to Tuesday, 9am to 5pm; Wednesday, 9am to 7:30pm; Thursday, 9am to 5pm; "
        "Friday, 9am to 4:30pm; Saturday, 10am to 12 noon, except on bank holidays"
    )
    assert f"In force now {spoken}" in saved.words and "Dana Admin" in saved.words
    assert hours.open_at(WEDNESDAY_6PM) and hours.open_at(SATURDAY_11)  # no restart
    assert not hours.open_at(CHRISTMAS_DAY_2026)
    assert hours.spoken() == spoken
    async with console.services.db.sessions() as s:
        actions = list(await s.scalars(select(AuditEntry.action)))
    assert "office_hours.save" in actions

    reset = await browser.post(f"{HOURS}/reset")
    assert "back to the service's default" in reset.words
    assert not hours.open_at(WEDNESDAY_6PM) and not hours.open_at(SATURDAY_11)


async def test_another_process_picks_up_saved_hours(console: Console):
    _, browser = await admin(console)
    services = console.services
    other = AdminChoices(
        services.db,
        services.choices.default_hours,
        wording_files(),
        hold_seconds=3600,
        retention_days=None,
    )
    await other.refresh()
    assert other.hours.open_at(WEDNESDAY_NOON)
    await browser.get(HOURS)
    await browser.post(HOURS, {**CLOSED, "sat-opens": "10:00", "sat-closes": "12:00"})
    await other.refresh()  # what the refresh worker does every few seconds
    assert not other.hours.open_at(WEDNESDAY_NOON) and other.hours.open_at(SATURDAY_11)
    assert other.hours.spoken() == "Saturday, 10am to 12 noon, except on bank holidays"


async def test_hours_that_do_not_make_sense_are_refused_by_their_field(console: Console):
    _, browser = await admin(console)
    await browser.get(HOURS)
    bad = {
        **CLOSED,
        "mon-opens": "nine",
        "mon-closes": "17:00",
        "tue-opens": "17:00",
        "tue-closes": "09:00",
        "wed-opens": "09:00",
        "thu-opens": "25:00",
        "thu-closes": "26:00",
    }
    refused = await browser.post(HOURS, bad)
    assert refused.status == 400 and "There is a problem" in refused.words
    assert "Enter the time Monday opens as hours and minutes, like 09:00" in refused.words
    assert "Tuesday must close after it opens" in refused.words
    assert "Enter the time Wednesday closes, or leave both empty if closed" in refused.words
    assert "Enter the time Thursday opens as hours and minutes" in refused.words
    assert 'value="nine"' in refused.text  # what they typed is kept
    none = await browser.post(HOURS, CLOSED)
    assert none.status == 400 and "Enter the hours of at least one day" in none.words
    assert console.services.choices.saved_hours is None  # nothing was saved


async def _consent_by_phone(console: Console, thread: str) -> tuple[str, str]:
    """A caller says yes; the version their consent record names."""
    gateway, contact = console.services.gateway, Contact.phone("07911 700800")
    await gateway.handle(Inbound(Channel.VOICE, thread, Turn.START, contact=contact))
    await gateway.handle(Inbound(Channel.VOICE, thread, Turn.ANSWER, digits="1", contact=contact))
    async with console.services.db.sessions() as s:
        record = await s.scalar(select(ConsentRecord).order_by(ConsentRecord.given_at.desc()))
    return record.wording_version, record.wording_text


async def test_the_admin_adds_a_version_that_new_consent_records_name(console: Console):
    _, browser = await admin(console)
    before, _ = await _consent_by_phone(console, "CAbefore")
    assert before == "2026-12b"
    page = await browser.get(WORDING)
    assert "2026-12b Current" in page.words and "1 December 2027" in page.words
    assert "2026-11" in page.words and "With the service" in page.words
    assert "This is the Parent Partnership Service." in page.words  # prefilled

    review_by = (utcnow().date() + timedelta(days=300)).isoformat()
    form = {
        key: value
        for key, value in (
            ("greeting", "This is the Parent Partnership Service. Press 0 for a person."),
            ("consent_question_voice", "May we keep a record? Press 1 for yes, 2 for no."),
            ("consent_question_email", "May we keep a record? We hold it {hold_period}."),
            ("consent_question_web", "May we keep a record?"),
            ("notice_title", "Why we keep information about you"),
            ("notice", "We keep it only if you agree. How long we keep it: {retention}"),
            ("review_by", review_by),
        )
    }
    added = await browser.post(WORDING, form)

    assert added.status == 200 and "The new version is added" in added.words
    assert "2026-12c Current" in added.words and "By Dana Admin" in added.words
    version, words = await _consent_by_phone(console, "CAafter")
    assert version == "2026-12c"
    assert words.startswith("This is the Parent Partnership Service. Press 0 for a person.")
    assert console.services.wording["notice"].startswith("We keep it only if you agree.")
    assert "{retention}" not in console.services.wording["notice"]  # filled in as before
    listed = await browser.get(WORDING)
    assert _row(listed, "2026-12c")[-1] == "1" and _row(listed, "2026-12b")[-1] == "1"


async def test_a_parent_asked_before_a_new_version_consents_under_the_words_they_were_asked(
    console: Console,
):
    """Asked under 2026-12b; the admin adds a version; the yes names what the parent heard."""
    _, browser = await admin(console)
    gateway, contact = console.services.gateway, Contact.phone("07911 700801")
    await gateway.handle(Inbound(Channel.VOICE, "CAmidway", Turn.START, contact=contact))
    await browser.get(WORDING)
    form = {
        "greeting": "This is the Parent Partnership Service, with new words.",
        "consent_question_voice": "May we keep a record? Press 1 for yes, 2 for no.",
        "consent_question_email": "May we keep a record? We hold it {hold_period}.",
        "consent_question_web": "May we keep a record?",
        "notice_title": "Why we keep information about you",
        "notice": "We keep it only if you agree. How long we keep it: {retention}",
        "review_by": (utcnow().date() + timedelta(days=300)).isoformat(),
    }
    assert "The new version is added" in (await browser.post(WORDING, form)).words
    await gateway.handle(
        Inbound(Channel.VOICE, "CAmidway", Turn.ANSWER, digits="1", contact=contact)
    )
    async with console.services.db.sessions() as s:
        record = await s.scalar(select(ConsentRecord).order_by(ConsentRecord.given_at.desc()))
    assert record.wording_version == "2026-12b"
    assert "with new words" not in record.wording_text
    assert record.wording_text.startswith("This is the Parent Partnership Service. What you tell")


def _row(page, version: str) -> list[str]:  # noqa: ANN001
    """The words of the versions table's row for one version."""
    for row in re.findall(r"<tr class=\"govuk-table__row\">(.*?)</tr>", page.text, re.S):
        words = re.sub(r"<[^>]+>", " ", row).split()
        if words and words[0] == version:
            return words
    raise AssertionError(f"no row for {version}")


async def test_a_new_version_with_bad_fields_is_refused_by_each(console: Console):
    _, browser = await admin(console)
    page = await browser.get(WORDING)
    form = {
        "greeting": "   ",
        "consent_question_voice": "May we keep a record?",
        "consent_question_email": "May we keep a record of your email?",
        "consent_question_web": "May we?",
        "notice_title": "Why we keep information about you",
        "notice": "We keep it for a while.",
        "review_by": (date.today() - timedelta(days=1)).isoformat(),
    }
    refused = await browser.post(WORDING, form)
    assert refused.status == 400
    assert "Enter the greeting" in refused.words
    assert "The review date must be in the future" in refused.words
    assert "must keep {hold_period} (it becomes how long an unanswered email is held)" in (
        refused.words
    )
    assert "The notice must keep {retention} (it becomes how long records are kept)" in (
        refused.words
    )
    far = await browser.post(WORDING, {**form, "review_by": "2030-01-01"})
    assert "The review date must be within a year" in far.words
    typo = await browser.post(WORDING, {**form, "review_by": "next year"})
    assert "Enter the review date as a date, like 2027-12-01" in typo.words
    assert console.services.wording.version == "2026-12b" and page.status == 200


async def test_an_overdue_review_warns_the_admin_on_every_page_and_nobody_else(console: Console):
    admin_id, browser = await admin(console)
    _, ann = await adviser(console)
    services = console.services
    assert "due for review" not in (await browser.get(HOURS)).words
    async with services.db.transaction() as s:  # a version whose review date has passed
        await s.execute(
            insert(WordingVersion).values(
                version="2026-12z",
                texts=dict(wording_files()[-1].texts),
                review_by=date(2026, 11, 1),
                based_on="2026-12b",
                created_by=admin_id,
                created_at=utcnow(),
            )
        )
    await services.choices.refresh()
    warning = "The service's wording was due for review on 1 November 2026"
    for path in (HOURS, "/console/admin/staff", "/console/audit", WORDING):
        assert warning in (await browser.get(path)).words, path
    assert "Overdue" in (await browser.get(WORDING)).words
    assert warning not in (await ann.get("/console/")).words
