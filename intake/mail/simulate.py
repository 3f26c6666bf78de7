"""`intake simulate email`: write to the running gateway from the terminal, as a parent would.

Its one job: build an ordinary email (or a reply on a thread, given its reference) and hand it
to the gateway's SMTP server with a real SMTP client, then print what the server answered.
"""

from __future__ import annotations

import email.utils
from email.message import EmailMessage
from typing import TextIO

import aiosmtplib

from intake.mail.threads import message_id, subject_ref


def build(
    text: str,
    *,
    sender: str,
    to: str,
    subject: str,
    ref: str | None = None,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    domain = sender.rpartition("@")[2] or "localhost"
    msg["Message-ID"] = email.utils.make_msgid(domain=domain)
    msg["Date"] = email.utils.formatdate(localtime=True)
    if ref:
        ours = f"<{message_id(ref, 'consent', to.rpartition('@')[2])}>"
        msg["Subject"] = f"Re: {subject} {subject_ref(ref)}"
        msg["In-Reply-To"] = ours
        msg["References"] = ours
    else:
        msg["Subject"] = subject
    msg.set_content(text)
    return msg


async def send_email(
    host: str,
    port: int,
    msg: EmailMessage,
    out: TextIO,
) -> int:
    """Send one message; print the server's answer; 0 if it was accepted."""
    sender = email.utils.parseaddr(str(msg["From"]))[1]
    recipient = email.utils.parseaddr(str(msg["To"]))[1]
    try:
        errors, response = await aiosmtplib.send(
            msg, hostname=host, port=port, sender=sender, recipients=[recipient], timeout=60
        )
    except aiosmtplib.SMTPResponseException as exc:
        print(f"{exc.code} {exc.message}", file=out)
        return 1
    except aiosmtplib.SMTPRecipientsRefused as exc:
        for refused in exc.recipients:
            print(f"{refused.code} {refused.message}", file=out)
        return 1
    print(f"250 {response}", file=out)
    return 0
