"""Strip quoted replies and signatures from an email body, keeping only the new text.

Risk must be judged on what the parent wrote now, not on our own quoted advice (whose
footer mentions "a child at risk of harm") nor on a thread's old messages. The caller
decides what to pass; this helper cuts at the first sign of quoted history:

* lines starting with ``>`` (and everything after the first block of them),
* an attribution line "On <date>, <someone> wrote:" (possibly wrapped over two lines),
* Outlook's "-----Original Message-----" or a "From: ... / Sent: ..." header block,
* a "-- " signature separator, and mobile footers such as "Sent from my iPhone".

If nothing is left (a bare forward), the whole text is returned: better to assess old text
than nothing. Sign-offs ("Thanks, Jo") are left in: they are short, harmless, and a parent sometimes
writes the most important sentence after "Thanks".
"""

from __future__ import annotations

import re

_ATTRIBUTION = re.compile(r"^\s*On\b.{0,200}\bwrote:\s*$", re.IGNORECASE)
_ATTRIBUTION_START = re.compile(r"^\s*On\s.{0,200}$", re.IGNORECASE)
_WROTE_END = re.compile(r"^.{0,200}\bwrote:\s*$", re.IGNORECASE)
_ORIGINAL = re.compile(r"^\s*-{2,}\s*(Original Message|Forwarded message)\s*-{2,}\s*$", re.I)
_HEADER = re.compile(r"^\s*(From|De|Von):\s+\S", re.IGNORECASE)
_HEADER_NEXT = re.compile(r"^\s*(Sent|Date|To|Subject|Envoyé|Gesendet):\s", re.IGNORECASE)
_SIGNATURE = re.compile(r"^-- ?$")
_MOBILE = re.compile(
    r"^\s*(Sent from my \w+|Sent from (Outlook|Mail|Yahoo Mail)|Get Outlook for \w+)", re.I
)
_UNDERSCORES = re.compile(r"^_{10,}\s*$")


def strip_quoted_reply(text: str) -> str:
    """Return the new text of an email body, without quoted history or signature."""
    if not text:
        return ""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _first_quote_line(lines)
    kept = lines[:cut]
    while kept and not kept[-1].strip():
        kept.pop()
    if not kept:
        # Nothing new above the quote (a bare forward): assess all of it rather than nothing.
        return text
    return "\n".join(kept)


def adds_nothing(text: str) -> bool:
    """Only quoted history or a signature, with nothing written above it: a reply that says
    nothing of its own (unlike strip_quoted_reply, no fallback to the whole text)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return not any(line.strip() for line in lines[: _first_quote_line(lines)])


def _first_quote_line(lines: list[str]) -> int:
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">"):
            return i
        if _ATTRIBUTION.match(line) or _ORIGINAL.match(line) or _UNDERSCORES.match(line):
            return i
        if _SIGNATURE.match(line) or _MOBILE.match(line):
            return i
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if (
            _ATTRIBUTION_START.match(line)
            and not line.rstrip().endswith(".")
            and _WROTE_END.match(nxt)
        ):
            return i
        if _HEADER.match(line) and any(_HEADER_NEXT.match(x) for x in lines[i + 1 : i + 4]):
            return i
    return len(lines)
