"""The email channel's words for the core's replies: the core decides that a parent is written
to, and when; this turns each purpose into an outbox payload (headers, subject, body, link)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from intake.core.ports import Purpose
from intake.core.wording import Wording
from intake.mail import compose
from intake.mail.threads import sign_link
from storage.crypto import Keyring
from storage.values import readable_phone


class MailReplies:
    def __init__(
        self,
        wording: Wording,
        keyring: Keyring,
        *,
        address: str,
        public_url: str,
        phone: str | None = None,
        hours: str | Callable[[], str] | None = None,
        childrens_services: str | None = None,
    ) -> None:
        self.wording = wording
        self._phone = readable_phone(phone) if phone else None
        self._hours = hours
        self.childrens_services = readable_phone(childrens_services) if childrens_services else None
        self.keyring = keyring
        self.address = address.strip().lower()
        self.domain = self.address.rpartition("@")[2] or "localhost"
        self.public_url = public_url.rstrip("/")

    @property
    def contact_line(self) -> str | None:
        """Every email says how to reach a person without writing (and so without a record),
        with the office hours in force when it is written."""
        if not self._phone:
            return None
        hours = self._hours() if callable(self._hours) else self._hours
        return f"To talk to an adviser, call {self._phone}" + (f" ({hours})." if hours else ".")

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
        payload = self._compose(purpose, thread_ref, first, latest, expires_at)
        if self.contact_line:
            payload["body"] = f"{payload['body'].rstrip()}\n\n{self.contact_line}"
        return payload

    def concern_opening(self) -> str:
        """First, for a message that raised a safeguarding concern: we heard, who will be in
        touch, and where to get help now."""
        text = self.wording["email_concern_opening"]
        if self.childrens_services:
            text += f" You can also call children's services on {self.childrens_services}."
        return text

    def _compose(
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
        if purpose is Purpose.WITHDRAWN:
            return compose.withdrawn(
                w, token=thread_ref, in_reply_to=first.get("reply_to"), **common
            )
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
                opening=self.concern_opening() if first.get("concern") else None,
                **common,
            )
        in_reply_to = (latest or {}).get("reply_to") or first.get("reply_to")
        make = compose.acknowledged if purpose is Purpose.ACKNOWLEDGED else compose.declined
        extra = {"expired": True} if purpose is Purpose.EXPIRED else {}
        return make(w, token=thread_ref, in_reply_to=in_reply_to, **common, **extra)
