"""Subject access: everything held about one phone number or address, decrypted, as plain data.

Why its own module: the policy gives parents the right to see all information held, and a
request must find it by keyed hash alone, across consent records, conversations and the hold.
Anything tied to a safeguarding concern (the concern, and the words of its thread) is listed as
withheld, without its content, until the safeguarding lead releases it: disclosing it could put
a child at risk, and the Data Protection Act 2018 exempts such data from subject access where
disclosure would not be in the child's best interests. Whoever runs a request is named in the
audit log, with what was given and what was withheld.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from storage import audit
from storage.callbacks import Callbacks
from storage.concerns import DECISION, EVIDENCE
from storage.conversations import ANSWER, Conversations, ConversationView
from storage.database import Database
from storage.keys import LookupKeys
from storage.pending import PendingHold
from storage.tables import Concern, ConsentRecord, Conversation, PendingItem
from storage.values import Contact, Role, concern_reference

WITHHELD = (
    "withheld under the safeguarding exemption (Data Protection Act 2018, Schedule 3, Part 5) "
    "pending the safeguarding lead's review"
)
MAY_RUN = frozenset({Role.ADMIN, Role.SAFEGUARDING_LEAD})


class AccessNotPermitted(PermissionError):
    """Subject access asked for by a role that does not handle requests."""


class SubjectAccess:
    def __init__(
        self,
        db: Database,
        keys: LookupKeys,
        conversations: Conversations,
        pending: PendingHold,
        callbacks: Callbacks,
    ) -> None:
        self._db = db
        self._keys = keys
        self._conversations = conversations
        self._pending = pending
        self._callbacks = callbacks

    async def export(self, contact: Contact, staff_id: str, role: Role) -> dict:
        """Everything held about `contact`, for a member of staff who handles requests."""
        if role not in MAY_RUN:
            raise AccessNotPermitted("subject access is run by an admin or the safeguarding lead")
        key = self._keys.contact(contact)
        async with self._db.transaction() as session:
            rows = list(
                await session.scalars(
                    select(Conversation)
                    .where(Conversation.contact_hash == key)
                    .order_by(Conversation.created_at)
                )
            )
            pending = list(
                await session.scalars(select(PendingItem).where(PendingItem.contact_hash == key))
            )
            threads = {r.thread_hash for r in rows} | {p.thread_hash for p in pending}
            concerns = list(
                await session.scalars(
                    select(Concern)
                    .where(
                        or_(
                            Concern.contact_hash == key,
                            Concern.conversation_id.in_([r.id for r in rows]),
                            Concern.thread_hash.in_(threads),
                        )
                    )
                    .order_by(Concern.raised_at)
                )
            )
            held_back = {c.thread_hash for c in concerns if c.released_at is None} | {
                c.conversation_id for c in concerns if c.released_at is None and c.conversation_id
            }
            withheld: list[dict] = [
                {
                    "item": "safeguarding_concern",
                    "ref": concern_reference(c.id),
                    "raised_at": c.raised_at.isoformat(),
                    "reason": WITHHELD,
                }
                for c in concerns
                if c.released_at is None
            ]
            conversations, consents = [], []
            for row in rows:
                consent = await session.get(ConsentRecord, row.consent_id)
                if consent is not None:
                    consents.append(self._consent_json(consent))
                view = await self._conversations.view_of(session, row)
                if row.id in held_back or row.thread_hash in held_back:
                    withheld.extend(_withheld_messages(view))
                    conversations.append(_conversation_json(view, messages=False))
                else:
                    conversations.append(_conversation_json(view))
            held = []
            for p in pending:
                item = {
                    "channel": p.channel,
                    "state": p.state,
                    "held_until": p.expires_at.isoformat(),
                }
                if p.thread_hash in held_back:
                    withheld.append(
                        {"item": "pending_hold", "channel": p.channel, "reason": WITHHELD}
                    )
                    item["texts"] = []
                else:
                    item["texts"] = list(self._pending.view(p, "").texts)
                held.append(item)
            released = [self._released(c) for c in concerns if c.released_at is not None]
            owed = []
            if contact.kind == "phone":
                owed = await self._callbacks.for_subject(contact, session=session)
            await audit.record(
                session,
                staff_id,
                "subject_access",
                "contact",
                key[:16],
                conversations=len(rows),
                withheld=len(withheld),
                released=len(released),
            )
        return {
            "contact": {"kind": contact.kind, "value": contact.value},
            "consent_records": consents,
            "conversations": conversations,
            "pending_hold": held,
            "callback_requests": owed,
            "safeguarding_concerns": released,
            "withheld": withheld,
        }

    def _consent_json(self, row: ConsentRecord) -> dict:
        return {
            "id": row.id,
            "channel": row.channel,
            "method": row.method,
            "answer_words": self._db.cipher.open_optional(row.answer_enc, ANSWER, row.id),
            "wording_version": row.wording_version,
            "wording_text": row.wording_text,
            "given_at": row.given_at.isoformat(),
            "withdrawn_at": row.withdrawn_at.isoformat() if row.withdrawn_at else None,
        }

    def _released(self, row: Concern) -> dict:
        """A concern the lead has released for this request: what was recorded, as recorded."""
        cipher = self._db.cipher
        return {
            "ref": concern_reference(row.id),
            "raised_at": row.raised_at.isoformat(),
            "channel": row.channel,
            "categories": list(row.categories or ()),
            "status": row.status,
            "evidence": cipher.open(row.evidence_enc, EVIDENCE, row.id),
            "decision": cipher.open_optional(row.decision_enc, DECISION, row.id),
            "released_at": row.released_at.isoformat(),
        }


def _withheld_messages(view: ConversationView) -> list[dict]:
    return [
        {
            "item": "message",
            "conversation_id": view.id,
            "direction": m.direction,
            "at": m.created_at.isoformat(),
            "reason": WITHHELD,
        }
        for m in view.messages
    ]


def _conversation_json(view: ConversationView, *, messages: bool = True) -> dict:
    return {
        "id": view.id,
        "channel": view.channel,
        "status": view.status,
        "consent_id": view.consent_id,
        "created_at": view.created_at.isoformat(),
        "contact": None
        if view.contact is None
        else {"kind": view.contact.kind, "value": view.contact.value, "name": view.contact.name},
        "messages": [
            {"direction": m.direction, "text": m.text, "at": m.created_at.isoformat()}
            for m in view.messages
        ]
        if messages
        else [],
    }
