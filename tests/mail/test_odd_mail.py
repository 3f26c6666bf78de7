"""Odd mail written by hand: broken MIME, unknown charsets, 8-bit headers, deep nesting, huge
attachments and header lines, NUL bytes. Each is readable or cleanly refused; the server stays
up; nothing becomes a record without a yes."""

from __future__ import annotations

import base64

import pytest
from sqlalchemy import func, select

from intake.mail.parsing import parse_message
from storage.tables import Conversation
from tests.mail.conftest import MailGateway, parent_mail

HEAD = b"From: Odd Parent <odd@example.org>\r\nTo: help@pps.example.org\r\n"


def _nested(depth: int) -> bytes:
    parts = [HEAD, b"Subject: nested\r\nMIME-Version: 1.0\r\n"]
    for n in range(depth):
        parts.append(b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (n, n))
    parts.append(b"Content-Type: text/plain\r\n\r\nDeep inside Zorvanth\r\n")
    for n in reversed(range(depth)):
        parts.append(b"--b%d--\r\n" % n)
    return b"".join(parts)


ODD = {
    "broken_boundary": HEAD
    + b'Subject: broken\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="nope"'
    b"\r\n\r\n--other\r\nContent-Type: text/plain\r\n\r\nBoundary Zorvanth lost\r\n",
    "unknown_charset": HEAD + b"Subject: =?x-unknown-9?q?caf=E9?=\r\nMIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=x-unknown-9\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    b"Caf\xe9 Zorvanth\r\n",
    "eight_bit_headers": b"From: J\xc3\xb6rg <odd@example.org>\r\nTo: help@pps.example.org\r\n"
    b"Subject: Gr\xfc\xdfe \xc3\xa9l\xe8ve\r\n\r\nZorvanth 8-bit\r\n",
    "nested_200": _nested(200),
    "empty_body": HEAD + b"Subject: empty\r\n\r\n",
    "no_headers_garbage": b"\x00\xff\xfe garbage without headers \x80\x81\r\n",
    "only_html": HEAD + b"Subject: html\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n"
    b"<html><style>p{}</style><p>Only <b>HTML</b> Zorvanth&amp;co<br>line<script>x()</script>",
    "only_attachment": HEAD + b"Subject: scan\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: application/pdf; name="ehcp.pdf"\r\nContent-Transfer-Encoding: base64\r\n'
    b'Content-Disposition: attachment; filename="ehcp.pdf"\r\n\r\n'
    + base64.encodebytes(b"%PDF-1.4 " * 200).replace(b"\n", b"\r\n"),
    "header_line_100k": HEAD + b"Subject: " + b"long " * 20_000 + b"\r\n\r\nZorvanth long\r\n",
    "nul_bytes": HEAD + b"Subject: nul\x00here\r\n\r\nZor\x00vanth \x00 nul\r\n",
    "bad_base64": HEAD + b"Subject: b64\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64===\r\nWm9y\r\n",
    "bad_encoded_words": HEAD + b"Subject: =?utf-8?b?!!!?= =?utf-8?q?=ZZ?= =?bogus?x?y?=\r\n"
    b"\r\nZorvanth words\r\n",
    "cr_only_lines": HEAD.replace(b"\r\n", b"\r") + b"Subject: cr\r\rZorvanth cr\r",
}


@pytest.mark.parametrize("name", sorted(ODD))
def test_parser_never_raises(name: str):
    parsed = parse_message(ODD[name])
    assert "\x00" not in parsed.text and "\n" not in parsed.subject
    parsed.readable()


def test_parser_reads_what_can_be_read():
    assert "Zorvanth" in parse_message(ODD["nested_200"]).text
    assert "Caf" in parse_message(ODD["unknown_charset"]).text
    html = parse_message(ODD["only_html"]).text
    assert "Only HTML Zorvanth&co" in html and "x()" not in html and "<" not in html
    attachment = parse_message(ODD["only_attachment"])
    assert [a.filename for a in attachment.attachments] == ["ehcp.pdf"]
    assert "[Attachment not kept: ehcp.pdf" in attachment.readable()
    assert parse_message(ODD["eight_bit_headers"]).sender.value == "odd@example.org"
    assert "Zorvanth" in parse_message(ODD["nul_bytes"]).text.replace("\x00", "")


async def test_server_accepts_or_refuses_each_cleanly_and_stays_up(mail_gateway: MailGateway):
    gw = mail_gateway
    for name, raw in sorted(ODD.items()):
        code, text = await gw.send(raw, mail_from="odd@example.org")
        assert code == 250, f"{name}: {code} {text}"
    # 20 MB attachment: refused with 552 whether or not the client announced the size.
    big = parent_mail("See attached.")
    big.add_attachment(b"\x00" * (20 * 1024 * 1024), maintype="application", subtype="zip")
    assert (await gw.send(big))[0] == 552
    assert (await gw.send(big, size=True))[0] == 552
    assert (await gw.send(parent_mail("Still up?", sender="after@example.org")))[0] == 250
    async with gw.services.db.sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Conversation)) == 0
