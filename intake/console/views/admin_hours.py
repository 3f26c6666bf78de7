"""The office hours, for the admin: when callers are put through to an adviser, day by day.

Why here and not in the environment only: the hours change (a staff training afternoon, the
Christmas week), and the admin should not need an operator to change them. INTAKE_OFFICE_HOURS
is the default until the admin saves hours; bank holidays are always closed. Saved hours are in
force in this process at once, and in every other within seconds (intake.admin_choices).
"""

from __future__ import annotations

from datetime import date, time, timedelta

from aiohttp import web

from intake.console.access import Can, requires
from intake.console.auth import SIGNED_IN
from intake.console.pages import render
from intake.services import SERVICES
from intake.voice.hours import DAY_NAMES, DAYS
from storage.values import utcnow

HOURS = "/console/admin/hours"
DONE = {
    "saved": "The office hours are saved. Callers are put through to an adviser in these hours.",
    "reset": "The office hours are back to the service's default (INTAKE_OFFICE_HOURS).",
}


def register(router: web.UrlDispatcher) -> None:
    router.add_get(HOURS, hours_page)
    router.add_post(HOURS, save_hours)
    router.add_post(f"{HOURS}/reset", reset_hours)


def typed_time(raw: str) -> time:
    """A time as people type it: "09:00", "9:00", "9", "17.30". ValueError otherwise."""
    text = raw.strip().lower().replace(".", ":")
    if text.isdigit() and len(text) <= 2:
        text = f"{text}:00"
    hour, _, minute = text.partition(":")
    if not (hour.isdigit() and minute.isdigit() and len(hour) <= 2 and len(minute) == 2):
        raise ValueError(raw)
    return time(int(hour), int(minute))


def read_days(form: dict[str, str]) -> tuple[dict[int, tuple[time, time]], dict[str, str]]:
    """The open days' hours from the form, and every problem by field."""
    days: dict[int, tuple[time, time]] = {}
    errors: dict[str, str] = {}
    for day, (key, name) in enumerate(zip(DAYS, DAY_NAMES, strict=True)):
        opens, closes = form[f"{key}-opens"], form[f"{key}-closes"]
        if not opens and not closes:
            continue  # closed that day
        times = {}
        for field, raw, word in (
            (f"{key}-opens", opens, "opens"),
            (f"{key}-closes", closes, "closes"),
        ):
            if not raw:
                errors[field] = f"Enter the time {name} {word}, or leave both empty if closed"
                continue
            try:
                times[word] = typed_time(raw)
            except ValueError:
                errors[field] = f"Enter the time {name} {word} as hours and minutes, like 09:00"
        if len(times) == 2:
            if times["closes"] <= times["opens"]:
                errors[f"{key}-closes"] = f"{name} must close after it opens"
            else:
                days[day] = (times["opens"], times["closes"])
    if not days and not errors:
        errors["mon-opens"] = (
            "Enter the hours of at least one day: with none, no caller is ever put through "
            "to an adviser"
        )
    return days, errors


def _form_of(choices) -> dict[str, str]:  # noqa: ANN001
    """The hours in force, as the form shows them."""
    by_day = choices.hours.by_day()
    form = {}
    for day, key in enumerate(DAYS):
        first = by_day.get(day, ())[:1]
        form[f"{key}-opens"] = f"{first[0][0]:%H:%M}" if first else ""
        form[f"{key}-closes"] = f"{first[0][1]:%H:%M}" if first else ""
    return form


def _coming_holidays(holidays: frozenset[date], today: date, count: int = 4) -> list[date]:
    return sorted(d for d in holidays if today <= d <= today + timedelta(days=400))[:count]


@requires(Can.ADMINISTER)
async def hours_page(request: web.Request) -> web.StreamResponse:
    return await _page(request)


async def _page(request: web.Request, status: int = 200, **context: object) -> web.Response:
    choices = request.app[SERVICES].choices
    await choices.refresh()  # what every process uses now, not what this one last read
    today = utcnow().astimezone(choices.hours.zone).date()
    page = {
        "days": list(zip(DAYS, DAY_NAMES, strict=True)),
        "in_force": choices.hours.spoken(),
        "saved": choices.saved_hours,
        "default": choices.default_hours.spoken(),
        "holidays": _coming_holidays(choices.hours.holidays, today),
        "zone": choices.hours.zone.key,
        "form": _form_of(choices),
        "done": DONE.get(request.query.get("done", "")),
        **context,
    }
    return render(request, "admin_hours.html", page, status=status)


@requires(Can.ADMINISTER)
async def save_hours(request: web.Request) -> web.StreamResponse:
    posted = await request.post()
    fields = [f"{key}-{end}" for key in DAYS for end in ("opens", "closes")]
    form = {name: str(posted.get(name, "")).strip()[:20] for name in fields}
    days, errors = read_days(form)
    if errors:
        return await _page(request, 400, errors=errors, form=form)
    services = request.app[SERVICES]
    await services.choices.store.save_office_hours(days, request[SIGNED_IN].staff.id)
    await services.choices.refresh()
    raise web.HTTPSeeOther(f"{HOURS}?done=saved")


@requires(Can.ADMINISTER)
async def reset_hours(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    await services.choices.store.clear_office_hours(request[SIGNED_IN].staff.id)
    await services.choices.refresh()
    raise web.HTTPSeeOther(f"{HOURS}?done=reset")
