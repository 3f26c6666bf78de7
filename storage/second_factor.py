"""A second factor for staff: a six-digit TOTP code from an authenticator app, after the password.

Why like this: a password seen or guessed must not open the console on its own. The shared
secret is sealed like any sensitive column, so a copy of the database makes no codes. A code is
good once: the time-step of the last one accepted is kept in the database, so a code seen over
a shoulder cannot be used again, in this process or another. Wrong codes lock the account as
wrong passwords do (five in 15 minutes); they are counted from the audit log, because signing
in again with the password resets the password's own count. Every change is audited with the
staff id, never the secret or a code.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from datetime import datetime

import pyotp
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import audit
from storage.database import Database
from storage.staff import LOCK_AFTER, LOCK_FOR, TOTP_SECRET
from storage.tables import AuditEntry, Staff
from storage.values import Role, utcnow

STEP_SECONDS = 30  # how long a code lasts: what every authenticator app uses
WINDOW = 1  # steps either side still accepted: a phone's clock a little out, a slow hand
ISSUER = "Parent Partnership Service"
FAILED = "second_factor.failed"
_FRESH_START = ("second_factor.passed", "second_factor.confirmed", "staff.locked")


class SecondFactorError(ValueError):
    """A change that cannot be made: a second set-up over one in use, or a removal by someone
    who may not."""


def normalise(code: str) -> str | None:
    """Six digits, forgiving the spaces an app shows between them; None if it cannot be one."""
    digits = "".join(code.split()).replace("-", "")
    return digits if len(digits) == 6 and digits.isascii() and digits.isdigit() else None


def matching_step(secret: str, code: str, now: float) -> int | None:
    """The time-step within the window whose code this is (the latest, should two match)."""
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int(now // STEP_SECONDS)
    matches = [
        step
        for step in range(current - WINDOW, current + WINDOW + 1)
        if hmac.compare_digest(totp.generate_otp(step), code)
    ]
    return matches[-1] if matches else None


def authenticator_uri(secret: str, account: str) -> str:
    """The otpauth:// address an authenticator app can take instead of the typed key."""
    return pyotp.TOTP(secret, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=ISSUER
    )


class SecondFactor:
    def __init__(self, db: Database, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock  # seconds since the epoch: tests choose the moment

    async def _row(self, staff_id: str) -> Staff | None:
        async with self._db.sessions() as session:
            return await session.get(Staff, staff_id)

    def _secret(self, row: Staff) -> str:
        return self._db.cipher.open(row.totp_secret_enc, TOTP_SECRET, row.id)

    async def begin_set_up(self, staff_id: str) -> str:
        """A new secret, sealed, waiting for its first code. One in use is never replaced:
        it must be removed first (SecondFactorError)."""
        secret = pyotp.random_base32()
        async with self._db.transaction() as session:
            done = await session.execute(
                update(Staff)
                .where(Staff.id == staff_id, Staff.totp_confirmed_at.is_(None))
                .values(
                    totp_secret_enc=self._db.cipher.seal(secret, TOTP_SECRET, staff_id),
                    totp_last_step=None,
                )
            )
            if done.rowcount != 1:
                raise SecondFactorError("two-step sign-in is already on (or no such account)")
            await audit.record(session, staff_id, "second_factor.set_up", "staff", staff_id)
        return secret

    async def pending(self, staff_id: str) -> str | None:
        """The secret of a set-up in progress, so a reloaded page shows the same key."""
        row = await self._row(staff_id)
        if row is None or row.totp_secret_enc is None or row.totp_confirmed_at is not None:
            return None
        return self._secret(row)

    async def confirm(self, staff_id: str, code: str) -> bool:
        """Turn a set-up on with its first right code (which cannot then be used again)."""
        row = await self._row(staff_id)
        digits = normalise(code)
        if row is None or row.totp_secret_enc is None or row.totp_confirmed_at is not None:
            return False
        step = matching_step(self._secret(row), digits, self._clock()) if digits else None
        if step is None:
            return False
        async with self._db.transaction() as session:
            done = await session.execute(
                update(Staff)
                .where(
                    Staff.id == staff_id,
                    Staff.totp_confirmed_at.is_(None),
                    Staff.totp_secret_enc == row.totp_secret_enc,  # not a newer set-up's
                )
                .values(totp_confirmed_at=utcnow(), totp_last_step=step)
            )
            if done.rowcount != 1:
                return False
            await audit.record(session, staff_id, "second_factor.confirmed", "staff", staff_id)
        return True

    async def verify(self, staff_id: str, code: str) -> bool:
        """A right code within a step either side, later than the last one used. Refused while
        the account is locked; a wrong or reused code counts towards the lock."""
        row = await self._row(staff_id)
        if row is None or row.totp_secret_enc is None or row.totp_confirmed_at is None:
            return False
        now = utcnow()
        async with self._db.transaction() as session:
            if row.locked_until is not None and row.locked_until > now:
                await audit.record(session, staff_id, "second_factor.locked_out", "staff", staff_id)
                return False
            digits = normalise(code)
            step = matching_step(self._secret(row), digits, self._clock()) if digits else None
            if step is not None:
                done = await session.execute(
                    update(Staff)
                    .where(
                        Staff.id == staff_id,
                        or_(Staff.totp_last_step.is_(None), Staff.totp_last_step < step),
                    )
                    .values(totp_last_step=step)
                )
                if done.rowcount == 1:
                    await audit.record(session, staff_id, "second_factor.passed", "staff", staff_id)
                    return True
            reason = "wrong" if step is None else "reused"
            await audit.record(session, staff_id, FAILED, "staff", staff_id, reason=reason)
            await self._lock_if_too_many(session, staff_id, now)
        return False

    async def _lock_if_too_many(self, session: AsyncSession, staff_id: str, now: datetime) -> None:
        """The fifth wrong code in 15 minutes (since the last right one) locks the account."""
        mine = (AuditEntry.actor == staff_id, AuditEntry.at > now - LOCK_FOR)
        since = await session.scalar(
            select(func.max(AuditEntry.at)).where(*mine, AuditEntry.action.in_(_FRESH_START))
        )
        failures = select(func.count()).where(*mine, AuditEntry.action == FAILED)
        if since is not None:
            failures = failures.where(AuditEntry.at > since)
        if int(await session.scalar(failures) or 0) < LOCK_AFTER:
            return
        await session.execute(
            update(Staff)
            .where(Staff.id == staff_id)
            .values(locked_until=now + LOCK_FOR, failed_logins=0)
        )
        await audit.record(
            session, staff_id, "staff.locked", "staff", staff_id, via="second_factor"
        )

    async def locked(self, staff_id: str) -> bool:
        row = await self._row(staff_id)
        return row is not None and row.locked_until is not None and row.locked_until > utcnow()

    async def remove(self, staff_id: str, actor: str) -> None:
        """Turn it off (a lost phone): by the member of staff themselves or an active admin."""
        async with self._db.transaction() as session:
            if actor != staff_id:
                role = await session.scalar(
                    select(Staff.role).where(Staff.id == actor, Staff.active.is_(True))
                )
                if role != Role.ADMIN.value:
                    raise SecondFactorError("only an admin or the account's owner may remove it")
            done = await session.execute(
                update(Staff)
                .where(Staff.id == staff_id)
                .values(totp_secret_enc=None, totp_confirmed_at=None, totp_last_step=None)
            )
            if done.rowcount != 1:
                raise SecondFactorError("no such account")
            await audit.record(session, actor, "second_factor.removed", "staff", staff_id)
