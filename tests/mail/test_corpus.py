"""About 1,400 real-world messages (../shared/corpus/mail) through the parser and the server:
each is accepted and readable or refused with a clear code, the server stays up, machines get
no reply, and nothing from anyone who has not said yes becomes a record."""

from __future__ import annotations

import asyncio
import collections
import re
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from intake.mail.parsing import parse_message
from storage.tables import ConsentRecord, Conversation
from tests.mail.conftest import MailGateway, SmtpClient, corpus_dir, parent_mail

CORPUS = corpus_dir()
pytestmark = pytest.mark.skipif(
    CORPUS is None,
    reason="mail corpus not found (set INTAKE_MAIL_CORPUS, or put shared/ beside the repo)",
)
_RETURN_PATH = re.compile(rb"^Return-Path:\s*<([^>\s]*)>", re.IGNORECASE | re.MULTILINE)


def _messages() -> list[Path]:
    assert CORPUS is not None
    skip = ("LICENSE", "README", "COPYING", "NOTICE")
    return sorted(
        p for p in CORPUS.rglob("*") if p.is_file() and not p.name.upper().startswith(skip)
    )


def test_parser_reads_every_message():
    files = _messages()
    assert len(files) > 1000
    kinds: collections.Counter[str] = collections.Counter()
    started = time.perf_counter()
    for path in files:
        raw = path.read_bytes()
        parsed = parse_message(raw)  # never raises
        assert isinstance(parsed.text, str) and "\x00" not in parsed.text
        assert "\n" not in parsed.subject and "\r" not in parsed.subject
        parsed.readable()
        kinds[parsed.automated or "person"] += 1
    elapsed = time.perf_counter() - started
    print(f"\nparsed {len(files)} messages in {elapsed:.1f}s: {dict(kinds)}")


def test_bounces_and_auto_replies_are_recognised():
    assert CORPUS is not None
    bounces = [p for p in _messages() if p.parent.name in ("bsd", "err")]
    bounces += list((CORPUS / "flufl-bounce").glob("*"))
    seen = [parse_message(p.read_bytes(), _envelope_sender(p.read_bytes())) for p in bounces]
    machine = sum(1 for m in seen if m.automated)
    assert machine / len(seen) > 0.97, f"{len(seen) - machine} of {len(seen)} not recognised"
    for path in (CORPUS / "sisimai" / "not").glob("is-not-bounce-*"):
        assert parse_message(path.read_bytes()).automated != "bounce", path.name


def _envelope_sender(raw: bytes) -> str | None:
    match = _RETURN_PATH.search(raw[:20_000])
    return None if match is None else match.group(1).decode("ascii", "replace")


async def test_every_message_over_smtp_is_accepted_or_cleanly_refused(mail_gateway: MailGateway):
    gw = mail_gateway
    files = _messages()
    limit = gw.services.settings.mail_max_bytes
    codes: collections.Counter[int] = collections.Counter()
    outcomes: collections.Counter[str] = collections.Counter()
    held_senders: set[str] = set()

    async def session(chunk: list[Path]) -> None:
        client = await SmtpClient(gw.smtp.port).__aenter__()
        try:
            for path in chunk:
                raw = path.read_bytes()
                sender = _envelope_sender(raw)
                if sender is None or not sender.isascii():
                    mail_from = "corpus@example.org"
                else:
                    mail_from = sender
                code, text = await client.send(raw, mail_from=mail_from)
                if not client.smtp.is_connected:
                    client = await SmtpClient(gw.smtp.port).__aenter__()
                codes[code] += 1
                assert code in (250, 552), f"{path.name}: {code} {text}"
                if code == 552:
                    assert len(raw) > limit * 0.9, path.name
                outcome = re.search(r"\((\w+)\)", text)
                outcomes[outcome.group(1) if outcome else "?"] += 1
                if outcome and outcome.group(1) == "held":
                    parsed = parse_message(raw, mail_from)
                    assert parsed.sender is not None and not parsed.automated
                    held_senders.add(parsed.sender.value)
        finally:
            await client.__aexit__(None, None, None)

    started = time.perf_counter()
    await asyncio.gather(*(session(files[n::4]) for n in range(4)))
    elapsed = time.perf_counter() - started
    print(f"\n{len(files)} messages over SMTP in {elapsed:.1f}s: {dict(codes)} {dict(outcomes)}")

    # The server is still up and still works for a parent.
    assert (await gw.send(parent_mail("Still there?", sender="last@example.org")))[0] == 250
    await gw.outbox_drained(seconds=60)
    # Replies went only to people whose mail was held: never to a bounce, auto-reply or list.
    recipients = {rcpts[0] for rcpts, _ in gw.relay.messages}
    assert recipients <= held_senders | {"last@example.org"}
    for _, msg in gw.relay.messages:
        assert msg["Auto-Submitted"] == "auto-replied"
    # Nobody said yes, so nothing became a record.
    async with gw.services.db.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Conversation)) == 0
        assert await s.scalar(select(func.count()).select_from(ConsentRecord)) == 0
