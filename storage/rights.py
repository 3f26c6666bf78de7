"""The policy's limits on staff, as records an adviser cannot get wrong: parental responsibility,
permissions to ask other organisations, what was asked under them, and links between enquiries.

Why these rules live here and not in the page: in-depth work (asking a school or the council's
SEN team about a child) is allowed only when the parent has said they hold parental
responsibility and has given permission for that organisation; a request without both is
refused by the store itself, whatever a form sends. Two parents of one child are two enquiries,
linked only for a reason the parent gave, and never merged. Each change is audited (ids only;
what was said is sealed, like any parent's words).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select, update

from storage import audit
from storage.casework_tables import (
    ConversationLink,
    InformationRequest,
    Permission,
    ResponsibilityRecord,
)
from storage.database import Database, new_id
from storage.outbox import Outbox
from storage.tables import Conversation, Staff
from storage.values import utcnow

ORGANISATION = "permissions.organisation"
PURPOSE = "permissions.purpose"
ASKED = "information_requests.asked"
EMAIL = "information_requests.email"
REASON = "conversation_links.reason"
MAX_FIELD = 2_000  # characters in an organisation, purpose, request or reason


class RightsError(ValueError):
    """A change the policy does not allow, or a field left empty; the message says why."""


@dataclass(frozen=True)
class Responsibility:
    held: bool
    recorded_by: str  # staff name
    recorded_at: datetime


@dataclass(frozen=True)
class PermissionView:
    id: str
    organisation: str
    purpose: str | None
    recorded_by: str
    recorded_at: datetime
    withdrawn_at: datetime | None


@dataclass(frozen=True)
class RequestView:
    id: str
    organisation: str
    asked: str
    email: str | None
    requested_by: str
    requested_at: datetime


@dataclass(frozen=True)
class LinkView:
    id: str
    other_id: str
    reason: str
    linked_by: str
    linked_at: datetime


@dataclass(frozen=True)
class Rights:
    """Everything recorded under the policy's rights on one conversation."""

    responsibility: Responsibility | None
    permissions: tuple[PermissionView, ...]
    requests: tuple[RequestView, ...]
    links: tuple[LinkView, ...]

    @property
    def in_depth_work(self) -> bool:
        """Meetings, requests to others: only once parental responsibility is recorded."""
        return self.responsibility is not None and self.responsibility.held

    def may_ask(self, permission_id: str) -> bool:
        return self.in_depth_work and any(
            p.id == permission_id and p.withdrawn_at is None for p in self.permissions
        )


def _text(value: str | None, what: str, *, required: bool = True) -> str | None:
    cleaned = " ".join((value or "").split())
    if not cleaned:
        if required:
            raise RightsError(f"Enter {what}")
        return None
    if len(cleaned) > MAX_FIELD:
        raise RightsError(f"{what[0].upper()}{what[1:]} must be {MAX_FIELD} characters or fewer")
    return cleaned


