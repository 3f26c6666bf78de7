"""The on-call safeguarding rota: who is alerted first (primary) and next (deputy), as shifts.

Why shifts: an admin enters a week ahead, and at any moment exactly one shift per slot is
current (overlaps in a slot are refused), so who is on call now is a single query. A shift with
no end lasts until further notice; `set` (the `intake oncall set` command) ends the current
shift of a slot now and starts an open-ended one. Every change is audited in its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.database import Database, new_id
from storage.tables import RotaShift, utcnow
from storage.values import SLOTS, OnCallEntry, normalise_email, normalise_phone

NAME_MAX = 200
ROTA_LOCK = 7_413_003  # PostgreSQL advisory lock: rota changes in every process take turns


class RotaError(ValueError):
    """A rota entry that cannot be saved; `field` names the form field it is about."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Shift:
    id: str
    slot: str
    name: str
    phone: str
    email: str
    starts_at: datetime
    ends_at: datetime | None  # None: until further notice

    @property
    def entry(self) -> OnCallEntry:
        return OnCallEntry(self.slot, self.name, self.phone, self.email)

    def is_current(self, now: datetime) -> bool:
        return self.starts_at <= now and (self.ends_at is None or self.ends_at > now)


class ShiftClash(RotaError):
    """The new shift overlaps one already on the rota in the same slot."""

    def __init__(self, clash: Shift) -> None:
        ends = clash.ends_at.isoformat() if clash.ends_at else "until further notice"
        super().__init__(
            f"overlaps {clash.name}'s {clash.slot} shift ({clash.starts_at.isoformat()} to {ends})",
            field="starts",
        )
        self.clash = clash


def _shift(row: RotaShift) -> Shift:
    return Shift(row.id, row.slot, row.name, row.phone, row.email, row.starts_at, row.ends_at)


def _person(slot: str, name: str, phone: str, email: str) -> tuple[str, str, str]:
    """The slot checked, the name trimmed, phone and address in their one canonical form."""
    if slot not in SLOTS:
        raise RotaError(f"unknown slot {slot!r}; choose primary or deputy", field="slot")
    if not name.strip():
        raise RotaError("Enter the person's name", field="name")
    if len(name.strip()) > NAME_MAX:
        raise RotaError(f"Name must be {NAME_MAX} characters or fewer", field="name")
    try:
        phone_e164 = normalise_phone(phone)
    except ValueError as exc:
        raise RotaError(f"phone number refused: {exc}", field="phone") from None
    try:
        address = normalise_email(email)
    except ValueError as exc:
        raise RotaError(f"email refused: {exc}", field="email") from None
    return name.strip(), phone_e164, address


def _overlapping(slot: str, starts_at: datetime, ends_at: datetime | None):  # noqa: ANN202
    """Shifts of a slot that share any moment with [starts_at, ends_at)."""
    query = select(RotaShift).where(
        RotaShift.slot == slot,
        or_(RotaShift.ends_at.is_(None), RotaShift.ends_at > starts_at),
    )
    if ends_at is not None:
        query = query.where(RotaShift.starts_at < ends_at)
    return query.order_by(RotaShift.starts_at)


class RotaStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _take_turn(self, session: AsyncSession) -> None:
        """An overlap check and its insert must not interleave with another process's."""
        if not self._db.is_sqlite:
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ROTA_LOCK})

    async def show(
        self, session: AsyncSession | None = None, *, now: datetime | None = None
    ) -> dict[str, OnCallEntry | None]:
        """Who is on call in each slot at `now` (default: this moment), in one query."""
        if session is None:
            async with self._db.sessions() as own:
                return await self.show(own, now=now)
        at = now or utcnow()
        rows = await session.scalars(
            select(RotaShift)
            .where(
                RotaShift.starts_at <= at,
                or_(RotaShift.ends_at.is_(None), RotaShift.ends_at > at),
            )
            .order_by(RotaShift.starts_at.desc())
        )
        found: dict[str, OnCallEntry] = {}
        for row in rows:  # overlaps are refused; should two ever meet, the later start wins
            found.setdefault(row.slot, _shift(row).entry)
        return {slot: found.get(slot) for slot in SLOTS}

    async def set(
        self, slot: str, name: str, phone: str, email: str, actor: str = "cli"
    ) -> OnCallEntry:
        """Put someone on call in a slot from now until further notice (or, when a shift is
        already planned later, until it starts: a rota entered ahead still takes over)."""
        name, phone_e164, address = _person(slot, name, phone, email)
        now = utcnow()
        async with self._db.transaction() as session:
            await self._take_turn(session)
            later = None
            for row in list(await session.scalars(_overlapping(slot, now, None))):
                if row.starts_at > now:
                    later = row.starts_at if later is None else min(later, row.starts_at)
                else:
                    await _end_or_delete(session, row, now)
            row = _new_shift(slot, (name, phone_e164, address), now, later)
            session.add(row)
            await audit.record(session, actor, "oncall.set", "oncall", slot, shift=row.id)
        return OnCallEntry(slot, name, phone_e164, address)

    async def add_shift(
        self,
        slot: str,
        name: str,
        phone: str,
        email: str,
        starts_at: datetime,
        ends_at: datetime | None = None,
        actor: str = "cli",
    ) -> Shift:
        """A shift entered ahead (or from now). Refused, with nothing saved, when it overlaps
        another shift of the same slot (ShiftClash names it) or would already be over."""
        name, phone_e164, address = _person(slot, name, phone, email)
        if starts_at.tzinfo is None or (ends_at is not None and ends_at.tzinfo is None):
            raise ValueError("shift times must be timezone-aware")
        now = utcnow()
        if ends_at is not None and ends_at <= starts_at:
            raise RotaError("The end must be after the start", field="ends")
        if ends_at is not None and ends_at <= now:
            raise RotaError("The end must be in the future", field="ends")
        async with self._db.transaction() as session:
            await self._take_turn(session)
            clashes = list(await session.scalars(_overlapping(slot, starts_at, ends_at)))
            # "Until further notice" that began earlier gives way: it now ends as this starts,
            # so a week can be entered ahead of whoever is on call today.
            giving_way = [c for c in clashes if c.ends_at is None and c.starts_at < starts_at]
            if len(giving_way) < len(clashes):
                raise ShiftClash(_shift(next(c for c in clashes if c not in giving_way)))
            for open_ended in giving_way:
                open_ended.ends_at = starts_at
                await audit.record(
                    session, actor, "oncall.shift_ended", "oncall", open_ended.id, slot=slot
                )
            row = _new_shift(slot, (name, phone_e164, address), starts_at, ends_at)
            session.add(row)
            await audit.record(session, actor, "oncall.shift_added", "oncall", row.id, slot=slot)
        return _shift(row)

    async def shifts(self, since: datetime | None = None) -> list[Shift]:
        """Shifts not over by `since` (default: now): the current ones and those to come."""
        at = since or utcnow()
        async with self._db.sessions() as session:
            rows = await session.scalars(
                select(RotaShift)
                .where(or_(RotaShift.ends_at.is_(None), RotaShift.ends_at > at))
                .order_by(RotaShift.starts_at, RotaShift.slot)
                .limit(1000)
            )
            return [_shift(row) for row in rows]

    async def remove_shift(self, shift_id: str, actor: str = "cli") -> Shift:
        """A shift to come is deleted; a current one ends now (the past stays as it was), and
        the shift is returned as it is left. LookupError: no such shift, or already over."""
        now = utcnow()
        async with self._db.transaction() as session:
            await self._take_turn(session)
            row = await session.get(RotaShift, shift_id)
            if row is None or (row.ends_at is not None and row.ends_at <= now):
                raise LookupError(shift_id)
            action = await _end_or_delete(session, row, now)
            await audit.record(session, actor, action, "oncall", row.id, slot=row.slot)
        return _shift(row)


async def _end_or_delete(session: AsyncSession, row: RotaShift, now: datetime) -> str:
    """End a shift now, or delete it if it has not begun: what the audit entry calls it."""
    if row.starts_at < now:
        row.ends_at = now
        return "oncall.shift_ended"
    await session.delete(row)
    return "oncall.shift_removed"


def _new_shift(
    slot: str, person: tuple[str, str, str], starts_at: datetime, ends_at: datetime | None
) -> RotaShift:
    name, phone, email = person
    return RotaShift(
        id=new_id(),
        slot=slot,
        name=name,
        phone=phone,
        email=email,
        starts_at=starts_at,
        ends_at=ends_at,
        created_at=utcnow(),
    )
