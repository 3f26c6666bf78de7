"""Backscatter, tried as an attacker would: a forged From: must not make the service mail
anyone, let alone with the forger's words. Our replies carry a fixed subject; with
INTAKE_MAIL_AUTHSERV_ID set, our upstream's verdict (its Authentication-Results, and only its)
stops every automatic reply to a sender it found forged, while the message is still assessed
for risk and held; a flood of senders meets a ceiling per minute."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.values import Contact
from tests.conftest import DPO
from tests.mail.conftest import (
    MailGateway,
    Relay,
    mail_settings,
    parent_mail,
    running_gateway,
)

AUTHSERV = "mx.council.example"
FORGED = (
    f"{AUTHSERV}; spf=fail smtp.mailfrom=example.org; dkim=none; dmarc=fail header.from=example.org"
)
GENUINE = f"{AUTHSERV}; spf=pass smtp.mailfrom=example.org; dkim=pass header.d=example.org"
SPAM_SUBJECT = "Cheap pills at evil.example"


@pytest.fixture
async def checked_gateway(
    tmp_path: Path, relay: Relay, risk_detector: object
) -> AsyncIterator[MailGateway]:
    settings = mail_settings(tmp_path / "var", relay.port, INTAKE_MAIL_AUTHSERV_ID=AUTHSERV)
    async with running_gateway(settings, relay, risk_detector) as gateway:
        yield gateway


def with_results(text: str, *results: str, subject: str = "Help with my son's EHCP") -> bytes:
    """The message as our upstream hands it on: its Authentication-Results on top."""
    top = "".join(f"Authentication-Results: {r}\r\n" for r in results)
    return top.encode() + parent_mail(text, subject=subject).as_bytes()


async def _quiet(gw: MailGateway) -> None:
    await gw.outbox_drained()
    await asyncio.sleep(0.2)


async def test_our_replies_never_echo_the_senders_subject(mail_gateway: MailGateway):
    gw = mail_gateway
    assert (await gw.send(parent_mail("Please help", subject=SPAM_SUBJECT)))[0] == 250
    [request] = await gw.relay.wait_for(1)
    assert (
        str(request["Subject"])
        .strip()
        .startswith("Your message to the Parent Partnership Service [Ref: ")
    )
    assert "evil" not in request.as_string() and "pills" not in request.as_string()


async def test_a_sender_our_upstream_found_forged_gets_no_reply_but_is_still_assessed(
    checked_gateway: MailGateway,
):
    gw = checked_gateway
    code, _ = await gw.send(with_results("my partner hits my son", FORGED, subject=SPAM_SUBJECT))
    assert code == 250
    await _quiet(gw)
    assert gw.relay.messages == []  # nobody was mailed
    [concern] = await gw.services.concerns.list()  # the risk check still ran
    assert concern.channel == "email"
    sar = await gw.services.records.access.export(Contact.email("parent@example.org"), *DPO)
    assert len(sar["pending_hold"]) == 1  # held until it expires, like any unanswered message
    async with gw.session.get(gw.url + "/healthz") as response:
        assert (await response.json())["unverified_senders"] == 1
    async with gw.session.get(gw.url + "/metrics") as response:
        assert 'intake_mail_unverified_total{channel="email"} 1' in await response.text()


async def test_only_our_upstreams_verdict_counts(checked_gateway: MailGateway):
    gw = checked_gateway
    # The forger adds a passing header of our server's below the real one: ignored.
    raw = with_results("Can I get help with transport?", FORGED, GENUINE)
    assert (await gw.send(raw))[0] == 250
    await _quiet(gw)
    assert gw.relay.messages == []
    # Another server's verdict on top (not our upstream's): we cannot tell, so we answer.
    other = "mx.elsewhere.example; dmarc=fail header.from=example.org"
    raw = with_results("Can I get help with transport?", other)
    assert (await gw.send(raw, mail_from="parent@example.org"))[0] == 250
    assert len(await gw.relay.wait_for(1)) == 1


async def test_a_genuine_sender_is_answered(checked_gateway: MailGateway):
    gw = checked_gateway
    assert (await gw.send(with_results("Can I get help with transport?", GENUINE)))[0] == 250
    [request] = await gw.relay.wait_for(1)
    assert "[Ref: " in request["Subject"]


async def test_a_flood_of_senders_meets_the_ceiling_per_minute(sqlite_db):
    from storage.records import Records

    limit = Records(sqlite_db).reply_limit
    allowed = [
        await limit.allow(Contact.email(f"p{n}@example.org"), 5, per_minute=3) for n in range(5)
    ]
    assert allowed == [True, True, True, False, False]
