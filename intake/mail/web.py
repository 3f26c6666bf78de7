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


def _invalid() -> web.Response:
    return _page(
        "This link is not valid",
        "<p>This link has expired or is not valid. If you wrote to us, nothing more is needed: "
        "if we have not heard from you, we delete your message.</p>",
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
        return _invalid()
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
    # Exactly the words a consent record made here keeps (Wording.consent_text, web page).
    body = (
        _paragraphs(w["notice"]) + f"<p><strong>{escape(w['consent_question_web'])}</strong></p>"
        "<form method='post'>"
        f"<input type='hidden' name='form' value='{form_token(service.keyring, link.token)}'>"
        f"<button name='choice' value='yes'>{escape(w['consent_button_yes'])}</button>"
        f"<button name='choice' value='no'>{escape(w['consent_button_no'])}</button></form>"
    )
    return _page(w["notice_title"], body)


async def consent_choice(request: web.Request) -> web.Response:
    service = request.app[MAIL]
    link = verify_link(service.keyring, request.match_info["token"])
    if link is None:
        return _invalid()
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
        return _page("Thank you", _paragraphs(service.wording["consented_voice"]))
    return _page("Nothing was kept", _paragraphs(service.wording["declined_email"]))
