"""How loud an alert is: danger now phones the lead (through a local server speaking Twilio's
Calls API) and pressing 1 acknowledges; a failed call is tried again while the SMS and the
email go at once; a caller is never rung twice; the SMS says the local time."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from intake.core.types import Inbound, Turn
from intake.safeguarding.alerts import alert_text, reference
from intake.voice.signature import TwilioSignature
from storage.tables import Concern, utcnow
from storage.values import Channel, Contact, Role
from tests.safeguarding.test_alerts import alerts, clocked
from tests.voice.conftest import AUTH_TOKEN, LEAD, PUBLIC_URL, Gateway

DANGER_NOW = "he's outside the door now shouting that he'll kill us, the kids are hiding upstairs"


async def raise_now(gateway: Gateway, thread: str = "thr-now") -> str:
    reply = await gateway.services.gateway.handle(
        Inbound(
            Channel.EMAIL,
            thread,
            Turn.MESSAGE,
            text=DANGER_NOW,
            contact=Contact.email("frightened.parent@example.org"),
        )
    )
    assert reply.concern_id and reply.concern_severity == "immediate"
    await gateway.services.alerter.drain()
    return reply.concern_id


async def twilio_posts(gateway: Gateway, url: str, form: dict, signed: bool = True):
    """What Twilio does with a URL we gave it: a signed form post."""
    parts = urlsplit(url)
    path_qs = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = {}
    if signed:
        headers["X-Twilio-Signature"] = TwilioSignature(AUTH_TOKEN, PUBLIC_URL).sign(path_qs, form)
    async with gateway.session.post(gateway.url + path_qs, data=form, headers=headers) as resp:
        return resp.status, await resp.text()


def call_form(sid: str, **extra: str) -> dict[str, str]:
    return {
        "CallSid": sid,
        "AccountSid": "AC" + "1" * 32,
        "From": "+441632960000",
        "To": LEAD,
        "Direction": "outbound-api",
        "CallStatus": "in-progress",
        **extra,
    }


async def chronology(gateway: Gateway, concern_id: str) -> list[str]:
    return [line.event for line in await gateway.services.concerns.chronology(concern_id)]


async def test_danger_now_phones_the_lead_and_pressing_1_acknowledges(gateway: Gateway):
    concern_id = await raise_now(gateway)
    [placed] = gateway.twilio.calls
    assert placed.to == LEAD and placed.from_ == "+441632960000"
    assert placed.url.startswith(PUBLIC_URL + "/twilio/alert-call?alert=")
    assert placed.status_callback.startswith(PUBLIC_URL + "/twilio/alert-call/status?alert=")
    assert [s.to for s in gateway.twilio.sent] == [LEAD]  # the SMS went as well
    assert "NOW" in gateway.twilio.sent[0].body

    status, words = await twilio_posts(gateway, placed.url, call_form(placed.sid))
    assert status == 200
    assert "A concern needs you now." in words and "Press 1 to acknowledge." in words
    for private in ("kill", "door", "frightened", "example.org", reference(concern_id)):
        assert private not in words  # whoever picks up learns only that the lead is needed
    action = re.search(r'action="([^"]+)"', words).group(1).replace("&amp;", "&")
    status, thanks = await twilio_posts(
        gateway, PUBLIC_URL + action, call_form(placed.sid, Digits="1")
    )
    assert status == 200 and "The concern is acknowledged." in thanks
    [summary] = await gateway.services.concerns.list()
    assert summary.status == "acknowledged"
    later = [utcnow() + timedelta(minutes=10)]
    assert await clocked(gateway, later).escalate_due() == 0  # escalation stopped
    assert len(gateway.twilio.calls) == 1 and len(gateway.twilio.sent) == 1
    events = await chronology(gateway, concern_id)
    for expected in ("sms.sent", "call.placed", "email.queued", "acknowledged"):
        assert expected in events, events
    detail = await gateway.services.concerns.read(concern_id, Role.SAFEGUARDING_LEAD, "lead")
    assert detail.model_version and detail.model_version.startswith("risk-lr-")


async def test_only_the_call_placed_for_the_alert_can_acknowledge_it(gateway: Gateway):
    await raise_now(gateway)
    [placed] = gateway.twilio.calls
    ack_url = placed.url.replace("/twilio/alert-call?", "/twilio/alert-call/ack?")
    status, _ = await twilio_posts(gateway, ack_url, call_form(placed.sid, Digits="1"), False)
    assert status == 403  # unsigned
    status, body = await twilio_posts(gateway, ack_url, call_form("CA" + "9" * 32, Digits="1"))
    assert status == 200 and "not acknowledged" in body  # signed, but another call
    status, body = await twilio_posts(gateway, ack_url, call_form(placed.sid, Digits="7"))
    assert "Press 1" in body  # asked again
    [summary] = await gateway.services.concerns.list()
    assert summary.status == "open"


async def test_a_failing_calls_api_delays_neither_sms_nor_email_and_the_call_is_retried(
    gateway: Gateway,
):
    gateway.twilio.fail_calls = 1
    concern_id = await raise_now(gateway)
    assert gateway.twilio.calls == []
    assert [s.to for s in gateway.twilio.sent] == [LEAD]
    [summary] = await gateway.services.concerns.list()
    assert dict(summary.channels) == {"call": "retrying", "email": "sent", "sms": "sent"}
    assert "call.failed" in await chronology(gateway, concern_id)
    soon = [gateway.clock[0] + timedelta(seconds=4)]
    assert await clocked(gateway, soon).deliver() == 0  # backing off
    soon[0] += timedelta(seconds=2)  # within 30 seconds of the failure
    assert await clocked(gateway, soon).deliver() == 1
    assert [c.to for c in gateway.twilio.calls] == [LEAD]
    assert await alerts(gateway, concern_id, "call") == [("primary", "sent")]


async def test_a_call_nobody_answers_is_tried_again(gateway: Gateway):
    concern_id = await raise_now(gateway)
    [placed] = gateway.twilio.calls
    status, _ = await twilio_posts(
        gateway, placed.status_callback, call_form(placed.sid, CallStatus="no-answer")
    )
    assert status == 204
    assert await alerts(gateway, concern_id, "call") == [("primary", "retrying")]
    soon = [gateway.clock[0] + timedelta(seconds=30)]
    assert await clocked(gateway, soon).deliver() == 1
    assert len(gateway.twilio.calls) == 2
    assert "call.no-answer" in await chronology(gateway, concern_id)


async def test_a_caller_in_danger_is_put_through_and_the_lead_is_not_rung_twice(
    gateway: Gateway,
):
    call = gateway.call()
    greeting = await call.start()
    doc = await call.answer(greeting, speech=DANGER_NOW)
    assert doc.dial_number == LEAD  # the caller's call is the call
    await gateway.services.alerter.drain()
    assert gateway.twilio.calls == []
    assert [s.to for s in gateway.twilio.sent] == [LEAD]  # SMS and email still go
    [summary] = await gateway.services.concerns.list()
    assert summary.severity == "immediate"
    assert dict(summary.channels) == {"email": "sent", "sms": "sent"}


async def test_the_sms_gives_the_local_time(gateway: Gateway):
    await raise_now(gateway)
    [sms] = gateway.twilio.sent
    assert re.search(r"\d\d:\d\d (GMT|BST)", sms.body) and "UTC" not in sms.body
    summer = Concern(
        id="abcdef0123456789abcdef0123456789",
        channel="voice",
        severity="concern",
        raised_at=datetime(2026, 7, 1, 12, 5, tzinfo=UTC),
    )
    text = alert_text(summer, "primary", ZoneInfo("Europe/London"))
    assert "13:05 BST" in text and "ref ABCDEF01" in text


async def test_an_sms_that_does_not_arrive_is_sent_again_and_its_reports_are_kept(
    gateway: Gateway,
):
    concern_id = await raise_now(gateway)
    [sms] = gateway.twilio.sent
    assert sms.status_callback.startswith(PUBLIC_URL + "/twilio/sms/status?alert=")
    report = {"MessageSid": sms.sid, "MessageStatus": "undelivered", "To": LEAD}
    forged = {**report, "MessageSid": "SM" + "9" * 32}
    status, _ = await twilio_posts(gateway, sms.status_callback, forged)
    assert status == 204
    assert await alerts(gateway, concern_id) == [("primary", "sent")]  # not ours: ignored
    status, _ = await twilio_posts(gateway, sms.status_callback, report, signed=False)
    assert status == 403
    await twilio_posts(gateway, sms.status_callback, report)
    assert await alerts(gateway, concern_id) == [("primary", "retrying")]
    soon = [gateway.clock[0] + timedelta(seconds=6)]
    assert await clocked(gateway, soon).deliver() == 1
    assert [s.to for s in gateway.twilio.sent] == [LEAD, LEAD]
    second = gateway.twilio.sent[-1]
    await twilio_posts(
        gateway,
        second.status_callback,
        {**report, "MessageSid": second.sid, "MessageStatus": "delivered"},
    )
    events = await chronology(gateway, concern_id)
    assert events.count("sms.sent") == 2
    assert "sms.undelivered" in events and "sms.delivered" in events
