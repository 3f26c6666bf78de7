"""Staff accounts and the on-call rota, for the admin.

Why the checks here as well as in storage: the admin sees each problem next to its field, with
what they typed kept (never a password), and nothing is saved until every field is right. A
change that takes access away (disabling, a new password, a new role) ends that person's
sessions in the same transaction as the change and its audit entry (storage.staff).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from intake.console.access import Can, requires
from intake.console.auth import SIGNED_IN
from intake.console.pages import render
from intake.services import SERVICES
from storage.rota import NAME_MAX, RotaError, Shift, ShiftClash
from storage.staff import PASSWORD_MAX, PASSWORD_MIN, StaffError
from storage.values import SLOTS, Role, normalise_email, utcnow

STAFF = "/console/admin/staff"
MEMBER = STAFF + "/{id:[0-9a-f]{32}}"
ROTA = "/console/admin/rota"
SHIFT = ROTA + "/{id:[0-9a-f]{32}}"
ROLE_NAMES = {
    Role.ADVISER.value: "Adviser",
    Role.SAFEGUARDING_LEAD.value: "Safeguarding lead",
    Role.ADMIN.value: "Admin",
    Role.MAINTAINER.value: "Maintainer",
}
SLOT_NAMES = {"primary": "Primary", "deputy": "Deputy"}
EMAIL_MAX, PHONE_MAX = 254, 40
TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M")
DONE = {
    "added": "The account is added.",
    "role": "Their role is changed. They have been signed out and must sign in again.",
    "same": "Nothing changed: they already have that role.",
    "password": "Their password is reset and they have been signed out. Give them the new "
    "password in person or by phone, never by email.",
    "disabled": "The account is disabled. They have been signed out and cannot sign in.",
    "enabled": "The account is enabled. They can sign in again.",
    "shift_added": "The shift is added.",
    "shift_removed": "The shift is removed.",
    "shift_ended": "The shift has ended now.",
}
WORDS = {  # what the console says for storage's refusals, field by field
    "phone": "Enter a phone number, like 07700 900123 or +44 7700 900123",
    "email": "Enter an email address in the right format, like name@example.org",
}


def register(router: web.UrlDispatcher) -> None:
    """The admin's routes."""
    router.add_get(STAFF, staff_page)
    router.add_post(STAFF, add_member)
    router.add_get(MEMBER, member_page)
    router.add_post(f"{MEMBER}/role", change_role)
    router.add_post(f"{MEMBER}/password", reset_password)
    router.add_post(f"{MEMBER}/disable", disable)
    router.add_post(f"{MEMBER}/enable", enable)
    router.add_get(ROTA, rota_page)
    router.add_post(ROTA, add_shift)
    router.add_post(f"{SHIFT}/remove", remove_shift)


def _me(request: web.Request) -> str:
    return request[SIGNED_IN].staff.id


def _not_found(request: web.Request, what: str) -> web.Response:
    context = {"heading": "Page not found", "text": f"There is no {what} at this address."}
    return render(request, "refused.html", context, status=404)


# -- staff accounts ----------------------------------------------------------------------------
@requires(Can.ADMINISTER)
async def staff_page(request: web.Request) -> web.StreamResponse:
    return await _staff_list(request)


async def _staff_list(request: web.Request, status: int = 200, **context: object) -> web.Response:
    accounts = await request.app[SERVICES].staff.accounts()
    page = {"accounts": accounts, "roles": ROLE_NAMES, "form": {}, **context}
    return render(request, "admin_staff.html", page, status=status)


def _member_errors(form: dict[str, str], emails: set[str]) -> dict[str, str]:
    """Every problem with the new account's fields, in the order the form asks for them."""
    errors = {}
    if not form["name"]:
        errors["name"] = "Enter their name"
    elif len(form["name"]) > NAME_MAX:
        errors["name"] = f"Name must be {NAME_MAX} characters or fewer"
    if not form["email"]:
        errors["email"] = "Enter their email address"
    elif len(form["email"]) > EMAIL_MAX:
        errors["email"] = f"Email address must be {EMAIL_MAX} characters or fewer"
    else:
        try:
            if normalise_email(form["email"]) in emails:
                errors["email"] = "There is already an account for this email address"
        except ValueError:
            errors["email"] = WORDS["email"]
    if form["role"] not in ROLE_NAMES:
        errors["role"] = "Choose their role"
    password_error = _password_error(form["password"], optional=True)
    if password_error:
        errors["password"] = password_error
    return errors


