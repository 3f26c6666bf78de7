"""The words the service says, versioned, so every consent record can name what a parent heard.

Why files: the wording is the administrator's, not the programmer's, and a changed sentence must
be a new version, never an edit that makes old consent records point at words nobody saw.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from storage.values import Channel, ConsentMethod

WORDING_DIR = Path(__file__).resolve().parent / "wording"
REQUIRED = (
    "greeting",
    "consent_question_voice",
    "consent_reprompt_voice",
    "consented_voice",
    "declined_voice",
    "no_answer_voice",
    "how_can_we_help",
    "risk_handover",
    "adviser_handover",
    "notice_title",
    "notice",
    "consent_question_email",
    "declined_email",
    "nothing_held_email",
    "check_answer_email",
    "reminder_email",
    "withdrawn_web",
    "withdraw_button",
    "email_concern_opening",
    "out_of_hours_handover",
    "consent_question_web",
    "consent_button_yes",
    "consent_button_no",
    "notice_offer_voice",
    "notice_ask_address",
    "notice_confirm",
    "notice_queued",
    "notice_not_understood",
    "see_what_we_hold",
    "callback_offer",
    "callback_booked",
    "advisers_available",
    "write_to_us",
    "no_adviser_free",
    "trying_someone_else",
    "failsafe",
    "goodbye",
    "email_link_line",
    "email_danger_line",
    "email_expired_line",
    "email_expired_help",
    "retention_line",
    "retention_line_unset",
    "story_heard_voice",
    "before_handover",
    "noted",
    "callback_offer_unrecorded",
)


class WordingError(ValueError):
    """A wording file is missing a text or does not parse."""


@dataclass(frozen=True)
class Wording:
    version: str
    texts: dict[str, str]

    def __getitem__(self, key: str) -> str:
        return self.texts[key]

    def for_service(self, hold_seconds: float, retention_days: int | None = None) -> Wording:
        """The texts with this installation's settings filled in (how long mail is held, how
        long records are kept), so consent records keep exactly what the parent read."""
        period = period_words(hold_seconds)
        if retention_days:
            kept = self.texts["retention_line"].replace(
                "{retention_period}", retention_words(retention_days)
            )
        else:
            kept = self.texts["retention_line_unset"]
        return Wording(
            self.version,
            {
                k: v.replace("{hold_period}", period).replace("{retention}", kept)
                for k, v in self.texts.items()
            },
        )

    def consent_text(self, channel: Channel | str, method: ConsentMethod | None = None) -> str:
        """The exact words a parent is shown when asked for consent on this channel (and, for
        the consent link's page, with that page's question and buttons)."""
        if str(channel) == Channel.VOICE:
            return f"{self['greeting']}\n{self['consent_question_voice']}"
        notice = f"{self['notice_title']}\n\n{self['notice']}"
        if method is ConsentMethod.WEB_PAGE:
            buttons = f"[{self['consent_button_yes']}] [{self['consent_button_no']}]"
            return f"{notice}\n\n{self['consent_question_web']}\n{buttons}"
        # the question first, the details after: a parent reads the first lines
        return f"{self['consent_question_email']}\n\n{notice}"


_NUMBERS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def period_words(seconds: float) -> str:
    """How long a held email is kept, as a parent reads it: "seven days", "12 hours"."""
    days, hours = int(seconds // 86_400), int(seconds // 3_600)
    if days >= 1 and seconds % 86_400 == 0:
        count, unit = days, "day"
    elif hours >= 1:
        count, unit = hours, "hour"
    else:
        count, unit = max(1, int(seconds // 60)), "minute"
    number = _NUMBERS[count - 1] if count <= len(_NUMBERS) else str(count)
    return f"{number} {unit}{'s' if count != 1 else ''}"


def retention_words(days: int) -> str:
    """A retention period as a parent reads it: "two years", "six months", "90 days"."""
    for size, unit in ((365, "year"), (30, "month")):
        if days >= size and days % size == 0:
            count = days // size
            number = _NUMBERS[count - 1] if count <= len(_NUMBERS) else str(count)
            return f"{number} {unit}{'s' if count != 1 else ''}"
    return f"{days} day{'s' if days != 1 else ''}"


def load_wording(path: Path) -> Wording:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise WordingError(f"{path.name}: {exc}") from None
    missing = [key for key in REQUIRED if not isinstance(data.get(key), str) or not data[key]]
    if missing or not data.get("version"):
        raise WordingError(f"{path.name}: missing {', '.join(missing) or 'version'}")
    return Wording(str(data["version"]), {k: v for k, v in data.items() if k != "version"})


@cache
def current_wording(directory: Path = WORDING_DIR) -> Wording:
    """The latest version in the wording directory (file names sort by version)."""
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise WordingError(f"no wording files in {directory.name}/")
    return load_wording(files[-1])
