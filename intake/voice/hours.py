"""Office hours: when a caller can be put through to an adviser rather than offered a call-back.

Format (INTAKE_OFFICE_HOURS): day ranges and times, e.g. "Mon-Fri 09:00-17:00" or
"Mon-Thu 09:00-17:00, Fri 09:00-16:30". Times are local to INTAKE_TIMEZONE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_PART = re.compile(
    r"^\s*(?P<d1>[a-z]{3})(?:-(?P<d2>[a-z]{3}))?\s+(?P<t1>\d{1,2}:\d{2})-(?P<t2>\d{1,2}:\d{2})\s*$"
)


class HoursError(ValueError):
    """INTAKE_OFFICE_HOURS or INTAKE_TIMEZONE cannot be understood."""


@dataclass(frozen=True)
class OfficeHours:
    windows: tuple[tuple[int, time, time], ...]  # (weekday, opens, closes)
    zone: ZoneInfo
    text: str

    @classmethod
    def parse(cls, spec: str, zone: str) -> OfficeHours:
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise HoursError(f"unknown time zone {zone!r}") from None
        windows = []
        for part in spec.lower().split(","):
            match = _PART.match(part)
            if not match or match["d1"] not in DAYS or (match["d2"] and match["d2"] not in DAYS):
                raise HoursError(f"office hours {spec!r}: expected e.g. 'Mon-Fri 09:00-17:00'")
            first = DAYS.index(match["d1"])
            last = DAYS.index(match["d2"]) if match["d2"] else first
            try:
                opens = time.fromisoformat(match["t1"].zfill(5))
                closes = time.fromisoformat(match["t2"].zfill(5))
            except ValueError:
                raise HoursError(f"office hours {spec!r}: bad time") from None
            if closes <= opens or last < first:
                raise HoursError(f"office hours {spec!r}: a range ends before it starts")
            windows.extend((day, opens, closes) for day in range(first, last + 1))
        return cls(tuple(windows), tz, spec)

    def open_at(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        now = local.time()
        return any(
            day == local.weekday() and opens <= now < closes for day, opens, closes in self.windows
        )

    def spoken(self) -> str:
        """How a person would say the hours on the phone."""
        names = {
            "mon": "Monday",
            "tue": "Tuesday",
            "wed": "Wednesday",
            "thu": "Thursday",
            "fri": "Friday",
            "sat": "Saturday",
            "sun": "Sunday",
        }
        out = []
        for part in self.text.lower().split(","):
            match = _PART.match(part)
            if match:
                days = names[match["d1"]] + (f" to {names[match['d2']]}" if match["d2"] else "")
                out.append(f"{days}, {_clock(match['t1'])} to {_clock(match['t2'])}")
        return "; ".join(out)


def _clock(hhmm: str) -> str:
    """ "09:00" as people say and write it: "9am"; "17:30": "5:30pm"; "12:00": "12 noon"."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    if (hour, minute) == (12, 0):
        return "12 noon"
    suffix = "am" if hour < 12 else "pm"
    shown = hour % 12 or 12
    return f"{shown}{suffix}" if minute == 0 else f"{shown}:{minute:02d}{suffix}"
