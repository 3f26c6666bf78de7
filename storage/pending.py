"""The pending hold: a thread's state before the parent has answered the consent question.

Why: nothing identifying may reach the records until a yes, yet a caller's answer must be
remembered between webhooks and an email held until its sender replies. So the state lives here,
encrypted, with an expiry; a no, a hang-up or the expiry deletes it, and SQLite's freed pages and
WAL are erased after, so nothing remains on disk.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.database import Database, Tx, new_id
from storage.held import write
from storage.keys import LookupKeys
from storage.tables import PendingItem
from storage.tallies import Tallies
from storage.values import Channel, Contact, HeldItem, utcnow

PAYLOAD = "pending_items.payload"
DECLINED = "declined"
ASKING = "asking_consent"  # the state a hold waits for its answer in (intake.core.states)
_TABLE = PendingItem.__table__
# built once, the values or key coming with each execution (the hot path of every turn)
_INSERT = insert(_TABLE)
# a thread's held item, by its keyed hash (`key`): also what a consent that opens it ends
DROP_HOLD = delete(_TABLE).where(_TABLE.c.thread_hash == bindparam("key"))
_UNREAD = object()  # `previous` not given: read the row first

BeforePurge = Callable[[AsyncSession, list[HeldItem]], Awaitable[None]]


class PendingHold:
    def __init__(self, db: Database, keys: LookupKeys, tallies: Tallies) -> None:
        self._db = db
        self._cipher = db.cipher
        self._keys = keys
        self._tallies = tallies

    async def hold(
        self,
        channel: Channel,
        thread_ref: str,
        *,
        state: str,
        ttl: timedelta,
        contact: Contact | None = None,
        texts: tuple[str, ...] | list[str] = (),
        data: dict | None = None,
        now: datetime | None = None,
        session: Tx | None = None,
        previous: HeldItem | None | object = _UNREAD,
    ) -> HeldItem:
        """Keep (or replace) a thread's pre-consent state, encrypted, until `now + ttl`.

        The old row is deleted rather than updated so its ciphertext is erased by secure_delete.
        An existing row keeps its original expiry: a held item never lives past its first TTL.
        Keys of `data` replace the old row's; other keys (a channel's notes) are kept. A caller
        that has just read the row passes it as `previous`, saving the read.
        """
        now = now or utcnow()
        key = self._keys.thread(channel, thread_ref)
        async with self._db.within(session) as s:
            if previous is _UNREAD:
                previous = await self.held(channel, thread_ref, session=s, expired_too=True)
            created, expires, merged = now, now + ttl, dict(data or {})
            if isinstance(previous, HeldItem):
                created = previous.created_at or now
                expires = min(previous.expires_at or expires, expires)
                merged = {**previous.data, **merged}
                await write(s, DROP_HOLD, {"key": key})
            item = HeldItem(
                id=new_id(),
                channel=channel,
                thread_ref=thread_ref,
                state=state,
                contact=contact,
                texts=tuple(texts),
                data=merged,
                created_at=created,
                expires_at=expires,
            )
            await write(s, _INSERT, self._row(item, key))
        return item

    async def held(
        self,
        channel: Channel,
        thread_ref: str,
        now: datetime | None = None,
        *,
        session: Tx | None = None,
        expired_too: bool = False,
    ) -> HeldItem | None:
        key = self._keys.thread(channel, thread_ref)
        query = select(_TABLE).where(_TABLE.c.thread_hash == key)
        if session is not None:
            row = (await session.execute(query)).first()
        else:
            async with self._db.sessions() as s:
                row = (await s.execute(query)).first()
        if row is None or (not expired_too and row.expires_at <= (now or utcnow())):
            return None
        return self.view(row, thread_ref)

    async def ciphertext(self, channel: Channel, thread_ref: str) -> bytes | None:
        """The stored bytes of a held item: for tests and audits that prove a purge erased them."""
        key = self._keys.thread(channel, thread_ref)
        async with self._db.sessions() as session:
            return await session.scalar(
                select(_TABLE.c.payload_enc).where(_TABLE.c.thread_hash == key)
            )

    async def purge(
        self,
        channel: Channel,
        thread_ref: str,
        outcome: str | None = None,
        *,
        wait: bool = True,
        session: Tx | None = None,
    ) -> bool:
        """Delete a thread's held item and count the outcome. Freed pages are erased after the
        commit: at once with wait=True, else soon (request paths); a caller's transaction
        (`session`) must call `erase_after_commit` itself."""
        key = self._keys.thread(channel, thread_ref)
        async with self._db.within(session) as s:
            result = await s.execute(DROP_HOLD, {"key": key})
            if outcome:
                await self._tallies.count(channel, outcome, session=s)
        if session is None:
            await self.erase_after_commit(wait)
        return bool(result.rowcount)

    async def release(
        self, channel: Channel, thread_ref: str, outcome: str | None, *, session: Tx
    ) -> None:
        """`purge` inside the caller's turn, which erases the freed pages after its commit and
        does not ask whether anything was held."""
        key = self._keys.thread(channel, thread_ref)
        await write(session, DROP_HOLD, {"key": key})
        if outcome:
            await self._tallies.count(channel, outcome, session=session)

    async def mark_declined(
        self,
        channel: Channel,
        thread_ref: str,
        ttl: timedelta,
        *,
        wait: bool = True,
        session: Tx | None = None,
    ) -> None:
        """The parent said no: erase everything held, keeping only a marker (no contact, no text)
        so the rest of the call is not recorded or asked again."""
        key = self._keys.thread(channel, thread_ref)
        now = utcnow()
        async with self._db.within(session) as s:
            await write(s, DROP_HOLD, {"key": key})
            await write(
                s,
                _INSERT,
                dict(
                    id=new_id(),
                    channel=str(channel),
                    thread_hash=key,
                    state=DECLINED,
                    contact_hash=None,
                    payload_enc=None,
                    created_at=now,
                    expires_at=now + ttl,
                ),
            )
            await self._tallies.count(channel, "declined", session=s)
        if session is None:
            await self.erase_after_commit(wait)

    async def purge_expired(
        self, now: datetime | None = None, before_purge: BeforePurge | None = None
    ) -> int:
        """Purge every held item past its TTL (a parent who never answered): tally no_answer.

        `before_purge` sees the expired items still waiting for an answer (decrypted, thread_ref
        unknown) inside the purge's transaction: a channel can queue its "nothing was kept"
        reply so that it is queued if and only if the hold is purged.
        """
        now = now or utcnow()
        async with self._db.transaction() as session:
            expired = list(
                (await session.execute(select(_TABLE).where(_TABLE.c.expires_at <= now))).all()
            )
            if not expired:
                return 0
            if before_purge is not None:
                waiting = [self.view(r, "") for r in expired if r.state != DECLINED]
                if waiting:
                    await before_purge(session, waiting)
            await session.execute(delete(_TABLE).where(_TABLE.c.id.in_([r.id for r in expired])))
            for row in expired:
                if row.state != DECLINED:
                    await self._tallies.count(row.channel, "no_answer", session=session)
        await self._db.erase_freed_pages()
        return len(expired)

    async def due_for_reminder(
        self, channel: Channel, expiring_before: datetime, now: datetime | None = None
    ) -> list[HeldItem]:
        """Holds of a channel still asking for an answer, asked and not yet reminded, that
        expire before `expiring_before`: for the one reminder before a hold expires. Only those
        are decrypted. The thread reference comes from the hold (never stored apart from it)."""
        now = now or utcnow()
        due_soon = select(_TABLE).where(
            _TABLE.c.state == ASKING,
            _TABLE.c.channel == str(channel),
            _TABLE.c.expires_at > now,
            _TABLE.c.expires_at <= expiring_before,
        )
        async with self._db.sessions() as session:
            rows = (await session.execute(due_soon)).all()
        items = (self.view(row, "") for row in rows)
        return [
            dataclasses.replace(item, thread_ref=str(item.data.get("thread", "")))
            for item in items
            if item.data.get("asked") and not item.data.get("reminded")
        ]

    async def erase_after_commit(self, wait: bool) -> None:
        if wait:
            await self._db.erase_freed_pages()
        else:
            self._db.erase_soon()

    def view(self, row: object, thread_ref: str) -> HeldItem:
        """A stored row (ORM or Core) as a HeldItem, decrypted."""
        sealed = row.payload_enc
        payload = json.loads(self._cipher.open(sealed, PAYLOAD, row.id)) if sealed else {}
        raw_contact = payload.get("contact")
        return HeldItem(
            id=row.id,
            channel=Channel(row.channel),
            thread_ref=thread_ref,
            state=row.state,
            contact=Contact(**raw_contact) if raw_contact else None,
            texts=tuple(payload.get("texts", ())),
            data=payload.get("data", {}),
            created_at=row.created_at,
            expires_at=row.expires_at,
        )

    def _row(self, item: HeldItem, key: str) -> dict:
        contact = item.contact
        payload = {
            "contact": None
            if contact is None
            else {"kind": contact.kind, "value": contact.value, "name": contact.name},
            "texts": list(item.texts),
            "data": item.data,
        }
        return {
            "id": item.id,
            "channel": str(item.channel),
            "thread_hash": key,
            "state": item.state,
            "contact_hash": None if contact is None else self._keys.contact(contact),
            "payload_enc": self._cipher.seal(json.dumps(payload), PAYLOAD, item.id),
            "created_at": item.created_at,
            "expires_at": item.expires_at,
        }
