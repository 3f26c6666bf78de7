"""A conversation exported as a case study for training, through real HTTP as a browser
without JavaScript: the preview with what was removed marked, the edited text checked again,
the download holding only the checked text, and the audit of each step with counts only."""

from __future__ import annotations

import html
import json

from sqlalchemy import select

from storage.tables import AuditEntry
from tests.console.conftest import ORIGIN, Console, StaffBrowser

ADVISER = "ann@council.example"
SUBJECT = "Theo and his EHCP"
STORY = (
    "Hello,\n\nMy son Theo, who is 7, has autism and dyslexia. He goes to Larkrise Primary and "
    "was excluded twice this term. He needs speech and language therapy but the EHCP does not "
    "say so. His date of birth is 03/04/2018. We live at 14 Acacia Avenue, Basingstoke "
    "RG21 7QS. Please call me on 07700 900123 or write to kerry.jones@example.org.\n\n"
    "Thanks,\nKerry"
)
SECRETS = ("Theo", "Larkrise", "03/04/2018", "Acacia", "RG21", "900123", "kerry", "Jo Parent")
NEEDS = ("autism", "dyslexia", "excluded twice", "speech and language therapy", "EHCP")


def _textarea(page_html: str) -> str:
    """What the "Case study text" box holds, as the browser would send it."""
    inside = page_html.split('name="text"', 1)[1].split(">", 1)[1].split("</textarea>")[0]
    return html.unescape(inside)


def _path(conversation_id: str) -> str:
    return f"/console/conversations/{conversation_id}/case-study"


async def _adviser(console: Console) -> StaffBrowser:
    await console.add_staff("adviser", ADVISER, "Ann Adviser")
    return await console.browser(ADVISER)


async def _download(browser: StaffBrowser, path: str, form: dict[str, str]):  # noqa: ANN202
    """Press Download: the form as the page sends it. (status, headers, body)."""
    data = {"csrf": browser.last.csrf, **form}
    async with browser.session.post(
        browser.gateway.url + path, data=data, headers={"Origin": ORIGIN}
    ) as response:
        return response.status, response.headers, await response.text()


async def _audit(console: Console, prefix: str = "case_study.") -> list[AuditEntry]:
    async with console.services.db.sessions() as session:
        rows = await session.scalars(
            select(AuditEntry).where(AuditEntry.action.like(f"{prefix}%")).order_by(AuditEntry.id)
        )
        return list(rows)


async def test_the_export_holds_what_was_said_about_the_child_and_nothing_that_identifies(
    console: Console,
):
    conversation_id = await console.consented_email(STORY, subject=SUBJECT)
    browser = await _adviser(console)
    page = await browser.get(f"/console/conversations/{conversation_id}")
    assert f'href="{_path(conversation_id)}">Case study export</a>' in page.text
    await browser.post(
        f"/console/conversations/{conversation_id}/note", {"note": "Spoke to Theo's gran Pat."}
    )

    preview = await browser.get(_path(conversation_id))
    assert preview.status == 200 and "Case study export" in preview.words
    for secret in SECRETS:
        assert secret.lower() not in preview.text.lower(), secret
    for need in NEEDS:
        assert need in preview.words, need
    assert "removed: name" in preview.words and "removed: school" in preview.words
    assert "removed: phone number" in preview.words and "removed: email address" in preview.words
    assert "Removed and marked below:" in preview.words and "1 school" in preview.words
    assert preview.text.count("<mark") >= 7
    assert "gran Pat" not in preview.text  # an internal note is never part of it
    assert "Case study text" in preview.words and "I have checked that nothing" in preview.words

    text = _textarea(preview.text)
    status, headers, body = await _download(
        browser, _path(conversation_id), {"text": text, "checked": "yes"}
    )
    assert status == 200, body[:500]
    assert headers["Content-Type"].startswith("text/plain")
    assert headers["Content-Disposition"] == 'attachment; filename="case-study.txt"'
    for secret in (*SECRETS, "Pat"):
        assert secret.lower() not in body.lower(), secret
    for need in NEEDS:
        assert need in body, need
    assert "[NAME], who is 7" in body and "[SCHOOL]" in body and "[PHONE]" in body

    [seen, exported] = await _audit(console)
    assert (seen.action, exported.action) == ("case_study.preview", "case_study.export")
    assert seen.subject_id == exported.subject_id == conversation_id
    assert seen.detail["messages"] == 1 and seen.detail["removed_school"] == 1
    assert exported.detail["characters"] == len(body.replace("\r\n", "\n"))
    held = json.dumps([seen.detail, exported.detail]).lower()
    for secret in (*SECRETS, "autism"):
        assert secret.lower() not in held, secret


