"""Staff accounts. Passwords are argon2 hashes; roles come from storage.values.Role."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from storage import audit
from storage.database import Database, new_id
from storage.tables import Staff, StaffSession, utcnow
from storage.values import Role, normalise_email

_hasher = PasswordHasher()
TOTP_SECRET = "staff.totp_secret"  # noqa: S105 - a column label, not a secret


class StaffError(ValueError):
    """A staff change that cannot be made (duplicate email, unknown role...)."""


@dataclass(frozen=True)
class StaffView:
    id: str
    email: str
    name: str
    role: Role
    active: bool


@dataclass(frozen=True)
class SignIn:
    staff: StaffView | None
    locked: bool = False  # too many wrong passwords: try again in 15 minutes


@dataclass(frozen=True)
class StaffAccount:
    """What the admin sees of an account: never its password hash or second-factor secret."""

    id: str
    email: str
    name: str
    role: Role
    active: bool
    locked_until: datetime | None
    has_password: bool
    has_second_factor: bool
    created_at: datetime

    @property
    def locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > utcnow()


def _account(row: Staff) -> StaffAccount:
    return StaffAccount(
        row.id,
        row.email,
        row.name,
        Role(row.role),
        row.active,
        row.locked_until,
        bool(row.password_hash),
        row.totp_confirmed_at is not None,
        row.created_at,
    )


PASSWORD_MIN, PASSWORD_MAX = 12, 200
LOCK_AFTER = 5
LOCK_FOR = timedelta(minutes=15)


def _check(password_hash: str | None, password: str) -> bool:
    """argon2 verification, the same cost whether or not the account exists."""
    if password_hash is None:
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def parse_role(raw: str) -> Role:
    try:
        return Role(raw)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise StaffError(f"unknown role {raw!r}; choose one of: {allowed}") from None


class StaffStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(
        self, email: str, name: str, role: str, password: str | None = None, actor: str = "cli"
    ) -> StaffView:
        role_ = parse_role(role)
        try:
            address = normalise_email(email)
        except ValueError:
            raise StaffError(f"not a valid email address: {email!r}") from None
        if not name.strip():
            raise StaffError("a staff member needs a name")
        if password is not None and len(password) < 12:
            raise StaffError("passwords must be at least 12 characters")
        row = Staff(
            id=new_id(),
            email=address,
            name=name.strip(),
            role=role_.value,
            password_hash=_hasher.hash(password) if password else None,
            active=True,
            created_at=utcnow(),
        )
        async with self._db.transaction() as session:
            exists = await session.scalar(select(func.count()).where(Staff.email == address))
            if exists:
                raise StaffError(f"a staff account for {address} already exists")
            session.add(row)
            await audit.record(session, actor, "staff.add", "staff", row.id, role=role_.value)
            try:
                await session.flush()
            except IntegrityError:
                raise StaffError(f"a staff account for {address} already exists") from None
        return StaffView(row.id, row.email, row.name, role_, True)

    async def verify(self, email: str, password: str, where: str = "cli") -> StaffView | None:
        return (await self.sign_in(email, password, where)).staff

    async def sign_in(self, email: str, password: str, where: str = "console") -> SignIn:
        """Check a password, counting failures durably: the fifth wrong one in a row locks the
        account for 15 minutes, in every process. Every success, failure and lock is audited
        (the staff id, never the password or an unknown address typed)."""
        now = utcnow()
        async with self._db.sessions() as session:
            row = await session.scalar(select(Staff).where(Staff.email == email.strip().lower()))
        usable = row is not None and row.active and bool(row.password_hash)
        if usable and row.locked_until is not None and row.locked_until > now:
            async with self._db.transaction() as session:
                await audit.record(
                    session, row.id, "sign_in.locked_out", "staff", row.id, via=where
                )
            return SignIn(None, locked=True)
        ok = await asyncio.to_thread(_check, row.password_hash if usable else None, password)
        async with self._db.transaction() as session:
            if not usable:
                await audit.record(session, "unknown", "sign_in.failed", None, None, via=where)
                return SignIn(None)
            if ok:
                await session.execute(
                    update(Staff).where(Staff.id == row.id).values(failed_logins=0)
                )
                await audit.record(session, row.id, "sign_in", "staff", row.id, via=where)
                return SignIn(StaffView(row.id, row.email, row.name, Role(row.role), True))
            failures = (row.failed_logins or 0) + 1
            locked = failures >= LOCK_AFTER
            await session.execute(
                update(Staff)
                .where(Staff.id == row.id)
                .values(
                    failed_logins=0 if locked else Staff.failed_logins + 1,
                    locked_until=now + LOCK_FOR if locked else Staff.locked_until,
                )
            )
            await audit.record(session, row.id, "sign_in.failed", "staff", row.id, via=where)
            if locked:
                await audit.record(session, row.id, "staff.locked", "staff", row.id, via=where)
        return SignIn(None, locked=locked)

    async def list(self) -> list[StaffView]:
        async with self._db.sessions() as session:
            rows = await session.scalars(select(Staff).order_by(Staff.email))
            return [StaffView(r.id, r.email, r.name, Role(r.role), r.active) for r in rows]

    async def accounts(self) -> list[StaffAccount]:
        async with self._db.sessions() as session:
            rows = await session.scalars(select(Staff).order_by(Staff.name, Staff.email))
            return [_account(r) for r in rows]

    async def get(self, staff_id: str) -> StaffAccount | None:
        async with self._db.sessions() as session:
            row = await session.get(Staff, staff_id)
            return _account(row) if row is not None else None

    async def set_role(self, staff_id: str, role: str, actor: str) -> StaffAccount:
        """A new role takes effect at once: every session of theirs ends with the change."""
        role_ = parse_role(role)

        def change(row: Staff) -> dict | None:
            if row.role == role_.value:
                return None
            if row.id == actor and row.role == Role.ADMIN.value:
                raise StaffError("You cannot remove your own admin role. Ask another admin.")
            was, row.role = row.role, role_.value
            return {"action": "staff.role_changed", "role": role_.value, "was": was}

        return await self._change(staff_id, actor, change)

    async def set_active(self, staff_id: str, active: bool, actor: str) -> StaffAccount:
        """Disabling signs them out everywhere at once; enabling lets them sign in again."""

        def change(row: Staff) -> dict | None:
            if row.active == active:
                return None
            if row.id == actor and not active:
                raise StaffError("You cannot disable your own account. Ask another admin.")
            row.active = active
            return {"action": "staff.enabled" if active else "staff.disabled"}

        return await self._change(staff_id, actor, change)

    async def reset_password(self, staff_id: str, password: str, actor: str) -> StaffAccount:
        """A new password: the old one stops working, the lockout is lifted, and every session
        of theirs ends (whoever had the old password is signed out)."""
        if len(password) < PASSWORD_MIN:
            raise StaffError(f"Password must be at least {PASSWORD_MIN} characters")
        if len(password) > PASSWORD_MAX:
            raise StaffError(f"Password must be {PASSWORD_MAX} characters or fewer")
        password_hash = await asyncio.to_thread(_hasher.hash, password)

        def change(row: Staff) -> dict:
            row.password_hash, row.failed_logins, row.locked_until = password_hash, 0, None
            return {"action": "staff.password_reset"}

        return await self._change(staff_id, actor, change)

    async def _change(
        self, staff_id: str, actor: str, change: Callable[[Staff], dict | None]
    ) -> StaffAccount:
        """One account change, its audit entry and the end of every session of theirs, in one
        transaction. `change` returns None when there is nothing to do. LookupError: no such
        account."""
        async with self._db.transaction() as session:
            row = await session.get(Staff, staff_id)
            if row is None:
                raise LookupError(staff_id)
            done = change(row)
            if done is not None:
                action = done.pop("action")
                if action != "staff.enabled":  # as StaffSessions.end_all does
                    await session.execute(
                        delete(StaffSession).where(StaffSession.staff_id == staff_id)
                    )
                await audit.record(session, actor, action, "staff", staff_id, **done)
            return _account(row)
