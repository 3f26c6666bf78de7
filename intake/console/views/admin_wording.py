"""The service's wording under review, for the admin: every version, when each is due for its
yearly review, how many consent records were given under it, and a new version.

Why a new version and never an edit: each consent record names the version it was given under
and keeps its words, so a changed sentence must be a new version. The admin changes the texts a
parent is asked and told (the greeting, the consent questions, "Why we keep information about
you"); the other prompts come from the version it replaces. A review that changes nothing is a
new version with the same words and the next review date.
"""

from __future__ import annotations

from datetime import date

from aiohttp import web

from intake.console.access import Can, requires
from intake.console.auth import SIGNED_IN
from intake.console.pages import render
from intake.core.wording import next_version, placeholders
from intake.services import SERVICES
from storage.admin_settings import VersionTaken
from storage.values import utcnow

WORDING = "/console/admin/wording"
TEXT_MAX = 4000
EDITABLE = (  # (key, label, hint)
    ("greeting", "Greeting", "The first thing a caller hears."),
    ("consent_question_voice", "Consent question on the phone", "Said after the greeting."),
    ("consent_question_email", "Consent question by email", "First in our reply to an email."),
    ("consent_question_web", "Consent question on the consent page", "Above the two buttons."),
    ("notice_title", "Title of the notice", "Parents know the notice by this title."),
    ("notice", "The notice", "Sent by email, and shown on the consent page."),
)
FILLED = {  # what a placeholder becomes, for the message when one is left out
    "{retention}": "how long records are kept",
    "{hold_period}": "how long an unanswered email is held",
}
DONE = {"added": "The new version is added. New consent records are given under it."}


def register(router: web.UrlDispatcher) -> None:
    router.add_get(WORDING, wording_page)
    router.add_post(WORDING, add_version)


def _today(request: web.Request) -> date:
    return utcnow().astimezone(request.app[SERVICES].choices.hours.zone).date()


def _a_year_on(today: date) -> date:
    try:
        return today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year + 1, day=28)


@requires(Can.ADMINISTER)
async def wording_page(request: web.Request) -> web.StreamResponse:
    return await _page(request)


async def _page(request: web.Request, status: int = 200, **context: object) -> web.Response:
    choices = request.app[SERVICES].choices
    await choices.refresh()
    today = _today(request)
    counts = await choices.store.consents_by_version()
    versions = choices.versions()
    current = versions[-1].wording.version if versions else None
    rows = [
        {
            "row": row,
            "consents": counts.get(row.wording.version, 0),
            "current": row.wording.version == current,
            "overdue": row.wording.version == current and row.wording.review_overdue(today),
        }
        for row in reversed(versions)
    ]
    base = choices.base_wording()
    form = {key: base[key] for key, _label, _hint in EDITABLE}
    form["review_by"] = _a_year_on(today).isoformat()
    page = {
        "rows": rows,
        "editable": EDITABLE,
        "base": base.version,
        "form": form,
        "done": DONE.get(request.query.get("done", "")),
        **context,
    }
    return render(request, "admin_wording.html", page, status=status)


def version_errors(
    form: dict[str, str], base: dict[str, str], today: date
) -> tuple[dict[str, str], date | None]:
    """Every problem with a new version's fields, and the review date it read."""
    errors = {}
    for key, label, _hint in EDITABLE:
        text = form[key]
        if not text:
            errors[key] = f"Enter the {label[0].lower()}{label[1:]}"
        elif len(text) > TEXT_MAX:
            errors[key] = f"{label} must be {TEXT_MAX} characters or fewer"
        else:
            lost = sorted(placeholders(base[key]) - placeholders(text))
            if lost:
                what = ", ".join(f"{p} (it becomes {FILLED.get(p, 'a setting')})" for p in lost)
                errors[key] = f"{label} must keep {what}"
    review_by = None
    raw = form["review_by"]
    try:
        review_by = date.fromisoformat(raw) if raw else None
    except ValueError:
        errors["review_by"] = "Enter the review date as a date, like 2027-12-01"
    else:
        if review_by is None:
            errors["review_by"] = "Enter the date this version is due for review"
        elif review_by <= today:
            errors["review_by"] = "The review date must be in the future"
        elif review_by > _a_year_on(today):
            errors["review_by"] = (
                "The review date must be within a year: the policy is reviewed every year"
            )
    return errors, review_by


@requires(Can.ADMINISTER)
async def add_version(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    choices = services.choices
    await choices.refresh()
    posted = await request.post()
    keys = [key for key, _label, _hint in EDITABLE] + ["review_by"]
    form = {key: str(posted.get(key, "")).replace("\r\n", "\n").strip() for key in keys}
    base = choices.base_wording()
    today = _today(request)
    errors, review_by = version_errors(form, base.texts, today)
    if errors or review_by is None:
        return await _page(request, 400, errors=errors, form=form)
    texts = {**base.texts, **{key: form[key] for key, _label, _hint in EDITABLE}}
    name = next_version([row.wording.version for row in choices.versions()], today)
    try:
        await choices.store.add_wording(
            name, texts, review_by, base.version, request[SIGNED_IN].staff.id
        )
    except VersionTaken:
        message = "Another admin added a version just now: check the list, then try again"
        return await _page(request, 409, errors={"greeting": message}, form=form)
    await choices.refresh()
    raise web.HTTPSeeOther(f"{WORDING}?done=added")
