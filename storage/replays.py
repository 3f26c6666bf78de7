"""The webhook replay record: Twilio retries a webhook it thinks failed, and a slow network can
deliver one twice, to any gateway process or after a restart. The first answer to a request is
kept here, so every repeat gets the same TwiML and changes nothing twice.

Why in the database and encrypted: several processes must agree, and an answer can repeat what
a caller said (a spoken email address read back). Rows go when the call ends or after a short
TTL, whichever is first.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from storage.database import Database, Tx
from storage.held import HeldWrites, write
from storage.keys import LookupKeys
from storage.tables import WebhookReplay
from storage.values import utcnow

BODY = "webhook_replays.body"
TTL = timedelta(minutes=15)
_TABLE = WebhookReplay.__table__
_ANSWER = select(_TABLE.c.body_enc, _TABLE.c.expires_at).where(
    _TABLE.c.request_hash == bindparam("key")
)
_FORGET = delete(_TABLE).where(_TABLE.c.call_hash == bindparam("call"))  # the key per execution


class WebhookReplays:
    def __init__(self, db: Database, keys: LookupKeys, ttl: timedelta = TTL) -> None:
        self._db = db
        self._cipher = db.cipher
        self._keys = keys
        self._ttl = ttl
        insert = sqlite_insert if db.is_sqlite else pg_insert
        # built once; the values come with each execution (the hot path of every webhook)
        self._keep = insert(_TABLE).on_conflict_do_nothing(index_elements=["request_hash"])

    def request_key(self, fingerprint: str) -> str:
        return self._keys.of("webhook", fingerprint)

    async def answer_for(self, request_key: str, *, session: Tx | None = None) -> str | None:
        """The answer already given to this request, if any (and not expired)."""
        if session is not None:
            row = (await session.execute(_ANSWER, {"key": request_key})).first()
        else:
            async with self._db.sessions() as own:
                row = (await own.execute(_ANSWER, {"key": request_key})).first()
        return None if row is None else self.open_answer(request_key, row.body_enc, row.expires_at)

    def open_answer(
        self, request_key: str, sealed: bytes | None, expires_at: datetime
    ) -> str | None:
        """A stored answer, decrypted; None when there is none or it has expired."""
        if sealed is None or expires_at <= utcnow():
            return None
        return self._cipher.open(sealed, BODY, request_key)

    async def keep(
        self, request_key: str, call_ref: str, body: str, *, session: Tx | None = None
    ) -> str:
        """Keep the answer to a request; returns the answer to give, which is the one kept
        first when another process answered the same request at the same moment."""
        now = utcnow()
        values = {
            "request_hash": request_key,
            "call_hash": self._keys.of("call", call_ref),
            "body_enc": self._cipher.seal(body, BODY, request_key),
            "created_at": now,
            "expires_at": now + self._ttl,
        }
        async with self._db.within(session) as s:
            # in a SQLite turn, the answer is the turn's last change: it goes with the commit
            keep = s.last if isinstance(s, HeldWrites) else s.execute
            if (await keep(self._keep, values)).rowcount:
                return body
            kept = await s.scalar(
                select(_TABLE.c.body_enc).where(_TABLE.c.request_hash == request_key)
            )
        return body if kept is None else self._cipher.open(kept, BODY, request_key)

    async def forget_call(self, call_ref: str, *, session: Tx | None = None) -> int:
        """The call has ended: its answers are no longer needed, nor kept."""
        async with self._db.within(session) as s:
            gone = await s.execute(_FORGET, self._forget(call_ref))
        return gone.rowcount

    async def forget_in_turn(self, call_ref: str, session: Tx) -> None:
        """`forget_call` inside the caller's turn, not asking how many went."""
        await write(session, _FORGET, self._forget(call_ref))

    def _forget(self, call_ref: str) -> dict[str, str]:
        return {"call": self._keys.of("call", call_ref)}

    async def purge_expired(self) -> int:
        async with self._db.transaction() as session:
            gone = await session.execute(delete(_TABLE).where(_TABLE.c.expires_at <= utcnow()))
        return gone.rowcount
