"""A review-tier flag (lower confidence, read the same day): an email always, an SMS only in
office hours, escalation at night by email only; a caller goes to an adviser, the lead if none.

The detector here is a stand-in that gives "review" for its phrase: these tests are about what
the tier does, and a real text's tier moves each time the model is retrained."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from intake.core.types import Inbound, Turn
from storage.tables import utcnow
from storage.values import Channel, Contact
from tests.conftest import KeywordRisk
from tests.safeguarding.test_alerts import alerts, clocked
from tests.voice.conftest import ADVISER, CLOSED, DEPUTY, LEAD, Gateway

PHRASE = "something felt off"


@pytest.fixture
def risk_detector():
    return KeywordRisk((PHRASE,), severity="review")


async def raise_review(gateway: Gateway) -> str:
    reply = await gateway.services.gateway.handle(
        Inbound(
            Channel.EMAIL,
            "thr-review",
            Turn.MESSAGE,
            text=f"At contact on Sunday {PHRASE}, I can't say why.",
            contact=Contact.email("parent@example.org"),
        )
    )
    assert reply.concern_id and reply.concern_severity == "review"
    await gateway.services.alerter.drain()
    return reply.concern_id


async def test_review_at_night_sends_the_email_but_no_sms(gateway: Gateway):
    gateway.clock[0] = CLOSED
    concern_id = await raise_review(gateway)
    assert gateway.twilio.sent == [] and gateway.twilio.calls == []
    assert await alerts(gateway, concern_id, "email") == [("primary", "sent")]
    assert await alerts(gateway, concern_id, "sms") == []
    await gateway.services.rota.set("deputy", "Dee Deputy", DEPUTY, "dee@council.example")
    night = [_saturday_night_after(utcnow() + timedelta(minutes=6))]  # due, and out of hours
    assert await clocked(gateway, night, with_outbox=True).escalate_due() == 1
    assert gateway.twilio.sent == []  # escalated by email only
    assert await alerts(gateway, concern_id, "email") == [
        ("primary", "escalated"),
        ("deputy", "sent"),
    ]


def _saturday_night_after(moment: datetime) -> datetime:
    day = moment.replace(hour=22, minute=0, second=0, microsecond=0)
    while day.weekday() != 5 or day < moment:
        day += timedelta(days=1)
    return day


async def test_review_in_office_hours_sends_an_sms_too(gateway: Gateway):
    concern_id = await raise_review(gateway)
    assert [s.to for s in gateway.twilio.sent] == [LEAD]
    assert "to read today" in gateway.twilio.sent[0].body
    assert await alerts(gateway, concern_id, "email") == [("primary", "sent")]
    assert gateway.twilio.calls == []


async def test_a_review_caller_goes_to_an_adviser_and_to_the_lead_if_none_answers(
    gateway: Gateway,
):
    call = gateway.call()
    doc = await call.answer(await call.start(), speech=f"well {PHRASE} at his dad's")
    assert doc.dial_number == ADVISER
    doc = await call.dial_result(doc, "no-answer")
    assert doc.dial_number == LEAD


async def test_a_review_caller_at_night_goes_to_the_lead(gateway: Gateway):
    gateway.clock[0] = CLOSED
    call = gateway.call()
    doc = await call.answer(await call.start(), speech=f"well {PHRASE} at his dad's")
    assert doc.dial_number == LEAD
