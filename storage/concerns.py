"""Safeguarding concerns and their alerts, behind their own interface.

Why separate: a concern is the policy's one exception to confidentiality. It is kept even when a
parent declined records, holds only the minimum needed to act (evidence excerpt, channel, time,
contact handle), and its content is readable only by the safeguarding role.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import alert_events, audit
from storage.database import Database, new_id
from storage.keys import LookupKeys
from storage.rota import RotaStore
from storage.staff import StaffView
from storage.tables import Alert, AlertEvent, Concern, Conversation
from storage.tallies import Tallies
from storage.values import ConcernInput, Contact, Role, next_on_call, utcnow

PENDING = ("queued", "sending", "sent", "retrying")  # alerts still being delivered or due
EVIDENCE = "concerns.evidence"
CONTACT = "concerns.contact"
DECISION = "concerns.decision"
PARENT_LEFT = ("consent_withdrawn", "parent_erased")  # chronology lines the queue shows


class NotPermitted(PermissionError):
    """Concern content was asked for by someone without the safeguarding role."""


@dataclass(frozen=True)
class ConcernSummary:
    """What anyone operating the service may see: no evidence, no contact."""

    id: str
    raised_at: datetime
    channel: str
    severity: str
    categories: tuple[str, ...]
    status: str
    alert_status: str
    alerted: str | None
    channels: tuple[tuple[str, str], ...] = ()  # (channel, status of its latest alert)
    parent_left: str | None = None  # "consent_withdrawn" | "parent_erased": the lead is told


@dataclass(frozen=True)
class ConcernDetail:
    summary: ConcernSummary
    evidence: str
    rules: tuple[str, ...]
    contact: Contact | None
    conversation_id: str | None
    decision: dict | None  # {"kind", "reason", "reference", "by", "at"} once the lead decided
    model_version: str | None = None  # the risk model that judged it (None: rules alone)
    evidence_marks: tuple[tuple, ...] = ()  # (start, end, category, rule) within the evidence


DECISIONS = {
    "referred": "Referred to children's services",
    "advice": "Advice given",
    "none": "No further action",
}


class ConcernStore:
    def __init__(self, db: Database, keys: LookupKeys, tallies: Tallies) -> None:
        self._db = db
        self._keys = keys
        self._tallies = tallies
        self._rota = RotaStore(db)
        self._cipher = db.cipher

    async def raise_concern(
        self,
        concern: ConcernInput,
        escalate_after: timedelta,
        *,
        session: AsyncSession | None = None,
    ) -> str:
        """Keep the concern and queue its first alert, in one transaction (the caller's, when
        given).

        POLICY EXCEPTION: this runs whatever the parent said about record-keeping, because
        information that a child is at risk must be passed on under safeguarding procedures.
        """
        now = utcnow()
        contact = concern.contact
        concern_id = new_id()
        row = Concern(
            id=concern_id,
            channel=str(concern.channel),
            severity=concern.severity,
            categories=list(concern.categories),
            rules=list(concern.rules),
            evidence_enc=self._cipher.seal(concern.evidence, EVIDENCE, concern_id),
            thread_hash=self._keys.thread(concern.channel, concern.thread_ref),
            contact_kind=None if contact is None else contact.kind,
            contact_enc=None
            if contact is None
            else self._cipher.seal(contact.value, CONTACT, concern_id),
            contact_hash=None if contact is None else self._keys.contact(contact),
            conversation_id=concern.conversation_id,
            status="open",
            raised_at=now,
            model_version=concern.model_version,
            evidence_marks=[list(m) for m in concern.evidence_marks] or None,
        )
        async with self._db.within(session) as session:
            session.add(row)
            await session.flush()
            # The lead on call first; with nobody in that slot, the deputy straight away.
            person = next_on_call(await self._rota.show(session))
            await add_alerts(
                session,
                row.id,
                "primary" if person is None else person.slot,
                concern.alert_by,
                escalate_at=now + escalate_after,
                recipient=None if person is None else person.name,
                now=now,
            )
            await audit.record(
                session,
                "gateway",
                "concern.raise",
                "concern",
                row.id,
                severity=concern.severity,
                channel=str(concern.channel),
            )
            await self._tallies.count(concern.channel, "concern", session=session)
        return row.id

    async def chronology(self, concern_id: str) -> list[alert_events.ChronologyLine]:
        return await alert_events.chronology(self._db, concern_id)

    async def list(self, limit: int = 500) -> list[ConcernSummary]:
        async with self._db.sessions() as session:
            rows = list(
                await session.scalars(
                    select(Concern).order_by(Concern.raised_at.desc()).limit(limit)
                )
            )
            return [await self._summary(session, r) for r in rows]

    async def read(self, concern_id: str, reader_role: Role, reader: str) -> ConcernDetail:
        """The concern's content, for the safeguarding role only; every read is audited."""
        if reader_role is not Role.SAFEGUARDING_LEAD:
            raise NotPermitted("only the safeguarding role may read a concern")
        async with self._db.transaction() as session:
            row = await session.get(Concern, concern_id)
            if row is None:
                raise LookupError(concern_id)
            await audit.record(session, reader, "concern.read", "concern", concern_id)
            summary = await self._summary(session, row)
        contact = None
        if row.contact_enc is not None and row.contact_kind:
            contact = Contact(row.contact_kind, self._cipher.open(row.contact_enc, CONTACT, row.id))
        return ConcernDetail(
            summary=summary,
            evidence=self._cipher.open(row.evidence_enc, EVIDENCE, row.id),
            rules=tuple(row.rules or ()),
            contact=contact,
            conversation_id=row.conversation_id,
            decision=self._decision(row),
            model_version=row.model_version,
            evidence_marks=tuple(tuple(m) for m in row.evidence_marks or ()),
        )

    def _decision(self, row: Concern) -> dict | None:
        sealed = self._cipher.open_optional(row.decision_enc, DECISION, row.id)
        if sealed is None:
            return None
        try:
            kept = json.loads(sealed)
        except ValueError:
            kept = {"reason": sealed}  # written before decisions had a kind
        at = row.decided_at.isoformat() if row.decided_at else None
        return {"kind": row.decision_kind, "by": row.decided_by, "at": at, **kept}

    async def decide(
        self, concern_id: str, staff: StaffView, kind: str, reason: str, reference: str = ""
    ) -> None:
        """The lead's decision and its reason (and children's services' reference when
        referred), sealed; it acknowledges the concern too, so nothing more escalates."""
        if kind not in DECISIONS:
            raise ValueError(kind)
        staff_id = staff.id
        async with self._db.sessions() as session:
            status = await session.scalar(select(Concern.status).where(Concern.id == concern_id))
        if status is None:
            raise LookupError(concern_id)
        if status == "open":
            await self.acknowledge(concern_id, f"{staff.name} (console)", actor=staff_id)
        async with self._db.transaction() as session:
            row = await session.get(Concern, concern_id)
            decision = json.dumps({"reason": reason, "reference": reference})
            row.decision_enc = self._cipher.seal(decision, DECISION, row.id)
            row.decision_kind, row.decided_by, row.decided_at = kind, staff_id, utcnow()
            row.status = "decided"
            await audit.record(session, staff_id, "concern.decide", "concern", row.id, kind=kind)

    async def conversation_for(self, concern_id: str) -> str | None:
        """The consented conversation on the concern's thread, if the parent said yes."""
        async with self._db.sessions() as session:
            row = await session.get(Concern, concern_id)
            if row is None:
                return None
            if row.conversation_id:
                return row.conversation_id
            return await session.scalar(
                select(Conversation.id).where(Conversation.thread_hash == row.thread_hash)
            )

    async def acknowledge(self, concern_id: str, by: str, *, actor: str | None = None) -> None:
        """Stop the alerts and escalation; `by` is shown in the chronology, `actor` (a staff id,
        where known) is who the audit log names."""
        now = utcnow()
        async with self._db.transaction() as session:
            row = await session.get(Concern, concern_id)
            if row is None:
                raise LookupError(concern_id)
            if row.acknowledged_at is None:
                row.status, row.acknowledged_at, row.acknowledged_by = "acknowledged", now, by
            alerts = await session.scalars(select(Alert).where(Alert.concern_id == concern_id))
            for alert in alerts:
                if alert.status in PENDING:  # nothing more is sent, retried or escalated
                    alert.status, alert.acknowledged_at = "acknowledged", now
            await audit.record(session, actor or by, "concern.acknowledge", "concern", concern_id)
            await alert_events.write(session, concern_id, "acknowledged", detail=by, at=now)

    async def release_for_access(self, concern_id: str, reader_role: Role, reader: str) -> bool:
        """The lead's decision that a concern and its thread may be given in answer to the
        parent's subject access request. False when it was released already."""
        if reader_role is not Role.SAFEGUARDING_LEAD:
            raise NotPermitted("only the safeguarding role may release a concern's items")
        async with self._db.transaction() as session:
            row = await session.get(Concern, concern_id)
            if row is None:
                raise LookupError(concern_id)
            if row.released_at is not None:
                return False
            row.released_at, row.released_by = utcnow(), reader
            await audit.record(session, reader, "concern.release_for_access", "concern", row.id)
        return True

    async def resolve(self, id_or_reference: str) -> str | None:
        """A concern's id from its id or the short reference an alert carried; None unless
        exactly one matches."""
        ref = id_or_reference.strip().lower()
        if not ref or not all(c in "0123456789abcdef" for c in ref) or len(ref) < 4:
            return None
        async with self._db.sessions() as session:
            matches = list(
                await session.scalars(select(Concern.id).where(Concern.id.like(f"{ref}%")).limit(2))
            )
        return matches[0] if len(matches) == 1 else None

    async def count_open(self) -> int:
        async with self._db.sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(Concern).where(Concern.status == "open")
            )
            return int(count or 0)

    async def _summary(self, session: AsyncSession, row: Concern) -> ConcernSummary:
        alerts = list(
            await session.scalars(
                select(Alert).where(Alert.concern_id == row.id).order_by(Alert.created_at)
            )
        )
        # The latest person's alert is the row that carries its escalation time; the status of
        # each channel is that of its latest alert.
        leads = [a for a in alerts if a.escalate_at is not None]
        latest = (leads or alerts)[-1] if alerts else None
        by_channel = {a.channel: a.status for a in alerts}
        left = await session.scalar(
            select(AlertEvent.event)
            .where(AlertEvent.concern_id == row.id, AlertEvent.event.in_(PARENT_LEFT))
            .order_by(AlertEvent.at.desc())
            .limit(1)
        )
        return ConcernSummary(
            id=row.id,
            raised_at=row.raised_at,
            channel=row.channel,
            severity=row.severity,
            categories=tuple(row.categories or ()),
            status=row.status,
            alert_status=latest.status if latest else "none",
            alerted=latest.recipient if latest else None,
            channels=tuple(sorted(by_channel.items())),
            parent_left=left,
        )


async def add_alerts(
    session: AsyncSession,
    concern_id: str,
    slot: str,
    channels: tuple[str, ...],
    *,
    escalate_at: datetime,
    recipient: str | None,
    now: datetime,
) -> None:
    """One person's alert, one row per channel; the first row carries the escalation time
    (the rest are retried on their own, and stop when the concern is acknowledged)."""
    status = "queued" if recipient is not None else "no_oncall"
    for n, channel in enumerate(channels):
        alert_id = new_id()
        session.add(
            Alert(
                id=alert_id,
                concern_id=concern_id,
                tier=slot,
                channel=channel,
                recipient=recipient,
                status=status,
                created_at=now,
                escalate_at=escalate_at if n == 0 else None,
                attempts=0,
            )
        )
    await session.flush()
    if recipient is None:
        await alert_events.write(session, concern_id, "no_one_on_call", slot=slot, at=now)


__all__ = ["ConcernDetail", "ConcernStore", "ConcernSummary", "NotPermitted", "add_alerts"]
