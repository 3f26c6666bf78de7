"""A call on a bank holiday, as the caller hears it: no adviser is there, so they are told the
hours (bank holidays included) and offered a call-back; hours the admin saves apply to the very
next call."""

from __future__ import annotations

from datetime import UTC, datetime, time

from tests.voice.conftest import ADVISER, Gateway

BOXING_DAY_MOVED = datetime(2026, 12, 28, 11, 0, tzinfo=UTC)  # Monday, a bank holiday
SATURDAY_MORNING = datetime(2027, 1, 9, 10, 30, tzinfo=UTC)


async def _ask_for_a_person(gateway: Gateway, caller: str):  # noqa: ANN202
    call = gateway.call(caller)
    how = await call.answer(await call.start(), digits="1")
    offer = await call.answer(how, speech="I need help with my son's school transport")
    return await call.answer(offer, digits="2")  # no notice by email, thanks


async def test_on_a_bank_holiday_the_caller_hears_the_hours_and_is_offered_a_call_back(
    gateway: Gateway,
):
    gateway.clock[0] = BOXING_DAY_MOVED
    after = await _ask_for_a_person(gateway, "+447911555031")
    assert after.dial_number is None
    assert "Monday to Friday, 9am to 5pm, except on bank holidays" in after.spoken
    assert "call you back" in after.spoken


async def test_hours_the_admin_saves_apply_to_the_next_call(gateway: Gateway):
    services = gateway.services
    gateway.clock[0] = SATURDAY_MORNING
    assert (await _ask_for_a_person(gateway, "+447911555032")).dial_number is None
    admin = await services.staff.add("ada@council.example", "Ada Admin", "admin", None)
    await services.choices.store.save_office_hours({5: (time(10), time(12))}, admin.id)
    await services.choices.refresh()
    put_through = await _ask_for_a_person(gateway, "+447911555033")
    assert put_through.dial_number == ADVISER
