"""Who is calling: a caller id becomes a Contact, or None when withheld or unusable."""

from __future__ import annotations

from storage.values import Contact, InvalidContact

# Twilio's stand-ins for a withheld number, and SIP/client identities that are not phones.
WITHHELD = {
    "",
    "anonymous",
    "restricted",
    "unknown",
    "private",
    "unavailable",
    "+266696687",
    "+86282452253",
    "+7378742833",
    "+2562533",
}


def caller_contact(raw_from: str | None) -> Contact | None:
    value = (raw_from or "").strip()
    if value.lower() in WITHHELD or value.startswith(("client:", "sip:")):
        return None
    try:
        return Contact.phone(value)
    except InvalidContact:
        return None
