"""Referrals from others (a school, a health visitor): a parent's enquiry opened on their behalf.

Why the permission is structural: the policy lets us keep a parent's details only with their
consent. A referral is stored only with the referrer's word that the parent agreed, recorded as
the conversation's consent record (method `referral`: how permission was given, in its own
words), and who referred and why, sealed. Without it the store refuses, and nothing is written.
"""

from __future__ import annotations

from sqlalchemy import insert

from storage import audit
from storage.casework_tables import Referral
from storage.conversations import BODY, Conversations
from storage.database import Database, new_id
from storage.tables import Message
from storage.values import ConsentGiven, ConsentMethod, Contact, utcnow

REFERRER = "referrals.referrer"
REASON = "referrals.reason"


class Referrals:
    def __init__(self, db: Database, conversations: Conversations) -> None:
        self._db = db
        self._cipher = db.cipher
        self._conversations = conversations

    async def record(
        self,
        consent: ConsentGiven,
        *,
        contact: Contact,
        referrer: str,
        reason: str,
        staff_id: str,
    ) -> str:
        """Open the parent's conversation under the consent the referrer passed on."""
        if not isinstance(consent, ConsentGiven) or consent.method is not ConsentMethod.REFERRAL:
            raise PermissionError("a referral is kept only with the parent's permission")
        async with self._db.transaction() as s:
            conversation_id = await self._conversations.open(
                consent,
                contact=contact,
                details={"thread_ref": consent.thread_ref, "subject": f"Referral from {referrer}"},
                actor=staff_id,
                session=s,
            )
            now = utcnow()
            await s.execute(
                insert(Referral.__table__).values(
                    conversation_id=conversation_id,
                    referrer_enc=self._cipher.seal(referrer, REFERRER, conversation_id),
                    reason_enc=self._cipher.seal(reason, REASON, conversation_id),
                    recorded_by=staff_id,
                    recorded_at=now,
                )
            )
            note_id = new_id()
            text = f"Referred by {referrer}. Reason: {reason}"
            await s.execute(
                insert(Message.__table__).values(
                    id=note_id,
                    conversation_id=conversation_id,
                    direction="note",
                    body_enc=self._cipher.seal(text, BODY, note_id),
                    author_staff_id=staff_id,
                    created_at=now,
                )
            )
            await audit.record(s, staff_id, "referral.record", "conversation", conversation_id)
        return conversation_id
