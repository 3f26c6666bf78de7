"""The consent link's page: GET shows the choice, only POST records it.

Its one job: let a parent answer the consent question in a browser. Mail scanners and link
previewers fetch every link in a message, so GET never changes anything; the choice is two
buttons that POST. The token in the path is signed and carries its expiry (intake.mail.threads);
an invalid or expired one gets the same plain "not valid" page, which says nothing about any
thread. No path, query or form value is ever logged.

Another site must not be able to answer for a parent: a POST must come from our own origin
(Origin, or Referer when a browser sends no Origin) and carry the form's anti-forgery value,
bound to the link; no page may be framed. A malformed form is a 400, never a 500.
"""

from __future__ import annotations

import hmac
from html import escape
from urllib.parse import urlsplit

from aiohttp import web

from intake.mail.compose import SERVICE_NAME
from intake.mail.service import MailService
from intake.mail.threads import form_token, verify_link

MAIL = web.AppKey("mail", MailService)
ORIGIN = web.AppKey("public_origin", str)
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, lower-cased; "" if it has none."""
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}".lower()


def register_consent_routes(app: web.Application, public_url: str) -> None:
    app[ORIGIN] = origin_of(public_url)
    app.router.add_get("/consent/{token}", consent_page)
    app.router.add_post("/consent/{token}", consent_choice)


def _page(title: str, body: str, status: int = 200) -> web.Response:
    html = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em;"
        "line-height:1.5}button{font-size:1.1em;padding:.5em 1em;margin:.3em}</style>"
        f"</head><body><main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )
    return web.Response(
        text=html, status=status, content_type="text/html", charset="utf-8", headers=_HEADERS
    )


def _paragraphs(text: str) -> str:
    return "".join(f"<p>{escape(p)}</p>" for p in text.split("\n\n") if p.strip())


def _invalid(request: web.Request) -> web.Response:
    """An expired or unknown link: say plainly what happened to the message, and how to get
    help again (nothing about any thread)."""
    service = request.app[MAIL]
    return _page(
        "This link has expired",
        "<p>This link has expired or is not valid. If you wrote to us and did not answer, we "
        "have deleted your message and kept nothing.</p>"
        f"<p>To get help, write to us again at {escape(service.address)}.</p>",
        status=404,
    )


def _same_origin(request: web.Request) -> bool:
    """The browser says where the form was sent from (Origin; Referer when it sends none):
    only our own origin counts. This page's Referrer-Policy is no-referrer (its address holds
    the link's token), so a browser sends "Origin: null" and no Referer on its own form: then
    the form value, which only a page we served carries, decides alone."""
    ours = request.app[ORIGIN]
    origin = request.headers.get("Origin")
    if origin is not None and origin.strip().lower() != "null":
        return origin.strip().lower() == ours
    referer = request.headers.get("Referer")
    return referer is None or origin_of(referer) == ours


def _refused() -> web.Response:
    return _page(
        "Please use the link in our email",
        "<p>We could not accept this. Please open the link in the email we sent you and "
        "choose there.</p>",
        status=403,
    )


async def consent_page(request: web.Request) -> web.Response:
    service = request.app[MAIL]
    link = verify_link(service.keyring, request.match_info["token"])
    if link is None:
        return _invalid(request)
    state = await service.link_state(link.token)
    if state == "consented":  # they may change their mind: a no now withdraws consent
        return _page(
            "You said we may keep a record",
            "<p>If you have changed your mind, we will delete your messages and details.</p>"
            "<form method='post'>"
            f"<input type='hidden' name='form' value='{form_token(service.keyring, link.token)}'>"
            f"<button name='choice' value='no'>{escape(service.wording['withdraw_button'])}"
            "</button></form>",
        )
    if state != "asking":
        return _page("Nothing is held", _paragraphs(service.wording["declined_email"]))
    w = service.wording
    deadline = f"{link.expires_at:%A %-d %B}"
    # Exactly the words a consent record made here keeps (Wording.consent_text, web page). The
    # question is the legend of the choice, so a screen reader reads it with the buttons.
    body = (
        f"<p>{escape(SERVICE_NAME)}</p>"
        + _paragraphs(w["notice"])
        + "<form method='post'><fieldset>"
        f"<legend><strong>{escape(w['consent_question_web'])}</strong></legend>"
        f"<p>Please choose by {deadline}. If you do not, we delete your message.</p>"
        f"<input type='hidden' name='form' value='{form_token(service.keyring, link.token)}'>"
        f"<button name='choice' value='yes'>{escape(w['consent_button_yes'])}</button>"
        f"<button name='choice' value='no'>{escape(w['consent_button_no'])}</button>"
        "</fieldset></form>"
    )
    return _page(w["notice_title"], body)


async def consent_choice(request: web.Request) -> web.Response:
    service = request.app[MAIL]
    link = verify_link(service.keyring, request.match_info["token"])
    if link is None:
        return _invalid(request)
    if not _same_origin(request):
        return _refused()
    try:
        form = await request.post()
    except (ValueError, LookupError, UnicodeError, AssertionError, web.HTTPException):
        # no multipart boundary, an unknown charset, a body that is not a form
        return _page("Please choose", "<p>Please go back and choose yes or no.</p>", status=400)
    expected = form_token(service.keyring, link.token)
    if not hmac.compare_digest(str(form.get("form", "")), expected):
        return _refused()
    choice = str(form.get("choice", "")).lower()
    if choice not in ("yes", "no"):
        return _page("Please choose", "<p>Please go back and choose yes or no.</p>", status=400)
    state = await service.answer_by_link(link.token, choice == "yes")
    if state == "withdrawn":
        return _page(
            "You have withdrawn your consent", _paragraphs(service.wording["withdrawn_web"])
        )
    if state == "consented":
        return _page("Your answer is saved", _paragraphs(service.wording["consented_voice"]))
    return _page("Nothing was kept", _paragraphs(service.wording["declined_email"]))
