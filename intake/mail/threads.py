"""Email thread references and signed consent links.

Its one job: the only things that continue an email thread. A thread token is random (or, for a
first message, an HMAC of its sender and Message-ID, so a redelivered message lands on the same
thread); it travels in the subject ("[Ref: ...]") and in our Message-IDs, so a reply is matched
through its subject, In-Reply-To or References and never by sender address alone. The consent
link carries the token and an expiry, signed with the keyring's signing key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from storage.crypto import Keyring

TOKEN_CHARS = 22  # 132 bits, url-safe
_TOKEN = r"[A-Za-z0-9_-]{22}"  # noqa: S105 - a pattern, not a secret
TOKEN_RE = re.compile(rf"^{_TOKEN}$")
_SUBJECT_REF = re.compile(rf"\[Ref:\s*({_TOKEN})\]", re.IGNORECASE)
_MSGID_REF = re.compile(rf"^({_TOKEN})\.[A-Za-z0-9_.-]{{1,64}}@")
_LINK = re.compile(rf"^({_TOKEN})\.([0-9]{{1,12}})\.([A-Za-z0-9_-]{{43}})$")


def new_token() -> str:
    return secrets.token_urlsafe(16)[:TOKEN_CHARS]


def token_for_message(keyring: Keyring, sender: str, message_id: str | None) -> str:
    """A first message's thread token: stable for one sender's Message-ID, else random."""
    if not message_id:
        return new_token()
    digest = hmac.new(
        keyring.signing_key, f"mail-thread\0{sender}\0{message_id}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).decode()[:TOKEN_CHARS]


def subject_ref(token: str) -> str:
    return f"[Ref: {token}]"


def message_id(token: str, kind: str, domain: str) -> str:
    """One of our Message-IDs (without brackets): it names the thread it belongs to."""
    return f"{token}.{kind}@{domain}"


def candidate_tokens(subject: str, references: tuple[str, ...], domain: str) -> list[str]:
    """Thread tokens a reply may carry, most specific first: our Message-IDs, then the subject."""
    found = []
    for ref in references:
        if not ref.lower().endswith("@" + domain.lower()):
            continue
        match = _MSGID_REF.match(ref)
        if match:
            found.append(match.group(1))
    found += _SUBJECT_REF.findall(subject)
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class ConsentLink:
    token: str
    expires_at: datetime


def sign_link(keyring: Keyring, token: str, expires_at: datetime) -> str:
    expiry = int(expires_at.timestamp())
    return f"{token}.{expiry}.{_signature(keyring, token, expiry)}"


def verify_link(keyring: Keyring, value: str, now: datetime | None = None) -> ConsentLink | None:
    """The link's thread and expiry if it is ours, intact and not expired; else None."""
    match = _LINK.match(value or "")
    if not match:
        return None
    token, expiry, signature = match.group(1), int(match.group(2)), match.group(3)
    if not hmac.compare_digest(signature, _signature(keyring, token, expiry)):
        return None
    expires_at = datetime.fromtimestamp(expiry, UTC)
    if expires_at <= (now or datetime.now(UTC)):
        return None
    return ConsentLink(token, expires_at)


def form_token(keyring: Keyring, link: str) -> str:
    """The consent page's anti-forgery value, bound to its link: only a page we served for that
    link carries it, so another site cannot post the form (it cannot read our page)."""
    digest = hmac.new(keyring.signing_key, f"consent-form\0{link}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def _signature(keyring: Keyring, token: str, expiry: int) -> str:
    digest = hmac.new(
        keyring.signing_key, f"consent-link\0{token}\0{expiry}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
