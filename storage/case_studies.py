"""What a case study for training is made from: the words said in one conversation, read for
the console's redacted export, and the audit entry of every preview, download and refusal.

Why its own module: the policy allows case studies "with identifying details removed", so the
export must start from what was said and nothing else - the parent's messages and the
advisers' replies, never internal notes, the service's automatic notices, the consent answer or
the contact details - and it must know the names the record holds (the parent's, the
advisers') so that redaction finds them even where no cue introduces them. Each read is
audited in the same transaction, with the conversation id and counts only: the audit log never
holds what was said.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy import select

from storage import audit
from storage.conversations import BODY, NAME
from storage.database import Database
from storage.tables import Conversation, Message, Staff

PARENT, ADVISER = "parent", "adviser"
ACTIONS = frozenset({"case_study.preview", "case_study.export", "case_study.refused"})


@dataclass(frozen=True)
class Said:
    """One message of the conversation: who said it (the parent or an adviser) and what."""

    by: str  # PARENT | ADVISER
    text: str


@dataclass(frozen=True)
class CaseStudySource:
    """Everything a case study may be made from, and the names redaction must look for."""

    conversation_id: str
    channel: str
    said: tuple[Said, ...]
    known_names: tuple[str, ...]  # the parent's name as given, the advisers who replied


@dataclass
class Reading:
    """One audited read of a conversation's words. The caller says, once it knows, which
    action the audit entry records and its counts (never any text)."""

    source: CaseStudySource
    action: str
    counts: dict[str, int | str | bool] = field(default_factory=dict)

    def record(self, action: str | None = None, **counts: int | str | bool) -> None:
        if action is not None:
            self.action = action
        self.counts.update(counts)


class CaseStudies:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._cipher = db.cipher

    @asynccontextmanager
    async def reading(
        self, conversation_id: str, staff_id: str, action: str
    ) -> AsyncIterator[Reading]:
        """Read what was said in a conversation; the audit entry (`action` unless the caller
        records another, with the counts it records) is written in the same transaction when
        the block ends. A conversation that does not exist raises LookupError."""
        async with self._db.transaction() as session:
            row = await session.get(Conversation, conversation_id)
            if row is None:
                raise LookupError(conversation_id)
            messages = (
                await session.execute(
                    select(Message, Staff.name)
                    .outerjoin(Staff, Staff.id == Message.author_staff_id)
                    .where(
                        Message.conversation_id == conversation_id,
                        Message.direction.in_(("in", "out")),
                    )
                    .order_by(Message.created_at, Message.id)
                )
            ).all()
            claimer = row.claimed_by and await session.get(Staff, row.claimed_by)
            said, names = [], []
            for message, author in messages:
                if message.direction == "out" and message.author_staff_id is None:
                    continue  # the service's own notices: not what anyone said
                text = self._cipher.open(message.body_enc, BODY, message.id)
                said.append(Said(PARENT if message.direction == "in" else ADVISER, text))
                if author:
                    names.append(author)
            parent = self._cipher.open_optional(row.name_enc, NAME, row.id)
            known = tuple(dict.fromkeys(n for n in (parent, *names, claimer and claimer.name) if n))
            source = CaseStudySource(row.id, row.channel, tuple(said), known)
            reading = Reading(source, action)
            yield reading
            if reading.action not in ACTIONS:
                raise ValueError(f"not a case-study action: {reading.action}")
            detail = _safe(reading.counts)
            await audit.record(
                session, staff_id, reading.action, "conversation", conversation_id, **detail
            )


def _safe(counts: Mapping[str, int | str | bool]) -> dict[str, int | str | bool]:
    """Only counts, flags and short fixed reasons go in the audit log: never a sentence."""
    out: dict[str, int | str | bool] = {}
    for key, value in counts.items():
        if isinstance(value, str) and (len(value) > 32 or not value.replace("_", "").isalnum()):
            raise ValueError(f"audit detail {key} must be a short reason, not text")
        out[key] = value
    return out