async def test_a_name_typed_back_in_is_removed_again_and_shown_before_any_download(
    console: Console,
):
    conversation_id = await console.consented_email(STORY, subject=SUBJECT)
    browser = await _adviser(console)
    await browser.get(_path(conversation_id))
    text = _textarea(browser.last.text)
    edited = text.replace("[NAME], who is 7", "Theo, who is 7") + "\nTheo now attends Larkrise."

    status, headers, body = await _download(
        browser, _path(conversation_id), {"text": edited, "checked": "yes"}
    )
    assert status == 400 and "Content-Disposition" not in headers
    assert "Check the text again" in body and "Nothing was downloaded" in body
    assert "We removed 2 names, 1 school from the text you sent" in body
    assert "removed again: name" in body
    assert "Theo" not in body and "Larkrise" not in body

    browser.last = type(browser.last)(status, "", body)  # the page the adviser now sees
    again = _textarea(body)
    status, headers, download = await _download(
        browser, _path(conversation_id), {"text": again, "checked": "yes"}
    )
    assert status == 200 and "attachment" in headers["Content-Disposition"]
    assert "Theo" not in download and "[NAME] now attends [SCHOOL]." in download
    actions = [e.action for e in await _audit(console)]
    assert actions == ["case_study.preview", "case_study.preview", "case_study.export"]


async def test_the_download_waits_for_the_check_box_and_keeps_the_edits(console: Console):
    conversation_id = await console.consented_email(STORY, subject=SUBJECT)
    browser = await _adviser(console)
    await browser.get(_path(conversation_id))
    edited = "From the parent:\nA boy of 7 with autism was excluded twice."
    page = await browser.post(_path(conversation_id), {"text": edited})
    assert page.status == 400
    assert "Confirm that you have checked that nothing identifies the family" in page.words
    assert "A boy of 7 with autism was excluded twice." in page.words  # the edit is kept
    empty = await browser.post(_path(conversation_id), {"text": "  ", "checked": "yes"})
    assert empty.status == 400 and "The case study is empty" in empty.words
    refused = [(e.action, e.detail["reason"]) for e in await _audit(console, "case_study.ref")]
    assert refused == [("case_study.refused", "not_checked"), ("case_study.refused", "empty_text")]


async def test_a_conversation_with_no_text_says_so_and_nothing_is_downloaded(console: Console):
    from intake.core.types import Inbound, Turn
    from storage.values import Channel, Contact

    gateway = console.services.gateway
    caller = Contact.phone("07911 222333")
    for turn, extra in ((Turn.START, {}), (Turn.ANSWER, {"digits": "1"})):
        await gateway.handle(Inbound(Channel.VOICE, "CAsilent", turn, contact=caller, **extra))
    [item] = await console.services.casework.queue()
    browser = await _adviser(console)
    page = await browser.get(_path(item.id))
    assert page.status == 200 and "There is nothing to export" in page.words
    assert "Download" not in page.words
    status, headers, body = await _download(
        browser, _path(item.id), {"text": "anything", "checked": "yes"}
    )
    assert status == 400 and "Content-Disposition" not in headers
    assert "There is nothing to export" in body and "Nothing was downloaded" in body
    [seen, refused] = await _audit(console)
    assert seen.action == "case_study.preview" and seen.detail["messages"] == 0
    assert refused.action == "case_study.refused" and refused.detail["reason"] == "no_text"
    assert (await browser.get(f"/console/conversations/{item.id}")).status == 200


async def test_a_guessed_conversation_is_a_plain_404(console: Console):
    browser = await _adviser(console)
    page = await browser.get(_path("0" * 32))
    assert page.status == 404 and "There is no conversation at this address" in page.words
    assert await _audit(console) == []


def test_the_text_holds_only_what_was_said_under_plain_headings():
    from intake.console.case_study_text import draft, recheck
    from storage.case_studies import CaseStudySource, Said

    source = CaseStudySource(
        "c" * 32,
        "email",
        (
            Said(
                "parent",
                "Subject: Amira's school\n\nShe has dyspraxia.\n\n"
                "[Attachment not kept: Amira_Khan_EHCP.pdf (application/pdf, 2048 bytes)]",
            ),
            Said("adviser", "Dear Samira, ask the school for a needs assessment."),
            Said("parent", "   "),
        ),
        ("Samira Khan", "Ann Adviser"),
    )
    study = draft(source)
    assert study.text == (
        "From the parent:\nSubject: [NAME]'s school\n\nShe has dyspraxia.\n\n"
        "Reply:\nDear [NAME], ask the school for a needs assessment.\n"
    )
    assert recheck(study.text, source).removed() == {}  # nothing more to find, unedited
    call = CaseStudySource("d" * 32, "voice", (Said("parent", "my son tyler is five"),), ())
    assert draft(call).text == "What the caller said:\nmy son [NAME] is five\n"
