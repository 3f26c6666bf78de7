"""The on-call safeguarding rota: who is alerted first (primary) and next (deputy)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.database import Database
from storage.tables import OnCall, utcnow
from storage.values import SLOTS, OnCallEntry, normalise_email, normalise_phone


class RotaError(ValueError):
    """A rota entry that cannot be saved."""


class RotaStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def set(
        self, slot: str, name: str, phone: str, email: str, actor: str = "cli"
    ) -> OnCallEntry:
        if slot not in SLOTS:
            raise RotaError(f"unknown slot {slot!r}; choose primary or deputy")
        if not name.strip():
            raise RotaError("the on-call entry needs a name")
        try:
            phone_e164 = normalise_phone(phone)
        except ValueError as exc:
            raise RotaError(f"phone number refused: {exc}") from None
        try:
            address = normalise_email(email)
        except ValueError as exc:
            raise RotaError(f"email refused: {exc}") from None
        async with self._db.transaction() as session:
            row = await session.get(OnCall, slot)
            if row is None:
                row = OnCall(slot=slot)
                session.add(row)
            row.name, row.phone, row.email, row.updated_at = (
                name.strip(),
                phone_e164,
                address,
                utcnow(),
            )
            await audit.record(session, actor, "oncall.set", "oncall", slot)
        return OnCallEntry(slot, row.name, phone_e164, address)

    async def show(self, session: AsyncSession | None = None) -> dict[str, OnCallEntry | None]:
        if session is None:
            async with self._db.sessions() as own:
                return await self.show(own)
        found = {r.slot: r for r in await session.scalars(select(OnCall))}
        return {
            slot: OnCallEntry(r.slot, r.name, r.phone, r.email) if r else None
            for slot, r in ((slot, found.get(slot)) for slot in SLOTS)
        }
