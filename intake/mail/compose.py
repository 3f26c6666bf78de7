"""The service's outbound emails, as outbox payloads, and the message built from one.

Its one job: words and headers for what the gateway sends a parent. The words come from the
versioned wording (the consent request is exactly `Wording.consent_text`, the text each consent
record keeps); the few mechanical lines (the link, the reference) live here. Every header value
that can carry a parent's input is reduced to one clean line, and Message-IDs are checked
against a strict pattern, so a crafted subject or Message-ID can never add a header.
"""

from __future__ import annotations

import re
import secrets
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid

from intake.core.wording import Wording
from intake.mail.parsing import clean_header
from intake.mail.threads import message_id, subject_ref

SERVICE_NAME = "Parent Partnership Service"
AUTO_GENERATED = frozenset({"safeguarding_alert", "staff_warning"})  # not replies to anyone
_MSGID_OK = re.compile(r"^[^<>\s\"\\,;]{1,250}@[^<>\s\"\\,;]{1,250}$")


def reply_subject(token: str) -> str:
    """A fixed subject with the thread's reference, never the sender's own words: a forged
    From: must not make us mail the forger's text to someone else (threading rides on
    In-Reply-To, References and the Ref)."""
    return f"Your message to the {SERVICE_NAME} {subject_ref(token)}"


