"""The second factor (a TOTP code from an authenticator app): setting it up, and entering it
after the password.

Why these views check the session themselves: the guard lets "second_factor" pages through
while a step is pending, whatever the role, so each one here decides what that session may do.
Someone who has given only the password of an account with a code set up may enter the code and
nothing else: never see or start a set-up, which would show a new secret.
"""

from __future__ import annotations

from aiohttp import web

from intake.console.access import requires
from intake.console.auth import COOKIE, SIGNED_IN, safe_next
from intake.console.pages import render
from intake.services import SERVICES
from storage.second_factor import SecondFactor, SecondFactorError, authenticator_uri

ENTER = "/console/second-factor"
SET_UP = "/console/second-factor/set-up"
PENDING = "second_factor"  # the capability the guard lets through while a step is pending
WRONG_CODE = "The code is not right. Enter the code your app shows now"
NO_CODE = "Enter the code from your authenticator app"


def register(router: web.UrlDispatcher) -> None:
    """The second factor's routes."""
    router.add_get(ENTER, enter_page)
    router.add_post(ENTER, enter)
    router.add_get(SET_UP, set_up_page)
    router.add_post(SET_UP, set_up)


def _factor(request: web.Request) -> SecondFactor:
    return SecondFactor(request.app[SERVICES].db)


def _next(request: web.Request, form: dict | None = None) -> str:
    """Where to go once the code is right: a console page, never another site."""
    return safe_next(str((form or {}).get("next", "")) or request.query.get("next", ""))


def _must_set_up(request: web.Request) -> bool:
    settings = request.app[SERVICES].settings
    return request[SIGNED_IN].staff.role.value in settings.require_mfa


def _status(error: str | None) -> int:
    """As the sign-in form: 400 for a missing code, 401 for a wrong one."""
    return 200 if error is None else 400 if error == NO_CODE else 401


async def _code_given(request: web.Request) -> tuple[str, dict]:
    form = dict(await request.post())
    return str(form.get("code", "")), form


# -- after the password ------------------------------------------------------------------------
def _enter_first(request: web.Request) -> None:
    """Only a session waiting for its code may enter one; any other goes on its way."""
    signed_in = request[SIGNED_IN]
    if not signed_in.has_second_factor:
        raise web.HTTPSeeOther(SET_UP if _must_set_up(request) else "/console/")
    if signed_in.second_factor_at is not None:
        raise web.HTTPSeeOther(_next(request))


def _code_form(request: web.Request, next_: str, error: str | None = None) -> web.Response:
    errors = {"code": error} if error else {}
    return render(request, "second_factor.html", {"errors": errors, "next": next_}, _status(error))


@requires(PENDING)
async def enter_page(request: web.Request) -> web.StreamResponse:
    _enter_first(request)
    return _code_form(request, _next(request))


@requires(PENDING)
async def enter(request: web.Request) -> web.StreamResponse:
    _enter_first(request)
    signed_in, factor = request[SIGNED_IN], _factor(request)
    code, form = await _code_given(request)
    if not code.strip():
        return _code_form(request, _next(request, form), NO_CODE)
    if await factor.verify(signed_in.staff.id, code):
        await request.app[SERVICES].sessions.second_factor_passed(signed_in.id)
        raise web.HTTPSeeOther(_next(request, form))
    if await factor.locked(signed_in.staff.id):
        return await _locked_out(request)
    return _code_form(request, _next(request, form), WRONG_CODE)


async def _locked_out(request: web.Request) -> web.Response:
    """Too many wrong codes: this session ends, and the password will not open the account
    again until the lock has passed."""
    await request.app[SERVICES].sessions.end(request.cookies.get(COOKIE, ""))
    request[SIGNED_IN] = None  # the page is shown as to someone signed out
    text = (
        "This account is locked for 15 minutes after too many wrong codes. "
        "Try again later, or ask your administrator."
    )
    context = {"heading": "Account locked", "text": text}
    response = render(request, "refused.html", context, status=401)
    response.del_cookie(COOKIE, path="/console/")
    return response


# -- setting it up -----------------------------------------------------------------------------
def _set_up_first(request: web.Request) -> None:
    """A session that has not yet given the code of a second factor in use never sees a set-up
    page: it would let a password alone replace the code."""
    signed_in = request[SIGNED_IN]
    if signed_in.has_second_factor and signed_in.second_factor_at is None:
        raise web.HTTPSeeOther(ENTER)


def _grouped(secret: str) -> str:
    """The key in fours, as apps show it and people type it."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


async def _set_up_form(request: web.Request, next_: str, error: str | None = None) -> web.Response:
    """The key of the set-up in progress (a new one if there is none)."""
    staff, factor = request[SIGNED_IN].staff, _factor(request)
    try:
        secret = await factor.pending(staff.id) or await factor.begin_set_up(staff.id)
    except SecondFactorError:  # turned on meanwhile, in another window
        raise web.HTTPSeeOther(SET_UP) from None
    context = {
        "key": _grouped(secret),
        "uri": authenticator_uri(secret, staff.email),
        "required": _must_set_up(request),
        "next": next_,
        "errors": {"code": error} if error else {},
    }
    return render(request, "second_factor_set_up.html", context, _status(error))


@requires(PENDING)
async def set_up_page(request: web.Request) -> web.StreamResponse:
    _set_up_first(request)
    if request[SIGNED_IN].has_second_factor:
        return render(request, "second_factor_set_up.html", {"on": True})
    return await _set_up_form(request, _next(request))


@requires(PENDING)
async def set_up(request: web.Request) -> web.StreamResponse:
    _set_up_first(request)
    signed_in = request[SIGNED_IN]
    if signed_in.has_second_factor:
        raise web.HTTPSeeOther(SET_UP)
    code, form = await _code_given(request)
    if not code.strip():
        return await _set_up_form(request, _next(request, form), NO_CODE)
    if not await _factor(request).confirm(signed_in.staff.id, code):
        return await _set_up_form(request, _next(request, form), WRONG_CODE)
    # the code just given proves the app: this session need not be asked for one again
    await request.app[SERVICES].sessions.second_factor_passed(signed_in.id)
    raise web.HTTPSeeOther(_next(request, form))
