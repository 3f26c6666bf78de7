"""When the core writes to a parent (where the channel writes back, i.e. email): the one consent
request of a thread, within the limit of automatic replies per address; the acknowledgement of
a yes; "nothing was kept" after a no or an unanswered request; the notice a caller asked for.

Why apart from the Gateway: these are the rules about what is sent, and when; the words are the
channel's (a ReplyComposer), and each reply is queued in the turn it follows, never without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from intake.core.ports import REFERENCE, Purpose, ReplyComposer, TurnStore
from intake.core.types import Inbound
from intake.metrics import Metrics
from storage.values import Channel, Contact, HeldItem

REPLIES_PER_HOUR = 5  # automatic replies to one address


DECLINE_REPLY_TTL = timedelta(hours=1)


def once_key(inbound: Inbound) -> str:
    """What makes a message the same message again: the channel's id for it, else its thread."""
    return inbound.turn_id or inbound.thread_ref


class ParentReplies:
    def __init__(
        self,
        composers: Mapping[Channel, ReplyComposer] | None,
        metrics: Metrics,
        per_hour: int = REPLIES_PER_HOUR,
        decline_reply_ttl: timedelta = DECLINE_REPLY_TTL,
    ) -> None:
        self._composers = dict(composers or {})
        self._metrics = metrics
        self._per_hour = per_hour
        # A reply to a parent who said no (or never answered) is deleted after this long even
        # if it could not be sent: it must not keep their address for ever.
        self.decline_reply_ttl = decline_reply_ttl

    def add(self, channel: Channel, composer: ReplyComposer) -> None:
        self._composers[channel] = composer

    def writes_back(self, channel: Channel) -> bool:
        return channel in self._composers

    async def ask(
        self,
        turn: TurnStore,
        inbound: Inbound,
        held: HeldItem | None,
        contact: Contact | None,
        first: Mapping[str, str],
        expires: datetime,
    ) -> bool:
        """The one consent request of a thread, unless queued already or over the limit of
        automatic replies to that address; True once it is queued."""
        composer = self._composers.get(inbound.channel)
        if composer is None or contact is None or self._unverified(inbound):
            return False
        if held is not None and await turn.queued(REFERENCE[Purpose.CONSENT_REQUEST]):
            return True  # queued before the hold said so (a hold written by an older version)
        if not await turn.allow_auto_reply(contact, self._per_hour):
            self._metrics.count("intake_mail_replies_limited_total")
            return False
        payload = composer.compose(
            Purpose.CONSENT_REQUEST, inbound.thread_ref, first, None, expires
        )
        await turn.queue(contact.value, payload, REFERENCE[Purpose.CONSENT_REQUEST])
        return True

    async def answer(
        self,
        turn: TurnStore,
        purpose: Purpose,
        inbound: Inbound,
        held: HeldItem | None,
        contact: Contact | None,
    ) -> bool:
        """The reply to a parent's answer (acknowledged, or nothing kept); a declined thread's
        unsent consent request is dropped first."""
        composer = self._composers.get(inbound.channel)
        if composer is None or contact is None or held is None:
            return False
        if purpose is Purpose.DECLINED:
            await turn.discard(REFERENCE[Purpose.CONSENT_REQUEST])
        if self._unverified(inbound):
            return False
        notes = held.data.get("notes", {})
        payload = composer.compose(
            purpose, inbound.thread_ref, notes, inbound.notes, held.expires_at
        )
        keep_for = None if purpose is Purpose.ACKNOWLEDGED else self.decline_reply_ttl
        await turn.queue(contact.value, payload, REFERENCE[purpose], keep_for)
        return True

    async def nothing_held(
        self,
        turn: TurnStore,
        inbound: Inbound,
        contact: Contact | None,
        purpose: Purpose = Purpose.NOTHING_HELD,
    ) -> bool:
        """A bare yes or no to a thread that no longer exists (or, `purpose` WITHDRAWN, a
        consented parent's request to delete what we keep): one short reply, within the
        automatic-reply limit, kept no longer than a decline's."""
        composer = self._composers.get(inbound.channel)
        if composer is None or contact is None or self._unverified(inbound):
            return False
        if not await turn.once_an_hour(purpose, once_key(inbound)):
            return False  # the same message again (a redelivery)
        if not await turn.allow_auto_reply(contact, self._per_hour):
            self._metrics.count("intake_mail_replies_limited_total")
            return False
        payload = composer.compose(purpose, inbound.thread_ref, inbound.notes or {}, None, None)
        await turn.queue(contact.value, payload, REFERENCE[purpose], self.decline_reply_ttl)
        return True

    async def check_answer(
        self, turn: TurnStore, inbound: Inbound, held: HeldItem, contact: Contact | None
    ) -> bool:
        """A reply to our request that is neither a clear yes nor a clear no: one short
        "Did you mean yes?" per thread, so an unclear answer ("Tak", "ok then but…") is never
        left to expire unanswered. Within the automatic-reply limit."""
        composer = self._composers.get(inbound.channel)
        if composer is None or contact is None or self._unverified(inbound):
            return False
        if not await turn.allow_auto_reply(contact, self._per_hour):
            self._metrics.count("intake_mail_replies_limited_total")
            return False
        notes = held.data.get("notes", {})
        payload = composer.compose(
            Purpose.CHECK_ANSWER, inbound.thread_ref, notes, inbound.notes, held.expires_at
        )
        await turn.queue(contact.value, payload, REFERENCE[Purpose.CHECK_ANSWER])
        return True

    def _unverified(self, inbound: Inbound) -> bool:
        """A sender the channel could not verify is never written to (no backscatter)."""
        if inbound.unverified_sender:
            self._metrics.count("intake_mail_unverified_total", channel=str(inbound.channel))
            return True
        return False

    async def remind(self, turn: TurnStore, held: HeldItem) -> bool:
        """The one reminder before a hold expires, to a parent we asked."""
        composer = self._composers.get(held.channel)
        if composer is None or held.contact is None or not held.data.get("asked", False):
            return False
        notes = held.data.get("notes", {})
        payload = composer.compose(Purpose.REMINDER, held.thread_ref, notes, None, held.expires_at)
        await turn.queue(held.contact.value, payload, REFERENCE[Purpose.REMINDER])
        return True

    async def expired(self, turn: TurnStore, held: HeldItem) -> bool:
        """A hold nobody answered: its request is dropped, and where we asked, the parent is
        told that nothing was kept."""
        composer = self._composers.get(held.channel)
        if composer is None or held.contact is None or not held.thread_ref:
            return False
        await turn.discard(REFERENCE[Purpose.CONSENT_REQUEST])
        if not held.data.get("asked", False):
            return False  # never asked (over the reply limit): nothing to answer
        notes = held.data.get("notes", {})
        payload = composer.compose(Purpose.EXPIRED, held.thread_ref, notes, None, None)
        await turn.queue(
            held.contact.value, payload, REFERENCE[Purpose.EXPIRED], self.decline_reply_ttl
        )
        self._metrics.count("intake_mail_expired_total")
        return True

    async def notice(self, turn: TurnStore, thread_ref: str, address: str) -> bool:
        """ "Why we keep information about you", by email, for a caller who asked for it."""
        composer = self._composers.get(Channel.EMAIL)
        if composer is None:
            return False
        payload = composer.compose(Purpose.NOTICE, thread_ref, {}, None, None)
        await turn.queue(address, payload, REFERENCE[Purpose.NOTICE])
        return True
