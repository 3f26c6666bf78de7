"""Alerting the on-call safeguarding lead within seconds, and the deputy when nobody answers.

A concern's first alert rows are written with the concern itself (storage.concerns), one per
channel its tier asks for (intake.safeguarding.tiers), so an alert can never be lost between
the two. This service delivers them, every channel at once: an SMS that carries no personal
data (only a reference, the channel and the local time); for danger now, a phone call whose
words come from our own signed webhook and ask the lead to press 1; and an email to the
person's rota address, through the durable outbox. A failed SMS or call is tried again with
back-off, within 30 seconds; the other channels do not wait for it. When the alert is not
acknowledged within INTAKE_ESCALATE_AFTER, the next person on the rota is alerted. The lead
acknowledges by replying "ACK <ref>" (see sms_webhook), by pressing 1 on the call, or in the
console. Every step goes into the concern's alert chronology (storage.alert_events).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from intake.core.tiers import alert_channels, retry_after
from intake.logs import log_event
from intake.metrics import Metrics
from intake.safeguarding.calls import CallPlacer
from intake.safeguarding.sms import SmsSender
from storage import alert_events
from storage.concerns import PENDING, ConcernStore, add_alerts
from storage.database import Database
from storage.outbox import Outbox
from storage.rota import RotaStore
from storage.tables import Alert, Concern
from storage.values import OnCallEntry, concern_reference, next_on_call, utcnow

log = logging.getLogger("intake.safeguarding")

RETRY_AFTER = timedelta(seconds=30)  # an alert retrying with no time set (older rows)
STUCK_AFTER = timedelta(seconds=120)  # a "sending" alert whose worker died is sent again
DELIVERABLE = ("queued", "retrying", "sending")
# Twilio's results (CallStatus, MessageStatus): those that mean it did not reach the person
NOT_DELIVERED = frozenset({"no-answer", "busy", "failed", "canceled", "undelivered"})
REPORTED = NOT_DELIVERED | {"completed", "delivered"}
CALL_PATH = "/twilio/alert-call"
SMS_STATUS_PATH = "/twilio/sms/status"


reference = concern_reference  # the same reference everywhere a lead sees the concern


def alert_text(
    concern: Concern, tier: str, zone: ZoneInfo | None = None, public_url: str | None = None
) -> str:
    """The SMS (and email) words: no personal data; the time in the service's own zone, and
    the concern's page in the console (an address only)."""
    raised = concern.raised_at
    if raised.tzinfo is None:
        raised = raised.replace(tzinfo=UTC)
    local = raised.astimezone(zone or UTC)
    when = f"{local:%H:%M} {local.tzname() or ''}".strip()
    urgency = {"immediate": "NOW", "review": "to read today"}.get(concern.severity, "today")
    deputy = " The on-call lead has not answered." if tier == "deputy" else ""
    return (
        f"Parent Partnership safeguarding: a concern needs you {urgency} "
        f"({concern.channel}, {when}, ref {reference(concern.id)}).{deputy} "
        f"Reply ACK {reference(concern.id)} when you have it. Details are in the console"
        + (f": {public_url}/console/concerns/{concern.id}" if public_url else ".")
    )


@dataclass(frozen=True)
class Job:
    """A claimed SMS or call: what to send, to whom, outside any transaction."""

    alert_id: str
    concern_id: str
    channel: str
    slot: str
    person: OnCallEntry
    text: str


