"""Staff accounts. Passwords are argon2 hashes; roles come from storage.values.Role."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from storage import audit
from storage.database import Database, new_id
from storage.tables import Staff, utcnow
from storage.values import Role, normalise_email

_hasher = PasswordHasher()


class StaffError(ValueError):
    """A staff change that cannot be made (duplicate email, unknown role...)."""


@dataclass(frozen=True)
class StaffView:
    id: str
    email: str
    name: str
    role: Role
    active: bool


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

    async def verify(self, email: str, password: str) -> StaffView | None:
        async with self._db.sessions() as session:
            row = await session.scalar(select(Staff).where(Staff.email == email.strip().lower()))
        if row is None or not row.active or not row.password_hash:
            _hasher.hash(password)  # same cost whether or not the account exists
            return None
        try:
            _hasher.verify(row.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return StaffView(row.id, row.email, row.name, Role(row.role), row.active)

    async def list(self) -> list[StaffView]:
        async with self._db.sessions() as session:
            rows = await session.scalars(select(Staff).order_by(Staff.email))
            return [StaffView(r.id, r.email, r.name, Role(r.role), r.active) for r in rows]
