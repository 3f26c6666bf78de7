"""Subject access: everything held about one phone number or address, decrypted, as plain data.

Why its own module: the policy gives parents the right to see all information held, and a
request must find it by keyed hash alone, across consent records, conversations and the hold.
Safeguarding concerns are left out here: whether to disclose one is the DPO's and the lead's
decision, since disclosing it could put a child at risk.
"""

from __future__ import annotations

from sqlalchemy import select

from storage import audit
from storage.conversations import Conversations, ConversationView
from storage.database import Database
from storage.keys import LookupKeys
from storage.pending import PendingHold
from storage.tables import ConsentRecord, Conversation, PendingItem
from storage.values import Contact


class SubjectAccess:
    def __init__(
        self,
        db: Database,
        keys: LookupKeys,
        conversations: Conversations,
        pending: PendingHold,
    ) -> None:
        self._db = db
        self._keys = keys
        self._conversations = conversations
        self._pending = pending

    async def export(self, contact: Contact, actor: str = "cli") -> dict:
        key = self._keys.contact(contact)
        async with self._db.transaction() as session:
            rows = list(
                await session.scalars(
                    select(Conversation)
                    .where(Conversation.contact_hash == key)
                    .order_by(Conversation.created_at)
                )
            )
            conversations, consents = [], []
            for row in rows:
                consent = await session.get(ConsentRecord, row.consent_id)
                if consent is not None:
                    consents.append(_consent_json(consent))
                view = await self._conversations.view_of(session, row)
                conversations.append(_conversation_json(view))
            pending = list(
                await session.scalars(select(PendingItem).where(PendingItem.contact_hash == key))
            )
            held = [
                {
                    "channel": p.channel,
                    "state": p.state,
                    "held_until": p.expires_at.isoformat(),
                    "texts": list(self._pending.view(p, "").texts),
                }
                for p in pending
            ]
            await audit.record(
                session, actor, "subject_access", "contact", key[:16], conversations=len(rows)
            )
        return {
            "contact": {"kind": contact.kind, "value": contact.value},
            "consent_records": consents,
            "conversations": conversations,
            "pending_hold": held,
        }


def _consent_json(row: ConsentRecord) -> dict:
    return {
        "id": row.id,
        "channel": row.channel,
        "method": row.method,
        "wording_version": row.wording_version,
        "wording_text": row.wording_text,
        "given_at": row.given_at.isoformat(),
        "withdrawn_at": row.withdrawn_at.isoformat() if row.withdrawn_at else None,
    }


def _conversation_json(view: ConversationView) -> dict:
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
        ],
    }
