"""Signed-in browsers, kept server-side.

Why: signing out, disabling an account or resetting a password must end a session at once,
which a self-contained cookie cannot do. The cookie carries a random token; this table keeps
only its keyed hash, so a copy of the database opens no session. Sessions end after 30 minutes
without use and 12 hours after sign-in, whatever happens.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from storage import audit
from storage.database import Database
from storage.keys import LookupKeys
from storage.staff import StaffView
from storage.tables import Staff, StaffSession
from storage.values import Role, utcnow

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most once a minute


@dataclass(frozen=True)
class SignedIn:
    id: str  # the keyed hash: what the audit log and the CSRF token are bound to
    staff: StaffView
    created_at: datetime
    second_factor_at: datetime | None
    has_second_factor: bool  # the member of staff has set up a TOTP code


class StaffSessions:
    def __init__(self, db: Database, keys: LookupKeys) -> None:
        self._db = db
        self._keys = keys

    def _id(self, token: str) -> str:
        return self._keys.of("staff-session", token)

    async def start(self, staff_id: str, *, second_factor: bool = False) -> str:
        """A new session; returns the token for the cookie (never stored)."""
        token, now = secrets.token_urlsafe(32), utcnow()
        async with self._db.transaction() as session:
            session.add(
                StaffSession(
                    id=self._id(token),
                    staff_id=staff_id,
                    created_at=now,
                    last_seen_at=now,
                    second_factor_at=now if second_factor else None,
                )
            )
        return token

    async def resolve(self, token: str | None, *, touch: bool = True) -> SignedIn | None:
        """The session behind a cookie, if it is live and its account still active. A page
        refreshing itself (touch=False) does not keep an unattended session alive."""
        if not token or len(token) > 100:
            return None
        key, now = self._id(token), utcnow()
        async with self._db.sessions() as session:
            found = (
                await session.execute(
                    select(StaffSession, Staff)
                    .join(Staff, Staff.id == StaffSession.staff_id)
                    .where(StaffSession.id == key)
                )
            ).first()
        if found is None:
            return None
        row, staff = found
        if not staff.active or now - row.last_seen_at > IDLE or now - row.created_at > ABSOLUTE:
            await self.end(token)
            return None
        if touch and now - row.last_seen_at > TOUCH_EVERY:
            async with self._db.transaction() as session:
                await session.execute(
                    update(StaffSession).where(StaffSession.id == key).values(last_seen_at=now)
                )
        view = StaffView(staff.id, staff.email, staff.name, Role(staff.role), staff.active)
        has_totp = staff.totp_confirmed_at is not None
        return SignedIn(key, view, row.created_at, row.second_factor_at, has_totp)

    async def second_factor_passed(self, session_id: str) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                update(StaffSession)
                .where(StaffSession.id == session_id)
                .values(second_factor_at=utcnow())
            )

    async def end(self, token: str, actor: str | None = None) -> None:
        async with self._db.transaction() as session:
            await session.execute(delete(StaffSession).where(StaffSession.id == self._id(token)))
            if actor is not None:
                await audit.record(session, actor, "sign_out", "staff", actor)

    async def end_all(self, staff_id: str, *, session=None) -> None:  # noqa: ANN001
        """Every session of one member of staff (disabled, password reset, role changed)."""
        async with self._db.within(session) as s:
            await s.execute(delete(StaffSession).where(StaffSession.staff_id == staff_id))