class Alerter:
    def __init__(
        self,
        db: Database,
        concerns: ConcernStore,
        rota: RotaStore,
        sms: SmsSender | None,
        escalate_after: timedelta,
        metrics: Metrics | None = None,
        clock: Callable[[], datetime] = utcnow,
        outbox: Outbox | None = None,
        sender_address: str = "help@pps.example.org",
        *,
        calls: CallPlacer | None = None,
        public_url: str = "http://127.0.0.1:8080",
        zone: ZoneInfo | None = None,
        in_hours: Callable[[datetime], bool] = lambda _now: True,
    ) -> None:
        self._db = db
        self._concerns = concerns
        self._rota = rota
        self._sms = sms
        self._calls = calls
        self._escalate_after = escalate_after
        self._metrics = metrics or Metrics()
        self._clock = clock
        self._outbox = outbox
        self._sender_address = sender_address
        self._public_url = public_url.rstrip("/")
        self._zone = zone
        self._in_hours = in_hours
        self._tasks: set[asyncio.Task] = set()
        self._timers: set[asyncio.TimerHandle] = set()

    def schedule(self, concern_id: str) -> None:
        """Called as a concern is raised: deliver its alert now, without delaying the caller."""
        task = asyncio.get_running_loop().create_task(self.deliver(concern_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _retry_later(self, concern_id: str, delay: timedelta) -> None:
        """Try a failed SMS or call again after its back-off (the worker's sweep is the
        backstop if this process stops meanwhile)."""
        loop = asyncio.get_running_loop()
        handle: asyncio.TimerHandle | None = None

        def fire() -> None:
            self._timers.discard(handle)
            self.schedule(concern_id)

        handle = loop.call_later(delay.total_seconds() + 0.05, fire)
        self._timers.add(handle)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        for handle in list(self._timers):
            handle.cancel()
        self._timers.clear()
        await self.drain()
        for client in (self._sms, self._calls):
            if client is not None:
                await client.close()

    async def deliver(self, concern_id: str | None = None) -> int:
        """Send every alert (of one concern, or all) that is due, each channel at once; return
        how many SMS and calls went."""
        async with self._db.sessions() as session:
            query = select(Alert.id).where(Alert.status.in_(DELIVERABLE))
            if concern_id is not None:
                query = query.where(Alert.concern_id == concern_id)
            alert_ids = list(await session.scalars(query.order_by(Alert.created_at)))
        if not alert_ids:
            return 0
        rota = await self._rota.show()
        jobs = [job for alert_id in alert_ids if (job := await self._claim(alert_id, rota))]
        return sum(await asyncio.gather(*(self._perform(job) for job in jobs)))

    async def _perform(self, job: Job) -> int:
        try:  # outside any transaction: never hold a lock while Twilio answers
            if job.channel == "call":
                ref = await self._calls.place(
                    job.person.phone,
                    f"{self._public_url}{CALL_PATH}?alert={job.alert_id}",
                    f"{self._public_url}{CALL_PATH}/status?alert={job.alert_id}",
                )
            else:
                ref = await self._sms.send(
                    job.person.phone,
                    job.text,
                    status_callback=f"{self._public_url}{SMS_STATUS_PATH}?alert={job.alert_id}",
                )
        except Exception as exc:  # noqa: BLE001 - tried again after a back-off
            await self._failed(job, type(exc).__name__)
            return 0
        await self._sent(job, ref)
        return 1

    async def _sent(self, job: Job, ref: str) -> None:
        event = "call.placed" if job.channel == "call" else "sms.sent"
        async with self._db.transaction() as session:
            alert = await session.get(Alert, job.alert_id)
            if alert is None:
                return  # its concern was erased meanwhile
            if alert.status == "sending":
                alert.status, alert.provider_ref = "sent", ref[:64]
                alert.recipient = job.person.name
            await _note(session, alert, event, self._clock())
        self._metrics.count("intake_alerts_sent_total", tier=job.slot, channel=job.channel)
        log_event(log, "alert_sent", concern_id=job.concern_id, slot=job.slot, channel=job.channel)

    async def _failed(self, job: Job, error: str) -> None:
        now = self._clock()
        delay = timedelta(0)
        async with self._db.transaction() as session:
            alert = await session.get(Alert, job.alert_id)
            if alert is None:
                return  # its concern was erased meanwhile
            if alert.status == "sending":
                delay = retry_after(alert.attempts)
                alert.status, alert.next_attempt_at = "retrying", now + delay
            await _note(session, alert, f"{job.channel}.failed", now, error)
        log_event(
            log,
            "alert_send_failed",
            logging.WARNING,
            concern_id=job.concern_id,
            channel=job.channel,
            error=error,
        )
        self._metrics.count("intake_alerts_failed_total", channel=job.channel)
        if delay:
            self._retry_later(job.concern_id, delay)

    async def _claim(self, alert_id: str, rota: dict[str, OnCallEntry | None]) -> Job | None:
        """Mark one due alert as being sent (so no other worker sends it too); an email is
        queued here and then, in this transaction."""
        now = self._clock()
        async with self._db.transaction() as session:
            query = select(Alert).where(Alert.id == alert_id)
            if not self._db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            alert = await session.scalar(query)
            if alert is None or alert.status not in DELIVERABLE or not _due(alert, now):
                return None
            concern = await session.get(Concern, alert.concern_id)
            if concern is None or concern.status != "open":
                alert.status = "cancelled"
                return None
            person = rota.get(alert.tier)
            if person is None:
                alert.status = "no_oncall"
                await _note(session, alert, "no_one_on_call", now)
                log_event(
                    log,
                    "alert_undeliverable",
                    logging.ERROR,
                    concern_id=concern.id,
                    slot=alert.tier,
                    reason=alert.status,
                )
                return None
            if alert.channel == "email":
                if self._outbox is None:
                    return None  # left for the process that has the outbox
                await self._outbox.enqueue(
                    "email",
                    person.email,
                    self._email(concern, alert.tier),
                    reference=f"alert:{alert.id}",
                    session=session,
                )
                alert.status, alert.recipient = "sent", person.name
                await _note(session, alert, "email.queued", now)
                return None
            client = self._calls if alert.channel == "call" else self._sms
            if client is None:
                alert.status, alert.recipient = "undeliverable", person.name
                await _note(
                    session, alert, f"{alert.channel}.unavailable", now, "no Twilio account"
                )
                log_event(
                    log,
                    "alert_without_sms",
                    logging.ERROR,
                    concern_id=concern.id,
                    slot=alert.tier,
                    reason="no_twilio_account",
                )
                return None
            alert.status, alert.created_at = "sending", now
            alert.attempts = (alert.attempts or 0) + 1
            text = alert_text(concern, alert.tier, self._zone, self._public_url)
            return Job(alert.id, concern.id, alert.channel, alert.tier, person, text)

    def _email(self, concern: Concern, tier: str) -> dict:
        """An outbox payload (see intake.mail.compose): the same words as the SMS."""
        return {
            "purpose": "safeguarding_alert",
            "from": self._sender_address,
            "subject": f"Safeguarding concern {reference(concern.id)}: please acknowledge",
            "body": alert_text(concern, tier, self._zone, self._public_url),
            "auto": True,
            "erase": False,
        }

    async def escalate_due(self) -> int:
        """Alerts unacknowledged past their time: the next person on the rota is alerted, by
        the channels the concern's tier asks for now (a review at night: email only)."""
        now = self._clock()
        escalated: list[str] = []
        rota = await self._rota.show()
        async with self._db.transaction() as session:
            query = select(Alert).where(
                Alert.status.in_((*PENDING, "no_oncall", "undeliverable")),
                Alert.escalate_at <= now,
            )
            if not self._db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            for alert in list(await session.scalars(query)):
                concern = await session.get(Concern, alert.concern_id)
                if concern is None or concern.status != "open":
                    alert.status = "cancelled"
                    continue
                for pending in await session.scalars(
                    select(Alert).where(Alert.concern_id == concern.id, Alert.status.in_(PENDING))
                ):
                    pending.status = "escalated"  # this person's other channels stop too
                alert.status = "escalated"
                person = next_on_call(rota, alert.tier)
                next_tier = person.slot if person else ("deputy", "primary")[alert.tier == "deputy"]
                await alert_events.write(session, concern.id, "escalated", slot=next_tier, at=now)
                await add_alerts(
                    session,
                    concern.id,
                    next_tier,
                    alert_channels(concern.severity, in_hours=self._in_hours(now)),
                    escalate_at=now + self._escalate_after,
                    recipient=person.name if person else None,
                    now=now,
                )
                escalated.append(concern.id)
                log_event(
                    log, "alert_escalated", logging.WARNING, concern_id=concern.id, slot=next_tier
                )
        for concern_id in escalated:
            await self.deliver(concern_id)
        return len(escalated)

    async def acknowledge_by_phone(self, phone: str, body: str) -> str | None:
        """ "ACK <ref>" from a number on the rota acknowledges that concern; returns its id."""
        words = body.strip().upper().split()
        if len(words) < 2 or words[0] not in {"ACK", "ACKNOWLEDGE", "OK"}:
            return None
        ref = words[1].strip(".,!")
        if not re.fullmatch(r"[0-9A-F]{4,32}", ref):
            return None
        person = next(
            (p for p in (await self._rota.show()).values() if p is not None and p.phone == phone),
            None,
        )
        if person is None or len(ref) < 4:
            return None
        concern_id = await self._concerns.resolve(ref)
        if concern_id is None:
            return None
        await self._concerns.acknowledge(concern_id, f"{person.name} (SMS)")
        log_event(log, "alert_acknowledged", concern_id=concern_id, slot=person.slot)
        return concern_id

    async def acknowledge_call(self, alert_id: str, call_sid: str) -> str | None:
        """Pressing 1 on the alert call acknowledges its concern: only on the very call we
        placed for that alert (its sid), so a forged or stale request acknowledges nothing."""
        async with self._db.sessions() as session:
            alert = await session.get(Alert, alert_id)
        if alert is None or alert.channel != "call" or not call_sid:
            return None
        if alert.provider_ref != call_sid:
            return None
        await self._concerns.acknowledge(alert.concern_id, f"{alert.recipient} (phone call)")
        log_event(log, "alert_acknowledged", concern_id=alert.concern_id, slot=alert.tier)
        return alert.concern_id

    async def delivery_report(self, channel: str, alert_id: str, sid: str, status: str) -> None:
        """Twilio's report on an alert SMS or call (its status callback): kept in the
        chronology; one that did not arrive, or a call nobody answered, is tried again after
        its back-off, unless the concern was acknowledged meanwhile. Only the report on the
        very message or call we sent for that alert (its sid) counts."""
        now = self._clock()
        status = re.sub(r"[^a-z-]", "", status.lower())[:20] or "unknown"
        if status not in REPORTED:
            return  # queued, sending, ringing...: not a result
        retry: str | None = None
        delay = timedelta(0)
        async with self._db.transaction() as session:
            alert = await session.get(Alert, alert_id)
            if alert is None or alert.channel != channel or not sid or alert.provider_ref != sid:
                return
            await _note(session, alert, f"{channel}.{status}", now)
            if status in NOT_DELIVERED and alert.status == "sent":
                delay = retry_after(alert.attempts)
                alert.status, alert.next_attempt_at = "retrying", now + delay
                retry = alert.concern_id
        if retry is not None:
            log_event(log, "alert_not_delivered", logging.WARNING, channel=channel, status=status)
            self._retry_later(retry, delay)

    async def run(self, stop: asyncio.Event, interval: float) -> None:
        """Retry undelivered alerts and escalate unacknowledged ones until `stop` is set."""
        while not stop.is_set():
            try:
                await self.deliver()
                await self.escalate_due()
            except Exception as exc:  # noqa: BLE001 - the worker must outlive a database blip
                log_event(log, "alert_worker_failed", logging.WARNING, error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)


async def _note(
    session: AsyncSession, alert: Alert, event: str, at: datetime, detail: str | None = None
) -> None:
    """A line of the alert's concern's chronology, in the caller's transaction."""
    await alert_events.write(
        session,
        alert.concern_id,
        event,
        channel=alert.channel,
        slot=alert.tier,
        detail=detail,
        alert_id=alert.id,
        at=at,
    )


def _due(alert: Alert, now: datetime) -> bool:
    """Whether a deliverable alert may be tried now (a retry waits for its back-off; one
    "sending" is taken over only when its worker seems to have died)."""
    if alert.status == "retrying":
        return (alert.next_attempt_at or alert.created_at + RETRY_AFTER) <= now
    if alert.status == "sending":
        return alert.created_at + STUCK_AFTER <= now
    return True
