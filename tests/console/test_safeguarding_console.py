"""The safeguarding lead in the console, and the limits on everyone else: a concern arrives on
the lead's queue, its evidence marked; "Acknowledge" stops escalation as the SMS ACK does; a
decision needs its reason; an adviser sees only that a concern exists; the maintainer sees no
parent's words anywhere; the admin's audit log shows who read what."""

from __future__ import annotations

import asyncio
import json
import re

from sqlalchemy import select

from storage.tables import AuditEntry
from storage.values import concern_reference
from tests.cli.helpers import intake
from tests.conftest import TEST_SECRET
from tests.console.conftest import Console

LEAD, ADVISER = "lee@council.example", "ann@council.example"
ADMIN, MAINTAINER = "ada@council.example", "max@council.example"
DISCLOSURE = "Since the summer my partner hits my son when Wendeline is at work."


async def _people(console: Console) -> None:
    for role, email, name in (
        ("safeguarding_lead", LEAD, "Lee Lead"),
        ("adviser", ADVISER, "Ann Adviser"),
        ("admin", ADMIN, "Ada Admin"),
        ("maintainer", MAINTAINER, "Max Maintainer"),
    ):
        await console.add_staff(role, email, name)
    await console.services.rota.set("primary", "Lee Lead", "07911 000111", LEAD)


async def _concern_id(console: Console) -> str:
    [summary] = await console.services.concerns.list()
    return summary.id


async def test_the_lead_reads_marks_and_acknowledges_a_concern(console: Console):
    await _people(console)
    conversation_id = await console.consented_email(DISCLOSURE, subject="Worried")
    concern_id = await _concern_id(console)
    ref = concern_reference(concern_id)
    lead = await console.browser(LEAD)

    queue = await lead.get("/console/")
    assert f"Concern {ref}" in queue.words and "Not yet acknowledged" in queue.words
    page = await lead.get(f"/console/concerns/{concern_id}")
    assert page.status == 200
    assert re.search(r"<mark[^>]*>hits my son</mark>", page.text)
    assert "Danger now" in page.words and "Open the parent's conversation" in page.words
    assert f'href="/console/conversations/{conversation_id}"' in page.text
    assert "parent@example.org" in page.words  # the contact kept for acting on it

    done = await lead.post(f"/console/concerns/{concern_id}/acknowledge")
    assert "Acknowledged. No more alerts" in done.words
    assert await console.services.alerter.escalate_due() == 0
    listed = await asyncio.to_thread(  # off this loop: the gateway under test runs on it
        intake,
        "concerns",
        "list",
        "--json",
        data_dir=console.gateway.data_dir,
        INTAKE_SECRET_KEY=TEST_SECRET,
    )
    [row] = json.loads(listed.stdout)
    assert row["ref"] == ref and row["status"] == "acknowledged"


async def test_a_decision_needs_its_reason_and_the_referral_its_reference(console: Console):
    await _people(console)
    await console.consented_email(DISCLOSURE, subject="Worried")
    concern_id = await _concern_id(console)
    lead = await console.browser(LEAD)
    await lead.get(f"/console/concerns/{concern_id}")
    path = f"/console/concerns/{concern_id}/decision"
    missing = await lead.post(path, {"decision": "referred", "reason": "Police involved"})
    assert missing.status == 400 and "Enter children's services' reference" in missing.words
    assert "Police involved" in missing.text  # what was typed is kept
    done = await lead.post(
        path, {"decision": "referred", "reason": "Police involved", "reference": "CS-2026-0042"}
    )
    assert "Your decision is recorded" in done.words
    assert "Referred to children's services" in done.words and "CS-2026-0042" in done.words
    [summary] = await console.services.concerns.list()
    assert summary.status == "decided"


async def test_an_adviser_sees_the_badge_but_never_the_concern(console: Console):
    await _people(console)
    conversation_id = await console.consented_email(DISCLOSURE, subject="Worried")
    concern_id = await _concern_id(console)
    adviser = await console.browser(ADVISER)
    queue = await adviser.get("/console/")
    assert "Danger now" in queue.words and "Concern " not in queue.words
    refused = await adviser.get(f"/console/concerns/{concern_id}")
    assert refused.status == 403 and "hits my son" not in refused.text
    await adviser.get(f"/console/conversations/{conversation_id}")
    ack = await adviser.post(f"/console/concerns/{concern_id}/acknowledge")
    assert ack.status == 403
    [summary] = await console.services.concerns.list()
    assert summary.status == "open"
    async with console.services.db.sessions() as session:
        refusals = list(
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "access.refused"))
        )
    assert len(refusals) == 2


async def test_the_maintainer_keeps_it_running_and_reads_no_parents_words(console: Console):
    await _people(console)
    conversation_id = await console.consented_email(DISCLOSURE, subject="Wendeline's school")
    maintainer = await console.browser(MAINTAINER)
    assert (await maintainer.get(f"/console/conversations/{conversation_id}")).status == 403
    assert (await maintainer.get(f"/console/concerns/{await _concern_id(console)}")).status == 403
    seen, todo = set(), ["/console/"]
    while todo:  # every page the maintainer can reach by following links
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        page = await maintainer.get(path)
        for canary in ("Wendeline", "hits my son", "parent@example.org", "Jo Parent"):
            assert canary not in page.text, (path, canary)
        todo += [p for p in re.findall(r'href="(/console/[^"#?]*)"', page.text) if p not in seen]
    assert "/console/health" in seen
    health = await maintainer.get("/console/health")
    assert "Schema version" in health.words and "Gateway processes" in health.words


async def test_the_admins_audit_log_shows_the_lead_reading_the_concern(console: Console):
    await _people(console)
    await console.consented_email(DISCLOSURE, subject="Worried")
    concern_id = await _concern_id(console)
    lead = await console.browser(LEAD)
    await lead.get(f"/console/concerns/{concern_id}")
    admin = await console.browser(ADMIN)
    log = await admin.get("/console/audit?what=concern")
    ref = concern_reference(concern_id)
    row = next(r for r in log.text.split("<tr") if "concern: read" in r)
    assert "Lee Lead" in row and f"Concern {ref}" in row
    lead_log = await lead.get("/console/audit")
    assert "conversation: view" not in lead_log.words  # the lead sees concerns' entries only
