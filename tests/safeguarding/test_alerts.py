"""The on-call lead is alerted by SMS within the request that raised the concern, the deputy
when the lead does not acknowledge in time, and the lead acknowledges by replying ACK <ref>."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from intake.core.types import Inbound, Turn
from intake.safeguarding.alerts import Alerter, reference
from intake.voice.signature import TwilioSignature
from storage.tables import Alert, utcnow
from storage.values import Channel, ConcernInput, Contact
from tests.voice.conftest import AUTH_TOKEN, DEPUTY, LEAD, PUBLIC_URL, Gateway

EMAIL_DISCLOSURE = "I'm worried because my partner hits my son when he drinks."


async def raise_by_email(gateway: Gateway, thread: str = "thr-risk") -> str:
    reply = await gateway.services.gateway.handle(
        Inbound(
            Channel.EMAIL,
            thread,
            Turn.MESSAGE,
            text=EMAIL_DISCLOSURE,
            contact=Contact.email("worried.parent@example.org"),
        )
    )
    assert reply.concern_id
    await gateway.services.alerter.drain()
    return reply.concern_id


def clocked(gateway: Gateway, now: list, with_outbox: bool = False) -> Alerter:
    """The app's alerter with a clock the test moves (and, if asked, the outbox for emails):
    the same Twilio clients, office hours and public address."""
    from intake.voice.hours import OfficeHours
    from storage.outbox import Outbox

    s = gateway.services
    hours = OfficeHours.parse(s.settings.office_hours, s.settings.timezone)
    return Alerter(
        s.db,
        s.concerns,
        s.rota,
        s.alerter._sms,  # noqa: SLF001
        timedelta(minutes=5),
        clock=lambda: now[0],
        outbox=Outbox(s.db) if with_outbox else None,
        calls=s.alerter._calls,  # noqa: SLF001
        public_url=s.settings.public_url,
        zone=hours.zone,
        in_hours=hours.open_at,
    )


async def alerts(gateway: Gateway, concern_id: str, channel: str = "sms") -> list[tuple[str, str]]:
    """(slot, status) of the concern's alerts by one channel, oldest first."""
    async with gateway.services.db.sessions() as session:
        rows = await session.scalars(
            select(Alert)
            .where(Alert.concern_id == concern_id, Alert.channel == channel)
            .order_by(Alert.created_at)
        )
        return [(a.tier, a.status) for a in rows]


async def test_lead_gets_an_sms_at_once_with_a_reference_and_no_personal_data(gateway: Gateway):
    concern_id = await raise_by_email(gateway)
    [sms] = gateway.twilio.sent
    assert sms.to == LEAD and sms.from_ == "+441632960000"
    assert f"ACK {reference(concern_id)}" in sms.body and "email" in sms.body
    for private in ("hits", "partner", "worried.parent", "example.org"):
        assert private not in sms.body
    assert await alerts(gateway, concern_id) == [("primary", "sent")]


async def test_with_no_lead_on_call_the_deputy_is_alerted_straight_away(gateway: Gateway):
    rota = gateway.services.rota
    for shift in await rota.shifts():  # the lead's shift ends: nobody is primary
        await rota.remove_shift(shift.id)
    await gateway.services.rota.set("deputy", "Dee Deputy", DEPUTY, "dee@council.example")
    concern_id = await raise_by_email(gateway)
    assert [s.to for s in gateway.twilio.sent] == [DEPUTY]
    assert await alerts(gateway, concern_id) == [("deputy", "sent")]


async def test_a_failed_send_is_retried_by_the_worker(gateway: Gateway):
    gateway.twilio.fail_next = 1
    concern_id = await raise_by_email(gateway)
    assert gateway.twilio.sent == []
    assert await alerts(gateway, concern_id) == [("primary", "retrying")]
    now = [utcnow() + timedelta(seconds=31)]
    assert await clocked(gateway, now).deliver() == 1
    assert [s.to for s in gateway.twilio.sent] == [LEAD]


async def test_unacknowledged_alert_escalates_to_the_deputy_and_back(gateway: Gateway):
    await gateway.services.rota.set("deputy", "Dee Deputy", DEPUTY, "dee@council.example")
    concern_id = await raise_by_email(gateway)
    now = [utcnow() + timedelta(minutes=4)]
    alerter = clocked(gateway, now)
    assert await alerter.escalate_due() == 0
    now[0] += timedelta(minutes=2)
    assert await alerter.escalate_due() == 1
    assert [s.to for s in gateway.twilio.sent] == [LEAD, DEPUTY]
    assert "has not answered" in gateway.twilio.sent[-1].body
    now[0] += timedelta(minutes=6)
    assert await alerter.escalate_due() == 1  # still nobody: the lead again
    assert [s.to for s in gateway.twilio.sent] == [LEAD, DEPUTY, LEAD]
    assert (await alerts(gateway, concern_id))[:2] == [
        ("primary", "escalated"),
        ("deputy", "escalated"),
    ]


