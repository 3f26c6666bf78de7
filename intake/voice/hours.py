"""Office hours: when a caller can be put through to an adviser rather than offered a call-back.

Format (INTAKE_OFFICE_HOURS): day ranges and times, e.g. "Mon-Fri 09:00-17:00" or
"Mon-Thu 09:00-17:00, Fri 09:00-16:30". Times are local to INTAKE_TIMEZONE. The admin may set
the hours day by day in the console instead (they replace INTAKE_OFFICE_HOURS once saved).

The office is closed on the UK's bank holidays (INTAKE_BANK_HOLIDAYS: england-and-wales by
default, scotland or northern-ireland), from the list the govuk-bank-holidays package ships:
never fetched at run time, so a call is never held up by the network and the hours cannot
change because a web site did. Past the last year in that list only the weekly hours apply,
until the package is upgraded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DIVISIONS = ("england-and-wales", "scotland", "northern-ireland")
_PART = re.compile(
    r"^\s*(?P<d1>[a-z]{3})(?:-(?P<d2>[a-z]{3}))?\s+(?P<t1>\d{1,2}:\d{2})-(?P<t2>\d{1,2}:\d{2})\s*$"
)
Window = tuple[int, time, time]  # (weekday, opens, closes)


class HoursError(ValueError):
    """INTAKE_OFFICE_HOURS, the admin's hours or INTAKE_TIMEZONE cannot be understood."""


@cache
def bank_holidays(division: str = "england-and-wales") -> frozenset[date]:
    """The bank holidays of one part of the UK, from the package's bundled copy only."""
    from govuk_bank_holidays.bank_holidays import BankHolidays

    if division not in DIVISIONS:
        raise HoursError(f"unknown part of the UK for bank holidays: {division!r}")
    # use_cached_holidays: the copy inside the package; without it, it would ask GOV.UK
    known = BankHolidays(use_cached_holidays=True).get_holidays(division=division)
    return frozenset(h["date"] for h in known)


def zone_named(zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise HoursError(f"unknown time zone {zone!r}") from None


@dataclass(frozen=True)
class OfficeHours:
    windows: tuple[Window, ...]
    zone: ZoneInfo
    text: str
    holidays: frozenset[date] = frozenset()

    @classmethod
    def parse(cls, spec: str, zone: str, holidays: frozenset[date] = frozenset()) -> OfficeHours:
        tz = zone_named(zone)
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
        return cls(tuple(sorted(windows)), tz, spec, holidays)

    @classmethod
    def from_days(
        cls,
        days: Mapping[int, tuple[time, time]],
        zone: str,
        holidays: frozenset[date] = frozenset(),
    ) -> OfficeHours:
        """The admin's hours: one opening and closing time per weekday (0 is Monday) that is
        open; a day not given is closed."""
        tz = zone_named(zone)
        for day, (opens, closes) in days.items():
            if day not in range(7):
                raise HoursError(f"no such weekday: {day}")
            if closes <= opens:
                raise HoursError(f"{DAY_NAMES[day]} closes before it opens")
        windows = tuple(sorted((day, o, c) for day, (o, c) in days.items()))
        return cls(windows, tz, _spec(windows), holidays)

    def open_at(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        if local.date() in self.holidays:
            return False
        now = local.time()
        return any(
            day == local.weekday() and opens <= now < closes for day, opens, closes in self.windows
        )

    def by_day(self) -> dict[int, tuple[tuple[time, time], ...]]:
        """Each open weekday's opening times."""
        found: dict[int, tuple[tuple[time, time], ...]] = {}
        for day, opens, closes in self.windows:
            found[day] = (*found.get(day, ()), (opens, closes))
        return found

    def spoken(self) -> str:
        """How a person would say the hours on the phone: days with the same hours together,
        "Monday to Friday, 9am to 5pm", and that bank holidays are closed."""
        groups = _groups(self.by_day())
        out = []
        for first, last, times in groups:
            days = DAY_NAMES[first] + (f" to {DAY_NAMES[last]}" if last != first else "")
            said = " and ".join(f"{_clock(o)} to {_clock(c)}" for o, c in times)
            out.append(f"{days}, {said}")
        text = "; ".join(out)
        return f"{text}, except on bank holidays" if text and self.holidays else text


def _groups(
    by_day: dict[int, tuple[tuple[time, time], ...]],
) -> list[tuple[int, int, tuple[tuple[time, time], ...]]]:
    """Runs of consecutive weekdays with the same hours: (first, last, hours)."""
    groups: list[tuple[int, int, tuple[tuple[time, time], ...]]] = []
    for day in sorted(by_day):
        times = by_day[day]
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == times:
            groups[-1] = (groups[-1][0], day, times)
        else:
            groups.append((day, day, times))
    return groups


def _spec(windows: tuple[Window, ...]) -> str:
    """Windows in INTAKE_OFFICE_HOURS form, e.g. "Mon-Fri 09:00-17:00"."""
    by_day: dict[int, tuple[tuple[time, time], ...]] = {}
    for day, opens, closes in windows:
        by_day[day] = (*by_day.get(day, ()), (opens, closes))
    parts = []
    for first, last, times in _groups(by_day):
        days = DAYS[first].title() + (f"-{DAYS[last].title()}" if last != first else "")
        parts.extend(f"{days} {o:%H:%M}-{c:%H:%M}" for o, c in times)
    return ", ".join(parts)


def _clock(moment: time) -> str:
    """09:00 as people say and write it: "9am"; 17:30: "5:30pm"; 12:00: "12 noon"."""
    hour, minute = moment.hour, moment.minute
    if (hour, minute) == (12, 0):
        return "12 noon"
    suffix = "am" if hour < 12 else "pm"
    shown = hour % 12 or 12
    return f"{shown}{suffix}" if minute == 0 else f"{shown}:{minute:02d}{suffix}"