def safe_msgid(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip().strip("<>")
    return value if _MSGID_OK.match(value) else None


def _payload(
    purpose: str,
    sender: str,
    subject: str,
    body: str,
    token: str,
    domain: str,
    in_reply_to: str | None,
    *,
    auto: bool = True,
    erase: bool = True,
) -> dict:
    """An outbox payload. Our consent request's Message-ID is `<token>.consent@domain`; every
    other message of the thread refers to it, so a reply to any of them finds the thread. A
    message that starts a thread of its own ("notice") refers to nothing."""
    consent_id = message_id(token, "consent", domain)
    if purpose in ("consent_request", "notice"):
        own = consent_id if purpose == "consent_request" else message_id(token, purpose, domain)
        references = []
    else:
        own = message_id(token, f"{purpose.replace('_', '-')}-{secrets.token_hex(4)}", domain)
        references = [consent_id]
    parent = safe_msgid(in_reply_to)
    if parent:
        references.append(parent)
    return {
        "purpose": purpose,
        "from": sender,
        "subject": subject,
        "body": body,
        "message_id": own,
        "in_reply_to": parent or (references[0] if references else None),
        "references": references,
        "auto": auto,
        "erase": erase,
    }


def consent_request(
    wording: Wording,
    *,
    sender: str,
    token: str,
    domain: str,
    link: str,
    in_reply_to: str | None,
    opening: str | None = None,
) -> dict:
    """The one consent request of a thread; after a message that raised a safeguarding
    concern, `opening` comes first (we heard, who will be in touch, where to get help now)."""
    words = (*((opening,) if opening else ()), wording.consent_text("email"))
    body = _asking(wording, words, link, token)
    return _payload(
        "consent_request", sender, reply_subject(token), body, token, domain, in_reply_to
    )


def _asking(wording: Wording, words: tuple[str, ...], link: str, token: str) -> str:
    """A message that asks the consent question: its words, the link, 999, the reference."""
    return "\n\n".join(
        (
            *words,
            f"{wording['email_link_line']}\n{link}",
            wording["email_danger_line"],
            subject_ref(token),
        )
    )


def check_answer(
    wording: Wording,
    *,
    sender: str,
    token: str,
    domain: str,
    link: str,
    in_reply_to: str | None,
    reminder: bool = False,
) -> dict:
    """After a reply we could not read as yes or no: did you mean yes? Or, before a hold
    expires, the one reminder. (Each once per thread.)"""
    words = (wording["reminder_email" if reminder else "check_answer_email"],)
    body = _asking(wording, words, link, token)
    purpose = "reminder" if reminder else "check_answer"
    return _payload(purpose, sender, reply_subject(token), body, token, domain, in_reply_to)


def declined(
    wording: Wording,
    *,
    sender: str,
    token: str,
    domain: str,
    in_reply_to: str | None,
    expired: bool = False,
) -> dict:
    """The one reply after a no or an unanswered request: nothing was kept, and where to get help.
    It is erased from the outbox once sent."""
    if expired:
        text = f"{wording['email_expired_line']} {wording['email_expired_help']}"
    else:
        text = wording["declined_email"]
    body = "\n\n".join((text, wording["email_danger_line"]))
    return _payload(
        "expired" if expired else "declined",
        sender,
        reply_subject(token),
        body,
        token,
        domain,
        in_reply_to,
    )


def nothing_held(
    wording: Wording, *, sender: str, token: str, domain: str, in_reply_to: str | None
) -> dict:
    """To a bare yes or no on a thread we no longer hold: nothing to answer, how to write again.
    Erased from the outbox once sent."""
    body = "\n\n".join((wording["nothing_held_email"], wording["email_danger_line"]))
    return _payload("nothing_held", sender, reply_subject(token), body, token, domain, in_reply_to)


def withdrawn(
    wording: Wording, *, sender: str, token: str, domain: str, in_reply_to: str | None
) -> dict:
    """To a consented parent who asked us to delete what we keep: done, and the one exception.
    Erased from the outbox once sent."""
    body = "\n\n".join((wording["withdrawn_web"], wording["email_danger_line"]))
    return _payload("withdrawn", sender, reply_subject(token), body, token, domain, in_reply_to)


def acknowledged(
    wording: Wording,
    *,
    sender: str,
    token: str,
    domain: str,
    in_reply_to: str | None,
) -> dict:
    """After a yes: we will keep a record, and an adviser will reply."""
    body = "\n\n".join(
        (wording["consented_voice"], wording["email_danger_line"], subject_ref(token))
    )
    return _payload(
        "acknowledged",
        sender,
        reply_subject(token),
        body,
        token,
        domain,
        in_reply_to,
        erase=False,
    )


def adviser_reply(
    text: str, *, adviser: str, sender: str, token: str, domain: str, in_reply_to: str | None
) -> dict:
    """An adviser's own words to a consented parent, signed with their name, threaded to the
    parent's latest email. Not an automatic reply, and kept in the outbox once sent (the
    conversation shows it as sent)."""
    body = "\n\n".join((text.strip(), f"{adviser}\n{SERVICE_NAME}", subject_ref(token)))
    return _payload(
        "adviser_reply",
        sender,
        reply_subject(token),
        body,
        token,
        domain,
        in_reply_to,
        auto=False,
        erase=False,
    )


def information_request(
    text: str, *, organisation: str, adviser: str, sender: str, domain: str
) -> dict:
    """An adviser's request to another organisation, made with the parent's permission (which
    it says), signed with their name. A thread of its own; never an automatic reply."""
    token = secrets.token_urlsafe(16)
    body = "\n\n".join(
        (
            text.strip(),
            f"The parent has given us permission to ask {organisation} for this.",
            f"{adviser}\n{SERVICE_NAME}",
        )
    )
    subject = f"A request for information from the {SERVICE_NAME}"
    return _payload(
        "information_request", sender, subject, body, token, domain, None, auto=False, erase=False
    )


def notice(wording: Wording, *, sender: str, domain: str) -> dict:
    """ "Why we keep information about you", for a caller who asked for it on the phone. It
    starts a thread of its own, so a reply to it reaches the service like a new email."""
    token = secrets.token_urlsafe(16)
    body = "\n\n".join(
        (wording["notice"], wording["see_what_we_hold"], wording["email_danger_line"])
    )
    return _payload(
        "notice", sender, wording["notice_title"], body, token, domain, None, erase=False
    )


def build_message(recipient: str, payload: dict, fallback_domain: str) -> EmailMessage:
    """The email for one outbox item. Raises ValueError if a header value is unsafe."""
    msg = EmailMessage()
    msg["From"] = formataddr((SERVICE_NAME, payload["from"]))
    msg["To"] = recipient
    msg["Subject"] = clean_header(payload.get("subject", ""))
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    own = safe_msgid(payload.get("message_id"))
    if own is None:
        own = make_msgid(domain=fallback_domain).strip("<>")
    msg["Message-ID"] = f"<{own}>"
    reply_to = safe_msgid(payload.get("in_reply_to"))
    if reply_to:
        msg["In-Reply-To"] = f"<{reply_to}>"
    refs = [r for r in (safe_msgid(x) for x in payload.get("references", [])) if r]
    if refs:
        msg["References"] = " ".join(f"<{r}>" for r in refs)
    if payload.get("auto"):
        # RFC 3834: an automatic message says so, and asks other responders not to answer it.
        # A reply to a parent's mail is "auto-replied"; one the service starts itself (an alert
        # to the lead, a warning to the admin) is "auto-generated", which filters do not bin.
        started = payload.get("purpose") in AUTO_GENERATED
        msg["Auto-Submitted"] = "auto-generated" if started else "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(payload.get("body", ""), cte="quoted-printable")
    return msg
