"""The words the service says, versioned, so every consent record can name what a parent heard.

Why files: the wording is the administrator's, not the programmer's, and a changed sentence must
be a new version, never an edit that makes old consent records point at words nobody saw.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
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
    review_by: date | None = None  # the policy is reviewed yearly: when this version is due

    def review_overdue(self, today: date) -> bool:
        return self.review_by is not None and today > self.review_by

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
            self.review_by,
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
    review_by = data.pop("review_by", None)
    if review_by is not None and not isinstance(review_by, date):
        raise WordingError(f"{path.name}: review_by must be a date, like 2027-12-01")
    return wording_from(data, path.name, review_by)


def wording_from(data: dict, where: str, review_by: date | None = None) -> Wording:
    """A version from its texts (a file's, or one the admin added), every required text there."""
    missing = [key for key in REQUIRED if not isinstance(data.get(key), str) or not data[key]]
    if missing or not data.get("version"):
        raise WordingError(f"{where}: missing {', '.join(missing) or 'version'}")
    texts = {k: v for k, v in data.items() if k != "version" and isinstance(v, str)}
    return Wording(str(data["version"]), texts, review_by)


def wording_files(directory: Path = WORDING_DIR) -> list[Wording]:
    """Every version in the wording directory, oldest first (file names sort by version)."""
    return [load_wording(path) for path in sorted(directory.glob("*.toml"))]


def latest(versions: list[Wording]) -> Wording:
    """The current version: the one whose name sorts last, wherever it is kept."""
    if not versions:
        raise WordingError("no wording versions")
    return max(versions, key=lambda w: w.version)


def next_version(existing: list[str], today: date) -> str:
    """A name for a new version that sorts after every one there is, in the files' style:
    "2027-01", or "2026-12c" when 2026-12 and 2026-12b exist."""
    taken = set(existing)
    newest = max(taken, default="")
    base = f"{today:%Y-%m}"
    if base not in taken and base > newest:
        return base
    stem = base if base > newest[:7] else newest[:7]
    for letter in "bcdefghijklmnopqrstuvwxyz":
        name = stem + letter
        if name not in taken and name > newest:
            return name
    raise WordingError(f"no version name left for {stem}: add the new version next month")


PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def placeholders(text: str) -> set[str]:
    """The service's settings a text names, like {retention}: filled in for each installation."""
    return set(PLACEHOLDER.findall(text))


@cache
def current_wording(directory: Path = WORDING_DIR) -> Wording:
    """The latest version in the wording directory (file names sort by version)."""
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise WordingError(f"no wording files in {directory.name}/")
    return load_wording(files[-1])