class CaseRights:
    def __init__(self, db: Database, outbox: Outbox) -> None:
        self._db = db
        self._cipher = db.cipher
        self._outbox = outbox

    async def of(self, conversation_id: str) -> Rights:
        mine = (ResponsibilityRecord, Permission, InformationRequest)
        async with self._db.sessions() as s:
            names = {r.id: r.name for r in (await s.execute(select(Staff.id, Staff.name))).all()}
            found = []
            for table in mine:
                order = getattr(table, "requested_at", None) or table.recorded_at
                query = select(table).where(table.conversation_id == conversation_id)
                found.append(list(await s.scalars(query.order_by(order))))
            said, perms, asked = found
            links = list(
                await s.scalars(
                    select(ConversationLink).where(
                        _either(conversation_id), ConversationLink.unlinked_at.is_(None)
                    )
                )
            )
        latest = said[-1] if said else None
        open_ = self._cipher.open
        permissions = tuple(
            PermissionView(
                p.id,
                open_(p.organisation_enc, ORGANISATION, p.id),
                self._cipher.open_optional(p.purpose_enc, PURPOSE, p.id),
                names.get(p.recorded_by, ""),
                p.recorded_at,
                p.withdrawn_at,
            )
            for p in perms
        )
        organisation = {p.id: p.organisation for p in permissions}
        return Rights(
            latest
            and Responsibility(latest.held, names.get(latest.recorded_by, ""), latest.recorded_at),
            permissions,
            tuple(
                RequestView(
                    r.id,
                    organisation.get(r.permission_id, ""),
                    open_(r.asked_enc, ASKED, r.id),
                    self._cipher.open_optional(r.email_enc, EMAIL, r.id),
                    names.get(r.requested_by, ""),
                    r.requested_at,
                )
                for r in asked
            ),
            tuple(
                LinkView(
                    link.id,
                    link.second_id if link.first_id == conversation_id else link.first_id,
                    open_(link.reason_enc, REASON, link.id),
                    names.get(link.linked_by, ""),
                    link.linked_at,
                )
                for link in links
            ),
        )

    async def record_responsibility(self, conversation_id: str, held: bool, staff_id: str) -> None:
        async with self._db.transaction() as s:
            await self._exists(s, conversation_id)
            s.add(
                ResponsibilityRecord(
                    id=new_id(),
                    conversation_id=conversation_id,
                    held=held,
                    recorded_by=staff_id,
                    recorded_at=utcnow(),
                )
            )
            await audit.record(
                s, staff_id, "responsibility.record", "conversation", conversation_id, held=held
            )

    async def record_permission(
        self, conversation_id: str, organisation: str, purpose: str | None, staff_id: str
    ) -> str:
        organisation = _text(organisation, "the organisation the parent has given permission for")
        purpose = _text(purpose, "the purpose", required=False)
        permission_id = new_id()
        async with self._db.transaction() as s:
            await self._exists(s, conversation_id)
            s.add(
                Permission(
                    id=permission_id,
                    conversation_id=conversation_id,
                    organisation_enc=self._cipher.seal(organisation, ORGANISATION, permission_id),
                    purpose_enc=self._cipher.seal_optional(purpose, PURPOSE, permission_id),
                    recorded_by=staff_id,
                    recorded_at=utcnow(),
                )
            )
            await audit.record(
                s, staff_id, "permission.record", "conversation", conversation_id,
                permission=permission_id,
            )  # fmt: skip
        return permission_id

    async def withdraw_permission(
        self, conversation_id: str, permission_id: str, staff_id: str
    ) -> None:
        async with self._db.transaction() as s:
            done = await s.execute(
                update(Permission)
                .where(
                    Permission.id == permission_id,
                    Permission.conversation_id == conversation_id,
                    Permission.withdrawn_at.is_(None),
                )
                .values(withdrawn_at=utcnow(), withdrawn_by=staff_id)
            )
            if not done.rowcount:
                raise RightsError("That permission is not recorded, or was withdrawn already")
            await audit.record(
                s, staff_id, "permission.withdraw", "conversation", conversation_id,
                permission=permission_id,
            )  # fmt: skip

    async def request_information(
        self,
        conversation_id: str,
        permission_id: str,
        asked: str,
        staff_id: str,
        email: tuple[str, dict] | None = None,
    ) -> str:
        """Record what was asked, of whom and when; with `email` (an address and the outbox
        payload the channel composed), it is sent too, committed with the record."""
        asked = _text(asked, "what you are asking for")
        if not (await self.of(conversation_id)).may_ask(permission_id):
            raise RightsError(
                "You can ask an organisation only when parental responsibility and the parent's"
                " permission for that organisation are recorded"
            )
        request_id = new_id()
        async with self._db.transaction() as s:
            outbox_id = None
            if email is not None:
                outbox_id = await self._outbox.enqueue("email", email[0], email[1], session=s)
            s.add(
                InformationRequest(
                    id=request_id,
                    conversation_id=conversation_id,
                    permission_id=permission_id,
                    asked_enc=self._cipher.seal(asked, ASKED, request_id),
                    email_enc=self._cipher.seal_optional(email and email[0], EMAIL, request_id),
                    outbox_id=outbox_id,
                    requested_by=staff_id,
                    requested_at=utcnow(),
                )
            )
            await audit.record(
                s, staff_id, "information.request", "conversation", conversation_id,
                permission=permission_id, emailed=email is not None,
            )  # fmt: skip
        return request_id

    async def link(self, conversation_id: str, other_id: str, reason: str, staff_id: str) -> str:
        """Join two enquiries for a reason the parent gave; nothing of either is merged."""
        reason = _text(reason, "the reason, as the parent gave it")
        if other_id == conversation_id:
            raise RightsError("Choose another enquiry: an enquiry cannot be linked to itself")
        link_id = new_id()
        async with self._db.transaction() as s:
            await self._exists(s, conversation_id)
            if await s.get(Conversation, other_id) is None:
                raise RightsError("There is no enquiry with that reference")
            existing = await s.scalar(
                select(ConversationLink.id).where(
                    ConversationLink.unlinked_at.is_(None),
                    or_(
                        (ConversationLink.first_id == conversation_id)
                        & (ConversationLink.second_id == other_id),
                        (ConversationLink.first_id == other_id)
                        & (ConversationLink.second_id == conversation_id),
                    ),
                )
            )
            if existing:
                raise RightsError("These two enquiries are linked already")
            s.add(
                ConversationLink(
                    id=link_id,
                    first_id=conversation_id,
                    second_id=other_id,
                    reason_enc=self._cipher.seal(reason, REASON, link_id),
                    linked_by=staff_id,
                    linked_at=utcnow(),
                )
            )
            await audit.record(
                s, staff_id, "conversation.link", "conversation", conversation_id, other=other_id
            )
        return link_id

    async def unlink(self, conversation_id: str, link_id: str, staff_id: str) -> None:
        async with self._db.transaction() as s:
            done = await s.execute(
                update(ConversationLink)
                .where(
                    ConversationLink.id == link_id,
                    _either(conversation_id),
                    ConversationLink.unlinked_at.is_(None),
                )
                .values(unlinked_at=utcnow(), unlinked_by=staff_id)
            )
            if not done.rowcount:
                raise RightsError("Those enquiries are not linked")
            await audit.record(
                s, staff_id, "conversation.unlink", "conversation", conversation_id, link=link_id
            )

    async def _exists(self, s: object, conversation_id: str) -> None:
        if await s.get(Conversation, conversation_id) is None:  # type: ignore[attr-defined]
            raise LookupError(conversation_id)


def _either(conversation_id: str):  # noqa: ANN202 - a SQL expression
    return or_(
        ConversationLink.first_id == conversation_id,
        ConversationLink.second_id == conversation_id,
    )
