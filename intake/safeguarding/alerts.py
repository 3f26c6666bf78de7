"""Alerting the on-call safeguarding lead within seconds, and the deputy when nobody answers.

A concern's first alert row is written with the concern itself (storage.concerns), so an alert
can never be lost between the two. This service delivers it: an SMS that carries no personal
data (only a reference, the channel and the time), retried until sent; and, when the alert is
not acknowledged within INTAKE_ESCALATE_AFTER, the deputy is alerted too. Each alert is also
emailed once to the person's rota address, through the durable outbox. The lead acknowledges
by replying "ACK <ref>" (see sms_webhook) or in the console.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import select

from intake.logs import log_event
from intake.metrics import Metrics
from intake.safeguarding.sms import SmsSender
from storage.concerns import ConcernStore
from storage.database import Database, new_id
from storage.outbox import Outbox
from storage.rota import RotaStore
from storage.tables import Alert, Concern
from storage.values import OnCallEntry, next_on_call, utcnow

log = logging.getLogger("intake.safeguarding")

RETRY_AFTER = timedelta(seconds=30)
STUCK_AFTER = timedelta(seconds=120)  # a "sending" alert whose worker died is sent again
DELIVERABLE = ("queued", "retrying", "sending")
REF_LENGTH = 8


def reference(concern_id: str) -> str:
    """The short reference a lead reads and types back: the concern id's first characters."""
    return concern_id[:REF_LENGTH].upper()


def alert_text(concern: Concern, tier: str) -> str:
    when = concern.raised_at.strftime("%H:%M")
    urgency = "NOW" if concern.severity == "immediate" else "today"
    deputy = " The on-call lead has not answered." if tier == "deputy" else ""
    return (
        f"Parent Partnership safeguarding: a concern needs you {urgency} "
        f"({concern.channel}, {when} UTC, ref {reference(concern.id)}).{deputy} "
        f"Reply ACK {reference(concern.id)} when you have it. Details are in the console."
    )


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
    ) -> None:
        self._db = db
        self._concerns = concerns
        self._rota = rota
        self._sms = sms
        self._escalate_after = escalate_after
        self._metrics = metrics or Metrics()
        self._clock = clock
        self._outbox = outbox
        self._sender_address = sender_address
        self._tasks: set[asyncio.Task] = set()

    def schedule(self, concern_id: str) -> None:
        """Called as a concern is raised: deliver its alert now, without delaying the caller."""
        task = asyncio.get_running_loop().create_task(self.deliver(concern_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        await self.drain()
        if self._sms is not None:
            await self._sms.close()

    async def deliver(self, concern_id: str | None = None) -> int:
        """Send every alert (of one concern, or all) that is due; return how many were sent."""
        async with self._db.sessions() as session:
            query = select(Alert.id).where(Alert.status.in_(DELIVERABLE))
            if concern_id is not None:
                query = query.where(Alert.concern_id == concern_id)
            alert_ids = list(await session.scalars(query))
        if not alert_ids:
            return 0
        rota = await self._rota.show()
        sent = 0
        for alert_id in alert_ids:
            sent += await self._send_one(alert_id, rota)
        return sent

    async def _send_one(self, alert_id: str, rota: dict[str, OnCallEntry | None]) -> int:
        claimed = await self._claim(alert_id, rota)
        if claimed is None:
            return 0
        concern_id, tier, phone, name, text = claimed
        try:
            await self._sms.send(phone, text)  # outside any transaction: never hold a lock
        except Exception as exc:  # noqa: BLE001 - retried by the worker
            await self._set_status(alert_id, "retrying")
            log_event(
                log,
                "alert_send_failed",
                logging.WARNING,
                concern_id=concern_id,
                error=type(exc).__name__,
            )
            self._metrics.count("intake_alerts_failed_total")
            return 0
        await self._set_status(alert_id, "sent", recipient=name)
        self._metrics.count("intake_alerts_sent_total", tier=tier)
        log_event(log, "alert_sent", concern_id=concern_id, slot=tier)
        return 1

    async def _claim(
        self, alert_id: str, rota: dict[str, OnCallEntry | None]
    ) -> tuple[str, str, str, str, str] | None:
        """Mark one due alert as being sent (so no other worker sends it too)."""
        now = self._clock()
        async with self._db.transaction() as session:
            query = select(Alert).where(Alert.id == alert_id)
            if not self._db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            alert = await session.scalar(query)
            if alert is None or alert.status not in DELIVERABLE:
                return None
            wait = {"retrying": RETRY_AFTER, "sending": STUCK_AFTER}.get(alert.status)
            if wait is not None and alert.created_at + wait > now:
                return None
            concern = await session.get(Concern, alert.concern_id)
            person = rota.get(alert.tier)
            if concern is None or concern.status != "open":
                alert.status = "cancelled"
                return None
            if person is None:
                alert.status = "no_oncall"
                log_event(
                    log,
                    "alert_undeliverable",
                    logging.ERROR,
                    concern_id=concern.id,
                    slot=alert.tier,
                    reason=alert.status,
                )
                return None
            emailed = False
            if alert.status == "queued" and self._outbox is not None:
                # The email goes once per alert, in this transaction; the SMS is retried.
                await self._outbox.enqueue(
                    "email",
                    person.email,
                    self._email(concern, alert.tier),
                    reference=f"alert:{alert.id}",
                    session=session,
                )
                emailed = True
            if self._sms is None:
                alert.status = "sent" if emailed else "undeliverable"
                alert.recipient = person.name
                log_event(
                    log,
                    "alert_without_sms",
                    logging.ERROR,
                    concern_id=concern.id,
                    slot=alert.tier,
                    reason="no Twilio account",
                )
                return None
            alert.status, alert.created_at = "sending", now
            text = alert_text(concern, alert.tier)
            return concern.id, alert.tier, person.phone, person.name, text

    def _email(self, concern: Concern, tier: str) -> dict:
        """An outbox payload (see intake.mail.compose): the same words as the SMS."""
        return {
            "purpose": "safeguarding_alert",
            "from": self._sender_address,
            "subject": f"Safeguarding concern {reference(concern.id)}: please acknowledge",
            "body": alert_text(concern, tier),
            "auto": True,
            "erase": False,
        }

    async def _set_status(self, alert_id: str, status: str, recipient: str | None = None) -> None:
        async with self._db.transaction() as session:
            alert = await session.get(Alert, alert_id)
            if alert is not None and alert.status == "sending":
                alert.status = status
                alert.recipient = recipient or alert.recipient

    async def escalate_due(self) -> int:
        """Alerts unacknowledged past their time: the next person on the rota is alerted."""
        now = self._clock()
        escalated: list[str] = []
        rota = await self._rota.show()
        async with self._db.transaction() as session:
            query = select(Alert).where(
                Alert.status.in_(
                    ("queued", "sending", "sent", "retrying", "no_oncall", "undeliverable")
                ),
                Alert.escalate_at <= now,
            )
            if not self._db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            for alert in await session.scalars(query):
                concern = await session.get(Concern, alert.concern_id)
                if concern is None or concern.status != "open":
                    alert.status = "cancelled"
                    continue
                alert.status = "escalated"
                person = next_on_call(rota, alert.tier)
                next_tier = person.slot if person else ("deputy", "primary")[alert.tier == "deputy"]
                session.add(
                    Alert(
                        id=new_id(),
                        concern_id=concern.id,
                        tier=next_tier,
                        recipient=None,
                        status="queued",
                        created_at=now,
                        escalate_at=now + self._escalate_after,
                    )
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
