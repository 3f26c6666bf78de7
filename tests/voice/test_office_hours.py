"""Office hours as a caller meets them: open in the hours, closed on the UK's bank holidays
(from the package's own list, never the network), and said the way a person would say them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from intake.settings import Settings, SettingsError
from intake.voice.hours import HoursError, OfficeHours, bank_holidays

ENGLAND = bank_holidays("england-and-wales")


def hours(spec: str = "Mon-Fri 09:00-17:00", holidays: frozenset[date] = ENGLAND) -> OfficeHours:
    return OfficeHours.parse(spec, "Europe/London", holidays)


def test_a_bank_holiday_is_closed_and_the_next_working_day_open():
    office = hours()
    assert not office.open_at(datetime(2026, 12, 25, 11, tzinfo=UTC))  # Christmas Day, a Friday
    assert not office.open_at(datetime(2026, 12, 28, 11, tzinfo=UTC))  # Boxing Day, moved
    assert office.open_at(datetime(2026, 12, 29, 11, tzinfo=UTC))
    assert not office.open_at(datetime(2027, 5, 3, 11, tzinfo=UTC))  # early May bank holiday
    assert office.open_at(datetime(2027, 5, 4, 11, tzinfo=UTC))


def test_each_part_of_the_uk_has_its_own_bank_holidays():
    scotland = bank_holidays("scotland")
    assert date(2027, 1, 4) in scotland and date(2027, 1, 4) not in ENGLAND  # 2 January, moved
    assert date(2027, 8, 30) in ENGLAND and date(2027, 8, 30) not in scotland
    assert date(2027, 3, 17) in bank_holidays("northern-ireland")  # St Patrick's Day
    assert Settings.from_env({"INTAKE_BANK_HOLIDAYS": "Scotland"}).bank_holidays == "scotland"
    with pytest.raises(SettingsError, match="INTAKE_BANK_HOLIDAYS must be one of"):
        Settings.from_env({"INTAKE_BANK_HOLIDAYS": "wales"})


def test_bank_holidays_come_from_the_package_never_the_network(monkeypatch: pytest.MonkeyPatch):
    import requests

    def no_network(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("the bank holidays were fetched over the network")

    monkeypatch.setattr(requests, "get", no_network)
    monkeypatch.setattr(requests.Session, "request", no_network)
    bank_holidays.cache_clear()
    try:
        assert date(2026, 12, 25) in bank_holidays("england-and-wales")
    finally:
        bank_holidays.cache_clear()


def test_the_hours_are_said_as_a_person_says_them():
    assert hours().spoken() == "Monday to Friday, 9am to 5pm, except on bank holidays"
    assert hours("Mon-Thu 09:00-17:00, Fri 09:00-16:30", frozenset()).spoken() == (
        "Monday to Thursday, 9am to 5pm; Friday, 9am to 4:30pm"
    )
    split = hours("Mon-Fri 09:00-12:00, Mon-Fri 13:00-17:00").spoken()
    assert split == "Monday to Friday, 9am to 12 noon and 1pm to 5pm, except on bank holidays"


def test_the_admins_days_make_the_same_hours_as_the_environment_would():
    nine_to_five = (time(9), time(17))
    admin = OfficeHours.from_days(dict.fromkeys(range(5), nine_to_five), "Europe/London", ENGLAND)
    assert admin.text == "Mon-Fri 09:00-17:00"
    assert admin.spoken() == hours().spoken()
    moment = datetime(2027, 1, 6, 16, 59, tzinfo=UTC)
    assert admin.open_at(moment) == hours().open_at(moment) is True
    with pytest.raises(HoursError, match="Monday closes before it opens"):
        OfficeHours.from_days({0: (time(17), time(9))}, "Europe/London")
