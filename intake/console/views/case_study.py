"""A conversation as a case study for training: a preview with identifying details removed and
marked, for the adviser to check and edit, then a plain-text download of what they checked.

Why this shape: the policy allows case studies only "with identifying details removed", and
the person who knows the family best (the adviser) is the last check. The download holds only
the submitted text, checked again on the server: a name typed back in is removed and the
adviser is shown what changed before anything leaves. The preview, the download and every
refusal are audited with the conversation id and counts, never the text.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from aiohttp import web

from intake.console.access import Can, requires
from intake.console.auth import SIGNED_IN
from intake.console.case_study_text import CaseStudyText, counts, draft, recheck, said
from intake.console.pages import not_found, render, security_headers
from intake.services import SERVICES
from nlp.redact import DESCRIPTIONS
from storage.case_studies import CaseStudies, Reading

PATH = "/console/conversations/{id:[0-9a-f]{1,32}}/case-study"
MAX_TEXT = 200_000  # characters in the edited case study: refused above, never cut short
NOTHING = (
    "There is nothing to export: this conversation holds no message from the parent "
    "and no reply from an adviser."
)
EMPTY = "The case study is empty. Nothing was downloaded: the text box needs the case study"
CONFIRM = "Confirm that you have checked that nothing identifies the family"
_ORDER = ("NAME", "SCHOOL", "ADDRESS", "POSTCODE", "PHONE", "EMAIL", "DOB", "NHS")
_PLURALS = {"EMAIL": "email addresses", "ADDRESS": "street addresses", "DOB": "dates of birth"}


def register(router: web.UrlDispatcher) -> None:
    """The case-study export's routes: the preview (GET) and the download (POST)."""
    router.add_get(PATH, preview)
    router.add_post(PATH, download)


def _store(request: web.Request) -> CaseStudies:
    return CaseStudies(request.app[SERVICES].db)


def _in_words(found: Counter[str]) -> list[str]:
    """["2 names", "1 school"], in a steady order."""
    words = []
    for kind in _ORDER:
        if found.get(kind):
            text = DESCRIPTIONS[kind]
            words.append(
                f"{found[kind]} {text if found[kind] == 1 else _PLURALS.get(kind, text + 's')}"
            )
    return words


def _page(
    request: web.Request, conversation_id: str, study: CaseStudyText | None, **context: object
) -> web.Response:
    status = int(context.pop("status", 200))
    page = {
        "conversation_id": conversation_id,
        "study": study,
        "descriptions": DESCRIPTIONS,
        "removed": _in_words(study.placeholders()) if study else [],
        "text": study.text if study else "",
        **context,
    }
    return render(request, "case_study.html", page, status=status)


@requires(Can.WORK_CASES)
async def preview(request: web.Request) -> web.StreamResponse:
    conversation_id = request.match_info["id"]
    store = _store(request)
    try:
        async with store.reading(
            conversation_id, request[SIGNED_IN].staff.id, "case_study.preview"
        ) as reading:
            # off the event loop: a long conversation must not hold up calls in progress
            study = await asyncio.to_thread(draft, reading.source)
            reading.record(messages=len(study.sections), **counts(study.removed(), "removed"))
    except LookupError:
        return await not_found(request, "conversation")
    if not study.sections:
        return _page(request, conversation_id, None, nothing=NOTHING)
    return _page(request, conversation_id, study)


@requires(Can.WORK_CASES)
async def download(request: web.Request) -> web.StreamResponse:
    conversation_id = request.match_info["id"]
    form = await request.post()
    edited = str(form.get("text", ""))
    confirmed = form.get("checked") == "yes"
    try:
        async with _store(request).reading(
            conversation_id, request[SIGNED_IN].staff.id, "case_study.refused"
        ) as reading:
            outcome, study = await asyncio.to_thread(_decide, reading, edited, confirmed)
    except LookupError:
        return await not_found(request, "conversation")
    if outcome == "no_text":
        return _page(request, conversation_id, None, nothing=NOTHING, refused=True, status=400)
    if outcome == "empty_text":
        return _page(request, conversation_id, None, errors={"text": EMPTY}, status=400)
    if outcome == "too_long":
        too_long = (
            f"The case study is {len(edited):,} characters long; the most is {MAX_TEXT:,}. "
            "Nothing was downloaded: shorten it and try again."
        )
        errors = {"text": too_long}
        return _page(request, conversation_id, None, errors=errors, text=edited, status=400)
    if outcome == "removed_again":
        again = _in_words(study.removed())
        return _page(request, conversation_id, study, again=again, status=400)
    if outcome == "not_checked":
        return _page(request, conversation_id, study, errors={"checked": CONFIRM}, status=400)
    response = web.Response(
        text=study.text,
        content_type="text/plain",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="case-study.txt"'},
    )
    security_headers(response)
    return response


def _decide(reading: Reading, edited: str, confirmed: bool) -> tuple[str, CaseStudyText | None]:
    """What becomes of a submitted case study, recorded on the reading's audit entry: only a
    download is "case_study.export"; text changed by the check is shown again as a preview."""
    if not said(reading.source):
        reading.record(reason="no_text")
        return "no_text", None
    if not edited.strip():
        reading.record(reason="empty_text")
        return "empty_text", None
    if len(edited) > MAX_TEXT:
        reading.record(reason="too_long", characters=len(edited))
        return "too_long", None
    study = recheck(edited, reading.source)
    if study.removed():
        reading.record("case_study.preview", **counts(study.removed(), "removed_again"))
        return "removed_again", study
    if not confirmed:
        reading.record(reason="not_checked")
        return "not_checked", study
    placeholders = counts(study.placeholders(), "placeholders")
    reading.record("case_study.export", characters=len(study.text), **placeholders)
    return "export", study
