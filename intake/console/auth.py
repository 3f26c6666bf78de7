"""Signing in and out, and the guard every console request passes.

Why here, in one middleware: each request is checked the same way before any view runs: who
is signed in (a server-side session), whether they have passed their second factor where it is
needed, whether their role allows what the view declares (intake.console.access), and, for
every POST, that it comes from our own origin and carries the form's anti-forgery token. A
refusal changes nothing and is audited.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from urllib.parse import quote, urlsplit

from aiohttp import web

from intake.console.access import PUBLIC, Can, capability_of, may, requires
from intake.console.pages import SERVICES_KEY, WARNINGS, render, security_headers
from intake.mail.web import origin_of
from storage import audit
from storage.health import Health

COOKIE = "intake_session"
SIGN_IN_COOKIE = "intake_sign_in"  # binds the sign-in form's token to this browser
SIGNED_IN = web.RequestKey("signed_in", object)
LIVE_REFRESH = "X-Live-Refresh"  # sent by the queue's own script when it fetches itself again
FORM_LIMIT = 64 * 1024  # a console form larger than this is refused, not cut short


def csrf_token(signing_key: bytes, bound_to: str) -> str:
    digest = hmac.new(signing_key, f"console-csrf\0{bound_to}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def _same_origin(request: web.Request, ours: str) -> bool:
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin.strip().lower() == ours
    referer = request.headers.get("Referer")
    return referer is not None and origin_of(referer) == ours


def _refuse(request: web.Request, title: str, text: str, status: int = 403) -> web.Response:
    return render(request, "refused.html", {"heading": title, "text": text}, status=status)


@web.middleware
async def console_guard(request: web.Request, handler):  # noqa: ANN001
    if not request.path.startswith(("/console", "/assets/")):
        return await handler(request)
    response = await _guarded(request, handler)
    security_headers(response)
    return response


async def _guarded(request: web.Request, handler) -> web.StreamResponse:  # noqa: ANN001
    services = request.app[SERVICES_KEY]
    if request.match_info.http_exception is not None:  # no such page (or not by this method)
        return _refuse(request, "Page not found", "There is no page at this address.", 404)
    capability = capability_of(request.match_info.handler)
    if capability is None and request.path.startswith(("/console/static/", "/assets/")):
        capability = PUBLIC
    if capability is None:  # a console view that forgot to say what it needs: never served
        return _refuse(request, "Not available", "This page is not available.", 404)
    by_person = request.headers.get(LIVE_REFRESH) is None  # not the page refreshing itself
    signed_in = await services.sessions.resolve(request.cookies.get(COOKIE), touch=by_person)
    request[SIGNED_IN] = signed_in
    if request.method == "POST":
        refused = await _check_post(request, signed_in)
        if refused is not None:
            return refused
    if capability == PUBLIC:
        return await handler(request)
    if signed_in is None:
        if request.method == "GET":
            raise web.HTTPSeeOther(f"/console/sign-in?next={quote(request.path_qs, safe='')}")
        return _refuse(request, "Please sign in", "Your session has ended. Sign in again.")
    step = _second_factor_step(request, signed_in)
    if step is not None and capability != "second_factor":
        raise web.HTTPSeeOther(f"{step}?next={quote(request.path_qs, safe='')}")
    role = signed_in.staff.role
    if step is None and (may(role, Can.HANDLE_CONCERNS) or may(role, Can.ADMINISTER)):
        request[WARNINGS] = await _warnings(request)
        if may(role, Can.ADMINISTER):  # the wording's yearly review is the admin's to do
            overdue = services.choices.review_warning()
            request[WARNINGS] = [*request[WARNINGS], *([overdue] if overdue else [])]
    if capability != "second_factor" and not may(signed_in.staff.role, capability):
        async with services.db.transaction() as session:
            await audit.record(
                session,
                signed_in.staff.id,
                "access.refused",
                "route",
                request.match_info.route.resource.canonical[:64],
            )
        return _refuse(
            request,
            "You cannot see this page",
            "Your role does not include this page. If you need it, ask your administrator.",
        )
    return await handler(request)


_WARNINGS_FOR = 15.0  # seconds a page may show warnings computed for an earlier page
_warned: dict[int, tuple[float, list[str]]] = {}


async def _warnings(request: web.Request) -> list[str]:
    """Nobody on call, an undelivered alert, a stopped process: for the lead and the admin on
    every page. Worked out at most every 15 seconds per process."""
    services = request.app[SERVICES_KEY]
    now = time.monotonic()
    cached = _warned.get(id(services))
    if cached is None or now - cached[0] > _WARNINGS_FOR:
        try:
            found = await Health(services.db).warnings()
        except Exception:  # noqa: BLE001 - the page still shows; the database says why elsewhere
            found = [
                "The console cannot check the service's health: the database is not answering."
            ]
        _warned[id(services)] = cached = (now, found)
    return cached[1]


def _second_factor_step(request: web.Request, signed_in) -> str | None:  # noqa: ANN001
    """Where a session must go first: entering its code, or setting one up if the role must."""
    settings = request.app[SERVICES_KEY].settings
    if signed_in.has_second_factor and signed_in.second_factor_at is None:
        return "/console/second-factor"
    if not signed_in.has_second_factor and signed_in.staff.role.value in settings.require_mfa:
        return "/console/second-factor/set-up"
    return None


async def _check_post(request: web.Request, signed_in) -> web.Response | None:  # noqa: ANN001
    services = request.app[SERVICES_KEY]
    if not _same_origin(request, origin_of(services.settings.public_url)):
        return _refuse(request, "Not accepted", "This form must be sent from the console.")
    if request.content_length is not None and request.content_length > FORM_LIMIT:
        return _refuse(
            request,
            "Too long",
            "What you wrote is longer than the console accepts. Nothing was saved.",
            413,
        )
    try:
        form = await request.post()
    except (ValueError, LookupError, UnicodeError, AssertionError, web.HTTPException):
        return _refuse(request, "Not accepted", "The form could not be read.", 400)
    bound = signed_in.id if signed_in else request.cookies.get(SIGN_IN_COOKIE, "")
    expected = csrf_token(services.db.keyring.signing_key, bound) if bound else ""
    if not expected or not hmac.compare_digest(str(form.get("csrf", "")), expected):
        return _refuse(
            request,
            "Not accepted",
            "This form has expired or did not come from this page. Go back, reload the page "
            "and try again. Nothing was changed.",
        )
    return None


# -- the pages ---------------------------------------------------------------------------------
@requires(PUBLIC)
async def sign_in_page(request: web.Request) -> web.StreamResponse:
    if request[SIGNED_IN] is not None:
        raise web.HTTPSeeOther("/console/")
    return _sign_in_form(request, {})


def _sign_in_form(request: web.Request, context: dict, status: int = 200) -> web.Response:
    services = request.app[SERVICES_KEY]
    binding = request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(24)
    context = {
        "next": safe_next(request.query.get("next") or context.get("next", "")),
        "sign_in_csrf": csrf_token(services.db.keyring.signing_key, binding),
        **context,
    }
    response = render(request, "sign_in.html", context, status=status)
    response.set_cookie(SIGN_IN_COOKIE, binding, **_cookie_flags(services.settings.public_url))
    return response


def safe_next(value: str) -> str:
    """Only a path in the console: never another site after signing in."""
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not parts.path.startswith("/console/"):
        return "/console/"
    return value


@requires(PUBLIC)
async def sign_in(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES_KEY]
    form = await request.post()
    email, password = str(form.get("email", "")).strip(), str(form.get("password", ""))
    errors = {}
    if not email:
        errors["email"] = "Enter your email address"
    if not password:
        errors["password"] = "Enter your password"  # noqa: S105 - a message, not a secret
    if errors:
        return _sign_in_form(request, {"errors": errors, "email": email}, status=400)
    result = await services.staff.sign_in(email, password)
    if result.staff is None:
        message = (
            "This account is locked for 15 minutes after too many wrong passwords. "
            "Try again later, or ask your administrator."
            if result.locked
            else "The email address or password is not right"
        )
        return _sign_in_form(request, {"errors": {"password": message}, "email": email}, status=401)
    await services.sessions.end(request.cookies.get(COOKIE, ""))  # never reuse a session
    token = await services.sessions.start(result.staff.id)
    response = web.HTTPSeeOther(safe_next(str(form.get("next", ""))))
    response.set_cookie(COOKIE, token, **_cookie_flags(services.settings.public_url))
    response.del_cookie(SIGN_IN_COOKIE, path="/console/")
    raise response


@requires("second_factor")  # also half-way through signing in: a person can always leave
async def sign_out(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES_KEY]
    signed_in = request[SIGNED_IN]
    await services.sessions.end(request.cookies.get(COOKIE, ""), actor=signed_in.staff.id)
    response = web.HTTPSeeOther("/console/sign-in")
    response.del_cookie(COOKIE, path="/console/")
    raise response


def _cookie_flags(public_url: str) -> dict:
    return {
        "path": "/console/",
        "httponly": True,
        "samesite": "Lax",
        "secure": public_url.startswith("https://"),
    }
