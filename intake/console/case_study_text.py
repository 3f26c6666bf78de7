"""The text of a case study: what was said in a conversation, in order, under plain headings,
with every identifying detail replaced by a placeholder - and the same check run again on the
text an adviser has edited, so a name typed back in is removed before anything is downloaded.

Why its own module: the preview page and the download must agree on what counts as the case
study, and the check after editing must know every name and school the conversation held (a
name the parent gave in one message is looked for in all of them, and in the edited text).
No aiohttp here: this is text in, text out.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from nlp.redact import Redacted, learn, placeholders_in, redact_marked
from storage.case_studies import ADVISER, CaseStudySource

HEADINGS = {"parent": "From the parent:", "caller": "What the caller said:", ADVISER: "Reply:"}
_HEADING = re.compile(
    r"^(?:" + "|".join(re.escape(h) for h in HEADINGS.values()) + r")[ \t]*$", re.MULTILINE
)
# The service's own note of an attachment it did not keep: its file name can name the child.
_ATTACHMENT = re.compile(r"^\[Attachment not kept: .*\]$\n?", re.MULTILINE)


@dataclass(frozen=True)
class Piece:
    """A run of text as the page shows it: plain, or a placeholder and what it replaced."""

    text: str
    kind: str | None = None  # "NAME", "SCHOOL", ... for a placeholder
    again: bool = False  # removed by the check of the edited text


@dataclass(frozen=True)
class Section:
    heading: str | None  # None for text an adviser wrote before the first heading
    body: Redacted
    rechecked: bool = False

    def pieces(self) -> list[Piece]:
        """The body cut at every placeholder, old or new, for the page to mark."""
        new = {(f.start, f.end) for f in self.body.placeholders} if self.rechecked else set()
        out, last = [], 0
        for found in placeholders_in(self.body.text):
            if found.start > last:
                out.append(Piece(self.body.text[last : found.start]))
            span = self.body.text[found.start : found.end]
            out.append(Piece(span, found.kind, (found.start, found.end) in new))
            last = found.end
        if last < len(self.body.text):
            out.append(Piece(self.body.text[last:]))
        return out


@dataclass(frozen=True)
class CaseStudyText:
    sections: tuple[Section, ...]

    @property
    def text(self) -> str:
        """What the download holds: each heading on its own line, then what was said."""
        blocks = [
            f"{s.heading}\n{s.body.text}" if s.heading else s.body.text for s in self.sections
        ]
        return "\n\n".join(b.strip("\n") for b in blocks if b.strip()) + "\n"

    def removed(self) -> Counter[str]:
        """Placeholders put in by this redaction, by kind."""
        return Counter(f.kind for s in self.sections for f in s.body.placeholders)

    def placeholders(self) -> Counter[str]:
        """Every placeholder the text holds, by kind (those an adviser kept included)."""
        return Counter(f.kind for s in self.sections for f in placeholders_in(s.body.text))


def said(source: CaseStudySource) -> list[tuple[str, str]]:
    """(heading, text) of every message a case study is made from, in order."""
    out = []
    for message in source.said:
        text = _ATTACHMENT.sub("", message.text).strip()
        if text:
            voice = message.by == "parent" and source.channel == "voice"
            out.append((HEADINGS["caller" if voice else message.by], text))
    return out


def draft(source: CaseStudySource) -> CaseStudyText:
    """The first version: the messages redacted together, each under its heading."""
    headed = said(source)
    known = learn([text for _, text in headed], source.known_names)
    return CaseStudyText(
        tuple(
            Section(heading, redact_marked(text, known.names, known.schools))
            for heading, text in headed
        )
    )


def recheck(edited: str, source: CaseStudySource) -> CaseStudyText:
    """The edited text checked again, with everything the conversation taught about names and
    schools. The headings stay as they are; everything between them is checked."""
    edited = edited.replace("\r\n", "\n").replace("\r", "\n")
    headed: list[tuple[str | None, str]] = []
    last, heading = 0, None
    for match in _HEADING.finditer(edited):
        headed.append((heading, edited[last : match.start()]))
        heading, last = match.group().strip(), match.end()
    headed.append((heading, edited[last:]))
    headed = [(h, t.strip("\n")) for h, t in headed if h is not None or t.strip()]
    original = [s.text for s in source.said]
    known = learn([*original, *(t for _, t in headed)], source.known_names)
    return CaseStudyText(
        tuple(
            Section(heading, redact_marked(text, known.names, known.schools), rechecked=True)
            for heading, text in headed
        )
    )


def counts(found: Counter[str], prefix: str) -> dict[str, int]:
    """Counts for an audit entry: {"removed": 3, "removed_name": 2, "removed_school": 1}."""
    out = {prefix: sum(found.values())}
    out.update({f"{prefix}_{kind.lower()}": n for kind, n in sorted(found.items())})
    return out