async def sms_to_gateway(gateway: Gateway, sender: str, body: str, signature: str | None = None):
    form = {
        "MessageSid": "SM" + "2" * 32,
        "AccountSid": "AC" + "1" * 32,
        "From": sender,
        "To": "+441632960000",
        "Body": body,
    }
    signed = signature or TwilioSignature(AUTH_TOKEN, PUBLIC_URL).sign("/twilio/sms", form)
    async with gateway.session.post(
        gateway.url + "/twilio/sms", data=form, headers={"X-Twilio-Signature": signed}
    ) as resp:
        return resp.status, await resp.text()


async def test_the_lead_acknowledges_by_replying_ack_and_escalation_stops(gateway: Gateway):
    await gateway.services.rota.set("deputy", "Dee Deputy", DEPUTY, "dee@council.example")
    concern_id = await raise_by_email(gateway)
    status, body = await sms_to_gateway(gateway, LEAD, f"ack {reference(concern_id).lower()}")
    assert status == 200 and "acknowledged" in body
    [summary] = await gateway.services.concerns.list()
    assert summary.status == "acknowledged"
    now = [utcnow() + timedelta(minutes=10)]
    assert await clocked(gateway, now).escalate_due() == 0
    assert [s.to for s in gateway.twilio.sent] == [LEAD]


async def test_acknowledgements_from_strangers_or_forged_are_refused(gateway: Gateway):
    concern_id = await raise_by_email(gateway)
    status, body = await sms_to_gateway(gateway, "+447911999999", f"ACK {reference(concern_id)}")
    assert status == 200 and "acknowledged" not in body
    status, _ = await sms_to_gateway(
        gateway, LEAD, f"ACK {reference(concern_id)}", signature="Zm9yZ2Vk"
    )
    assert status == 403
    status, body = await sms_to_gateway(gateway, LEAD, "ACK %%%%")
    assert status == 200 and "acknowledged" not in body
    [summary] = await gateway.services.concerns.list()
    assert summary.status == "open"


async def test_without_a_twilio_account_alerts_are_visibly_undeliverable(gateway: Gateway):
    s = gateway.services
    alerter = Alerter(s.db, s.concerns, s.rota, None, timedelta(minutes=5))
    concern = ConcernInput(
        channel=Channel.EMAIL,
        severity="concern",
        categories=("neglect",),
        evidence="x",
        thread_ref="t",
        contact=None,
    )
    concern_id = await s.concerns.raise_concern(concern, timedelta(minutes=5))
    await alerter.deliver(concern_id)
    [summary] = [c for c in await s.concerns.list() if c.id == concern_id]
    assert summary.alert_status == "undeliverable"
    assert dict(summary.channels)["sms"] == "undeliverable"


async def test_each_alert_is_also_emailed_once_to_the_person_on_call(gateway: Gateway):
    from storage.outbox import Outbox

    gateway.twilio.fail_next = 1  # the SMS is retried; the email is not sent twice
    concern_id = await raise_by_email(gateway)
    now = [utcnow() + timedelta(seconds=31)]
    await clocked(gateway, now, with_outbox=True).deliver()
    items = await Outbox(gateway.services.db).claim(limit=10)
    alerts_out = [i for i in items if i.payload.get("purpose") == "safeguarding_alert"]
    assert [i.recipient for i in alerts_out] == ["lead@council.example"]
    body = alerts_out[0].payload["body"]
    assert f"ACK {reference(concern_id)}" in body and "hits" not in body
    assert "worried.parent" not in body


async def test_without_a_twilio_account_the_email_alert_still_goes(sqlite_db):
    # On a database of its own: a running gateway's alerter (which has a Twilio account) would
    # race this one for the alert, as a second process would, and rightly win it sometimes.
    from storage.records import Records
    from storage.rota import RotaStore

    records = Records(sqlite_db)
    rota = RotaStore(sqlite_db)
    await rota.set("primary", "Sam Lead", LEAD, "lead@council.example")
    alerter = Alerter(
        sqlite_db, records.concerns, rota, None, timedelta(minutes=5), outbox=records.outbox
    )
    concern = ConcernInput(
        channel=Channel.VOICE,
        severity="immediate",
        categories=("self_harm",),
        evidence="x",
        thread_ref="CA1",
        contact=None,
    )
    concern_id = await records.concerns.raise_concern(concern, timedelta(minutes=5))
    await alerter.deliver(concern_id)
    [summary] = await records.concerns.list()
    assert summary.id == concern_id
    assert summary.alerted == "Sam Lead"
    # the email went; the SMS shows, visibly, that it could not
    assert dict(summary.channels) == {"email": "sent", "sms": "undeliverable"}
    assert (await records.outbox.counts()).get("queued") == 1  # the email to the lead
