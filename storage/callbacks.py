"""Call-backs owed to callers who said no to a record: the number, and nothing else, kept only
for that call.

Why its own store: "either way, we will still help you" means a caller who keeps their
anonymity may still ask to be rung back. Their number is then kept under a consent of its own
(the question they said yes to, in their words), shown to advisers in the queue, and erased the
moment an adviser says the call was made, or after CALLBACK_KEEP if nobody could make it. Nothing
else about the call is written; the audit records only that a call-back was owed and made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from storage import audit
from storage.database import Database, Tx
from storage.keys import LookupKeys
from storage.tables import CallbackRequest
from storage.values import ConsentGiven, Contact, utcnow

PHONE = "callback_requests.phone"
ANSWER = "callback_requests.answer"
CALLBACK_KEEP = timedelta(days=7)  # a call nobody could make is not a reason to keep a number
_TABLE = CallbackRequest.__table__


@dataclass(frozen=True)
class OwedCallback:
    id: str
    phone: str
    requested_at: datetime


class Callbacks:
    def __init__(self, db: Database, keys: LookupKeys) -> None:
        self._db = db
        self._cipher = db.cipher
        self._keys = keys

    def _id(self, thread_ref: str) -> str:
        return self._keys.of("callback", thread_ref)[:32]

    async def keep(
        self, consent: ConsentGiven, phone: Contact, *, session: Tx | None = None
    ) -> str:
        """Keep the number for one call-back (once per call: a retried webhook adds nothing)."""
        if not isinstance(consent, ConsentGiven) or phone.kind != "phone":
            raise ValueError("a call-back needs its own consent and a phone number")
        row_id = self._id(consent.thread_ref)
        try:
            async with self._db.within(session) as s:
                if await s.get(CallbackRequest, row_id) is not None:
                    return row_id
                await s.execute(
                    _TABLE.insert().values(
                        id=row_id,
                        phone_enc=self._cipher.seal(phone.value, PHONE, row_id),
                        wording_version=consent.wording_version,
                        wording_text=consent.wording_text,
                        answer_enc=self._cipher.seal_optional(consent.answer_words, ANSWER, row_id),
                        method=str(consent.method),
                        phone_hash=self._keys.contact(phone),
                        requested_at=consent.given_at,
                    )
                )
                await audit.record(s, "gateway", "callback.owed", "callback", row_id)
        except IntegrityError:  # the same yes, at the same moment, in another process
            if session is not None:
                raise
        return row_id

    async def owed(self, viewer: str) -> list[OwedCallback]:
        """Every call-back still to make, oldest first; the numbers are shown to staff only,
        so the view is audited."""
        async with self._db.transaction() as s:
            rows = (await s.execute(select(_TABLE).order_by(_TABLE.c.requested_at))).all()
            if rows:
                await audit.record(s, viewer, "callbacks.view", count=len(rows))
        return [
            OwedCallback(r.id, self._cipher.open(r.phone_enc, PHONE, r.id), r.requested_at)
            for r in rows
        ]

    async def count(self) -> int:
        async with self._db.sessions() as s:
            return len((await s.execute(select(_TABLE.c.id))).all())

    async def made(self, callback_id: str, staff_id: str) -> bool:
        """The adviser made the call: the number goes now (and its freed pages with it)."""
        async with self._db.transaction() as s:
            gone = await s.execute(delete(_TABLE).where(_TABLE.c.id == callback_id))
            if not gone.rowcount:
                return False
            await audit.record(s, staff_id, "callback.made", "callback", callback_id)
        self._db.erase_soon()
        return True

    async def expire(self, now: datetime | None = None) -> int:
        """Numbers kept longer than CALLBACK_KEEP go, made or not."""
        cutoff = (now or utcnow()) - CALLBACK_KEEP
        async with self._db.transaction() as s:
            old = list(await s.scalars(select(_TABLE.c.id).where(_TABLE.c.requested_at < cutoff)))
            if not old:
                return 0
            await s.execute(delete(_TABLE).where(_TABLE.c.id.in_(old)))
            for callback_id in old:
                await audit.record(s, "purge", "callback.expired", "callback", callback_id)
        self._db.erase_soon()
        return len(old)

    async def for_subject(self, phone: Contact, *, session: Tx) -> list[dict]:
        """What a subject access request by phone finds here."""
        found = select(_TABLE).where(_TABLE.c.phone_hash == self._keys.contact(phone))
        return [
            {
                "id": r.id,
                "phone": self._cipher.open(r.phone_enc, PHONE, r.id),
                "requested_at": r.requested_at.isoformat(),
                "wording_version": r.wording_version,
                "wording_text": r.wording_text,
                "answer_words": self._cipher.open_optional(r.answer_enc, ANSWER, r.id),
            }
            for r in (await session.execute(found)).all()
        ]
