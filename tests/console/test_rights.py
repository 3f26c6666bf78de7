"""The policy's rights in the console over real HTTP: parental responsibility, permissions and
requests, referrals, linked enquiries, subject access, erasure and withdrawal, each with the bad
input an adviser will one day send. Nothing the policy forbids can be done, whatever a form
says, and each refusal leaves a clear message and nothing changed."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from storage import audit
from storage.casework_tables import InformationRequest, Permission, Referral
from storage.tables import Conversation
from tests.conftest import files_containing
from tests.console.conftest import Console

ADVISER, LEAD = "ann@council.example", "lee@council.example"


async def _adviser(console: Console):  # noqa: ANN202
    await console.add_staff("adviser", ADVISER, "Ann Adviser")
    return await console.browser(ADVISER)


async def _lead(console: Console):  # noqa: ANN202
    await console.add_staff("safeguarding_lead", LEAD, "Lee Lead")
    return await console.browser(LEAD)


async def _count(console: Console, table: type) -> int:
    async with console.services.db.sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(table)))


async def _actions(console: Console) -> list[str]:
    async with console.services.db.sessions() as s:
        return [e.action for e in await audit.entries(s)]


async def test_request_information_is_offered_only_with_responsibility_and_permission(
    console: Console,
):
    conversation = await console.consented_email("We need help getting the EHCP reviewed.")
    browser = await _adviser(console)
    page = await browser.get(f"/console/conversations/{conversation}")
    assert "Save parental responsibility" in page.words and "Request information" not in page.words
    await browser.post(
        f"/console/conversations/{conversation}/permissions",
        {"organisation": "Oakfield School", "purpose": "the SEN support plan"},
    )
    page = await browser.get(f"/console/conversations/{conversation}")
    assert "Oakfield School" in page.words and "Request information" not in page.words
    [permission] = (await console.services.records.rights.of(conversation)).permissions
    refused = await browser.post(
        f"/console/conversations/{conversation}/permissions/{permission.id}/request",
        {"asked": "A copy of the support plan"},
    )
    assert refused.status == 403 and "only when parental responsibility" in refused.words
    assert await _count(console, InformationRequest) == 0

    saved = await browser.post(
        f"/console/conversations/{conversation}/responsibility", {"responsibility": "yes"}
    )
    assert "Parental responsibility is saved" in saved.words and "by Ann Adviser" in saved.words
    assert "Request information from Oakfield School" in saved.words
    form = await browser.get(
        f"/console/conversations/{conversation}/permissions/{permission.id}/request"
    )
    assert form.status == 200 and "What you are asking for" in form.words
    bad = await browser.post(
        form.url.split("127.0.0.1")[-1].split("/", 1)[-1]
        and f"/console/conversations/{conversation}/permissions/{permission.id}/request",
        {"asked": "A copy", "email": "not an address"},
    )
    assert bad.status == 400 and "like name@example.org" in bad.words
    done = await browser.post(
        f"/console/conversations/{conversation}/permissions/{permission.id}/request",
        {"asked": "A copy of the support plan", "email": "senco@oakfield.example"},
    )
    assert "The request is recorded" in done.words
    assert "asked Oakfield School (emailed to senco@oakfield.example)" in done.words
    await console.gateway.outbox_drained(seconds=20)
    sent = [m for _, m in console.gateway.relay.messages if m["To"] == "senco@oakfield.example"]
    assert sent and "permission to ask Oakfield School" in sent[0].get_content()

    # withdrawn: the offer goes, and a forged request is refused by the store
    await browser.post(
        f"/console/conversations/{conversation}/permissions/{permission.id}/withdraw"
    )
    page = await browser.get(f"/console/conversations/{conversation}")
    assert "Withdrawn" in page.words and "Request information" not in page.words
    again = await browser.post(
        f"/console/conversations/{conversation}/permissions/{permission.id}/request",
        {"asked": "Another copy"},
    )
    assert again.status == 403 and await _count(console, InformationRequest) == 1
    actions = await _actions(console)
    for action in ("permission.record", "responsibility.record", "information.request"):
        assert action in actions


async def test_a_permission_for_no_organisation_is_refused_with_a_message(console: Console):
    conversation = await console.consented_email("A question about transport.")
    browser = await _adviser(console)
    await browser.get(f"/console/conversations/{conversation}")
    page = await browser.post(
        f"/console/conversations/{conversation}/permissions", {"organisation": "   "}
    )
    assert page.status == 400 and "Enter the organisation" in page.words
    assert await _count(console, Permission) == 0


async def test_a_referral_without_permission_keeps_nothing_and_with_it_is_queued(
    console: Console,
):
    browser = await _adviser(console)
    queue = await browser.get("/console/")
    assert "New referral" in queue.words
    await browser.get("/console/referrals/new")
    form = {
        "referrer": "Mrs Okafor, SENCo at Hillside Primary",
        "contact": "07700 900456",
        "reason": "Mum would like help with an EHC needs assessment request",
        "how": "",
    }
    refused = await browser.post("/console/referrals", form)
    assert refused.status == 400 and "nothing has been saved" in refused.words
    assert await _count(console, Conversation) == 0
    await console.services.db.close()
    assert files_containing(console.gateway.data_dir, [b"Okafor", b"7700900456"]) == []


async def test_a_referral_with_permission_becomes_a_queued_conversation(console: Console):
    browser = await _adviser(console)
    await browser.get("/console/referrals/new")
    bad = await browser.post(
        "/console/referrals",
        {"referrer": "Health visitor", "contact": "12", "reason": "x", "permission": "yes"},
    )
    assert bad.status == 400 and "UK phone number" in bad.words
    assert "Enter how the parent gave permission" in bad.words
    saved = await browser.post(
        "/console/referrals",
        {
            "referrer": "Health visitor, Eastgate clinic",
            "contact": "parent.referred@example.org",
            "reason": "Speech and language delay, dad wants advice",
            "permission": "yes",
            "how": "Dad agreed at the two-year check",
        },
    )
    assert "The referral is saved" in saved.words and "Referral from Health visitor" in saved.words
    assert "Referred by Health visitor, Eastgate clinic" in saved.words
    queue = await browser.get("/console/")
    assert "Referral from Health visitor, Eastgate clinic" in queue.words
    assert await _count(console, Referral) == 1
    held = await console.services.records.access.export(
        __import__("storage.values", fromlist=["Contact"]).Contact.email(
            "parent.referred@example.org"
        ),
        "test",
        __import__("storage.values", fromlist=["Role"]).Role.SAFEGUARDING_LEAD,
    )
    [record] = held["consent_records"]
    assert (
        record["method"] == "referral"
        and record["answer_words"] == "Dad agreed at the two-year check"
    )


async def test_linking_needs_a_reason_and_is_reversible(console: Console):
    first = await console.consented_email("About Sam's school place.", sender="mum@example.org")
    await console.gateway.outbox_drained(seconds=20)
    second = await console.consented_email(
        "About our son Sam.", subject="Sam", sender="dad@example.org"
    )
    browser = await _adviser(console)
    page = await browser.get(f"/console/conversations/{first}/link")
    assert "Sam" in page.words
    refused = await browser.post(f"/console/conversations/{first}/link", {"other": second})
    assert refused.status == 400 and "Enter the reason" in refused.words
    itself = await browser.post(
        f"/console/conversations/{first}/link", {"other": first, "reason": "same child"}
    )
    assert itself.status == 400 and "cannot be linked to itself" in itself.words
    linked = await browser.post(
        f"/console/conversations/{first}/link",
        {"other": second, "reason": "Mum said Sam's dad emailed us too"},
    )
    assert "The enquiries are linked" in linked.words and "Mum said Sam's dad" in linked.words
    other = await browser.get(f"/console/conversations/{second}")
    assert "Linked enquiry" in other.words  # seen from both sides
    [link] = (await console.services.records.rights.of(first)).links
    await browser.post(f"/console/conversations/{first}/links/{link.id}/unlink")
    assert (await console.services.records.rights.of(second)).links == ()
    assert {"conversation.link", "conversation.unlink"} <= set(await _actions(console))


async def test_erasure_is_the_leads_keeps_the_concern_and_leaves_no_words(console: Console):
    words = "Ottoline's stepdad hits my son when he drinks"
    conversation = await console.consented_email(words, sender="ottoline.mum@example.org")
    adviser = await _adviser(console)
    page = await adviser.get(f"/console/conversations/{conversation}")
    assert "Erase this parent's records" not in page.words
    assert (await adviser.get(f"/console/conversations/{conversation}/erase")).status == 403
    lead = await _lead(console)
    confirm = await lead.get(f"/console/conversations/{conversation}/erase")
    assert "safeguarding concern raised from this parent's words is kept" in confirm.words
    assert "(1 still open)" in confirm.words
    no_reason = await lead.post(f"/console/conversations/{conversation}/erase", {"reason": ""})
    assert no_reason.status == 400 and "Enter the reason" in no_reason.words
    erased = await lead.post(
        f"/console/conversations/{conversation}/erase", {"reason": "Asked by phone, 2 Dec"}
    )
    assert "records are erased" in erased.words and "ottoline" not in erased.words.lower()
    [concern] = await console.services.concerns.list()
    assert concern.status == "open"  # kept, under local safeguarding procedures
    assert "Parent's records erased" in (await lead.get("/console/")).words  # the lead is told
    from storage.values import Contact, Role

    held = await console.services.records.access.export(
        Contact.email("ottoline.mum@example.org"), "test", Role.SAFEGUARDING_LEAD
    )
    assert held["conversations"] == [] and "Ottoline" not in json.dumps(held)
    assert "parent.erased" in await _actions(console)
    await console.services.db.close()
    assert files_containing(console.gateway.data_dir, [b"Ottoline", b"stepdad"]) == []


async def test_an_adviser_records_a_withdrawal_and_the_conversation_goes(console: Console):
    conversation = await console.consented_email("Help with an appeal.")
    adviser = await _adviser(console)
    page = await adviser.get(f"/console/conversations/{conversation}/withdraw")
    assert "no longer want us to keep a record" in page.words
    done = await adviser.post(
        f"/console/conversations/{conversation}/withdraw", {"reason": "Told me on the phone"}
    )
    assert "Consent is withdrawn" in done.words
    assert await _count(console, Conversation) == 0


async def test_subject_access_in_the_console_withholds_concern_items_until_released(
    console: Console,
):
    await console.consented_email(
        "My partner hits my son. Also the school will not assess him.", sender="jo@example.org"
    )
    adviser = await _adviser(console)
    assert (await adviser.get("/console/subject-access")).status == 403
    lead = await _lead(console)
    page = await lead.get("/console/subject-access")
    bad = await lead.post("/console/subject-access", {"contact": "not a contact"})
    assert bad.status == 400 and "like name@example.org" in bad.words
    found = await lead.post("/console/subject-access", {"contact": "jo@example.org"})
    assert "Held about jo@example.org" in found.words and "Withheld" in found.words
    assert "hits my son" not in found.words  # withheld pending the lead's review
    ref = (await console.services.concerns.list())[0].id[:8].upper()
    released = await lead.post(
        "/console/subject-access/release",
        {"contact": "jo@example.org", "ref": ref, "released": "1"},
    )
    assert "Released" in released.words and "hits my son" in released.words
    download = await lead.post("/console/subject-access/download", {"contact": "jo@example.org"})
    data = json.loads(download.text)
    assert data["contact"]["value"] == "jo@example.org" and data["safeguarding_concerns"]
    assert page.status == 200 and "subject_access" in await _actions(console)