def _password_error(password: str, *, optional: bool = False) -> str | None:
    if not password:
        return None if optional else "Enter a new password"
    if len(password) < PASSWORD_MIN:
        return f"Password must be at least {PASSWORD_MIN} characters"
    if len(password) > PASSWORD_MAX:
        return f"Password must be {PASSWORD_MAX} characters or fewer"
    return None


@requires(Can.ADMINISTER)
async def add_member(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    posted = await request.post()
    form = {k: str(posted.get(k, "")).strip() for k in ("name", "email", "role")}
    form["password"] = str(posted.get("password", ""))
    emails = {account.email for account in await services.staff.accounts()}
    errors = _member_errors(form, emails)
    if not errors:
        try:
            member = await services.staff.add(
                form["email"], form["name"], form["role"], form["password"] or None, _me(request)
            )
        except StaffError as exc:  # a duplicate added a moment ago by someone else
            errors["email"] = str(exc)[:1].upper() + str(exc)[1:]
        else:
            raise web.HTTPSeeOther(f"{STAFF}/{member.id}?done=added")
    form.pop("password")  # never written back into a page
    return await _staff_list(request, 400, errors=errors, form=form)


@requires(Can.ADMINISTER)
async def member_page(request: web.Request) -> web.StreamResponse:
    return await _member(request)


async def _member(request: web.Request, status: int = 200, **context: object) -> web.Response:
    account = await request.app[SERVICES].staff.get(request.match_info["id"])
    if account is None:
        return _not_found(request, "member of staff")
    page = {
        "account": account,
        "roles": ROLE_NAMES,
        "is_me": account.id == _me(request),
        "done": DONE.get(request.query.get("done", "")),
        **context,
    }
    return render(request, "admin_member.html", page, status=status)


@requires(Can.ADMINISTER)
async def change_role(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    staff_id = request.match_info["id"]
    role = str((await request.post()).get("role", ""))
    account = await services.staff.get(staff_id)
    if account is None:
        return _not_found(request, "member of staff")
    if role not in ROLE_NAMES:
        return await _member(request, 400, errors={"role": "Choose a role"})
    if role == account.role.value:
        raise web.HTTPSeeOther(f"{STAFF}/{staff_id}?done=same")
    return await _apply(request, "role", "role", services.staff.set_role, role)


@requires(Can.ADMINISTER)
async def reset_password(request: web.Request) -> web.StreamResponse:
    password = str((await request.post()).get("password", ""))
    error = _password_error(password)
    if error:
        return await _member(request, 400, errors={"password": error})
    staff = request.app[SERVICES].staff
    return await _apply(request, "password", "password", staff.reset_password, password)


@requires(Can.ADMINISTER)
async def disable(request: web.Request) -> web.StreamResponse:
    staff = request.app[SERVICES].staff
    return await _apply(request, "active", "disabled", staff.set_active, False)


@requires(Can.ADMINISTER)
async def enable(request: web.Request) -> web.StreamResponse:
    staff = request.app[SERVICES].staff
    return await _apply(request, "active", "enabled", staff.set_active, True)


async def _apply(
    request: web.Request,
    field: str,
    done: str,
    method: Callable[[str, Any, str], Awaitable[object]],
    value: object,
) -> web.Response:
    """One change to an account by the admin signed in; a refusal is shown by its field."""
    staff_id = request.match_info["id"]
    try:
        await method(staff_id, value, _me(request))
    except LookupError:
        return _not_found(request, "member of staff")
    except StaffError as exc:
        return await _member(request, 400, errors={field: str(exc)})
    raise web.HTTPSeeOther(f"{STAFF}/{staff_id}?done={done}")


# -- the on-call rota --------------------------------------------------------------------------
def _zone(request: web.Request) -> ZoneInfo:
    return ZoneInfo(request.app[SERVICES].settings.timezone)


def _when(value: datetime | None, zone: ZoneInfo) -> str:
    """A time as the service's staff read it, in the service's own zone."""
    if value is None:
        return "Until further notice"
    local = value.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y}, {local:%H:%M}"


def _read_time(raw: str, zone: ZoneInfo) -> datetime:
    """A date and time typed in the service's zone. ValueError says what is wrong with it."""
    for fmt in TIME_FORMATS:
        try:
            naive = datetime.strptime(raw, fmt)  # noqa: DTZ007 - the zone is added next
        except ValueError:
            continue
        local = naive.replace(tzinfo=zone)
        try:
            exists = local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == naive
        except OverflowError:
            break
        if not exists:
            raise ValueError("That time does not exist on that day: the clocks go forward")
        return local
    raise ValueError("Enter a date and time, like 2026-12-07 09:00")


@requires(Can.ADMINISTER)
async def rota_page(request: web.Request) -> web.StreamResponse:
    return await _rota(request)


async def _rota(request: web.Request, status: int = 200, **context: object) -> web.Response:
    rota, zone, now = request.app[SERVICES].rota, _zone(request), utcnow()
    on_call = await rota.show(now=now)
    rows = [
        {
            "shift": shift,
            "slot": SLOT_NAMES[shift.slot],
            "starts": _when(shift.starts_at, zone),
            "ends": _when(shift.ends_at, zone),
            "current": shift.is_current(now),
        }
        for shift in await rota.shifts(now)
    ]
    page = {
        "on_call": [(SLOT_NAMES[slot], on_call[slot]) for slot in SLOTS],
        "rows": rows,
        "slots": SLOT_NAMES,
        "zone": zone.key,
        "form": {},
        "done": DONE.get(request.query.get("done", "")),
        **context,
    }
    return render(request, "admin_rota.html", page, status=status)


def _shift_errors(form: dict[str, str], zone: ZoneInfo) -> tuple[dict[str, str], dict]:
    """Problems the form shows before anything is tried, and the times it read."""
    errors, times = {}, {}
    if form["slot"] not in SLOTS:
        errors["slot"] = "Choose primary or deputy"
    for field, most, label in (
        ("name", NAME_MAX, "Name"),
        ("phone", PHONE_MAX, "Phone number"),
        ("email", EMAIL_MAX, "Email address"),
    ):
        if not form[field]:
            errors[field] = f"Enter their {label.lower()}"
        elif len(form[field]) > most:
            errors[field] = f"{label} must be {most} characters or fewer"
    for field in ("starts", "ends"):
        if not form[field]:
            if field == "starts":
                errors[field] = "Enter when the shift starts"
            continue
        try:
            times[field] = _read_time(form[field], zone)
        except ValueError as exc:
            errors[field] = str(exc)
    return errors, times


@requires(Can.ADMINISTER)
async def add_shift(request: web.Request) -> web.StreamResponse:
    posted, zone = await request.post(), _zone(request)
    fields = ("slot", "name", "phone", "email", "starts", "ends")
    form = {k: str(posted.get(k, "")).strip() for k in fields}
    errors, times = _shift_errors(form, zone)
    form.update({k: f"{t:%Y-%m-%dT%H:%M}" for k, t in times.items()})  # as the input shows it
    if not errors:
        try:
            await request.app[SERVICES].rota.add_shift(
                form["slot"],
                form["name"],
                form["phone"],
                form["email"],
                times["starts"],
                times.get("ends"),
                actor=_me(request),
            )
        except ShiftClash as exc:
            errors["starts"] = _clash(exc.clash, zone)
        except RotaError as exc:
            field = exc.field or "starts"
            errors[field] = WORDS.get(field, str(exc))
        else:
            raise web.HTTPSeeOther(f"{ROTA}?done=shift_added")
    return await _rota(request, 400, errors=errors, form=form)


def _clash(shift: Shift, zone: ZoneInfo) -> str:
    ends = "until further notice" if shift.ends_at is None else f"to {_when(shift.ends_at, zone)}"
    return (
        f"This overlaps {shift.name}'s {shift.slot} shift, from {_when(shift.starts_at, zone)} "
        f"{ends}. Change the times, or remove that shift first."
    )


@requires(Can.ADMINISTER)
async def remove_shift(request: web.Request) -> web.StreamResponse:
    try:
        shift = await request.app[SERVICES].rota.remove_shift(
            request.match_info["id"], actor=_me(request)
        )
    except LookupError:
        message = "That shift is not on the rota any more: it may have ended or been removed"
        return await _rota(request, 404, errors={"shifts": message})
    ended = shift.ends_at is not None and shift.ends_at <= utcnow()
    done = "shift_ended" if ended else "shift_removed"
    raise web.HTTPSeeOther(f"{ROTA}?done={done}")
