"""Staff accounts. Passwords are argon2 hashes; roles come from storage.values.Role."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from storage import audit
from storage.database import Database, new_id
from storage.tables import Staff, utcnow
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
