"""The email channel's words for the core's replies: the core decides that a parent is written
to, and when; this turns each purpose into an outbox payload (headers, subject, body, link)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from intake.core.ports import Purpose
from intake.core.wording import Wording
from intake.mail import compose
from intake.mail.threads import sign_link
from storage.crypto import Keyring


class MailReplies:
    def __init__(
        self, wording: Wording, keyring: Keyring, *, address: str, public_url: str
    ) -> None:
        self.wording = wording
        self.keyring = keyring
        self.address = address.strip().lower()
        self.domain = self.address.rpartition("@")[2] or "localhost"
        self.public_url = public_url.rstrip("/")

    def consent_link(self, token: str, expires_at: datetime) -> str:
        return f"{self.public_url}/consent/{sign_link(self.keyring, token, expires_at)}"

    def compose(
        self,
        purpose: Purpose,
        thread_ref: str,
        first: Mapping[str, str],
        latest: Mapping[str, str] | None,
        expires_at: datetime | None,
    ) -> dict:
        w, common = self.wording, {"sender": self.address, "domain": self.domain}
        if purpose is Purpose.NOTICE:
            return compose.notice(w, **common)
        if purpose is Purpose.NOTHING_HELD:
            return compose.nothing_held(
                w, token=thread_ref, in_reply_to=first.get("reply_to"), **common
            )
        if purpose in (Purpose.CHECK_ANSWER, Purpose.REMINDER):
            assert expires_at is not None
            return compose.check_answer(
                w,
                token=thread_ref,
                link=self.consent_link(thread_ref, expires_at),
                in_reply_to=(latest or {}).get("reply_to") or first.get("reply_to"),
                reminder=purpose is Purpose.REMINDER,
                **common,
            )
        if purpose is Purpose.CONSENT_REQUEST:
            assert expires_at is not None
            return compose.consent_request(
                w,
                token=thread_ref,
                link=self.consent_link(thread_ref, expires_at),
                in_reply_to=first.get("reply_to"),
                **common,
            )
        in_reply_to = (latest or {}).get("reply_to") or first.get("reply_to")
        make = compose.acknowledged if purpose is Purpose.ACKNOWLEDGED else compose.declined
        extra = {"expired": True} if purpose is Purpose.EXPIRED else {}
        return make(w, token=thread_ref, in_reply_to=in_reply_to, **common, **extra)
