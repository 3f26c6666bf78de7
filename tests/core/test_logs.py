"""Logging keeps to opaque fields: nothing else gets through, whatever a caller passes."""

from __future__ import annotations

import json
import logging

from intake.logs import JsonFormatter, log_event


def test_log_event_drops_unknown_fields_and_redacts_personal_looking_values(caplog):
    logger = logging.getLogger("intake.test")
    caplog.set_level(logging.INFO)
    log_event(
        logger,
        "turn",
        channel="voice",
        text="my son Theo",
        phone="+447911123456",
        conversation_id="abc123",
        reason="parent@example.org",
    )
    record = caplog.records[-1]
    assert record.fields == {
        "channel": "voice",
        "conversation_id": "abc123",
        "reason": "<redacted>",
    }
    line = json.loads(JsonFormatter().format(record))
    assert line["event"] == "turn" and "Theo" not in json.dumps(line)


def test_formatter_never_prints_exception_messages():
    try:
        raise ValueError("parent said: my address is 1 Acacia Avenue")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "intake.x", logging.ERROR, __file__, 1, "failed", None, sys.exc_info()
        )
    line = JsonFormatter().format(record)
    assert "Acacia" not in line and json.loads(line)["error"] == "ValueError"


def test_third_party_messages_with_arguments_are_not_formatted():
    record = logging.LogRecord(
        "aiohttp.server",
        logging.ERROR,
        __file__,
        1,
        "Error handling request from %s",
        ("parent@example.org",),
        None,
    )
    line = JsonFormatter().format(record)
    assert "parent@example.org" not in line


PERSONAL = (
    "+447911123456",
    "07911 123456",
    "07911123456",
    "12 Acacia Avenue, Leeds LS6 2AB",
    "Jo Parent",
    "jo",
    "Theo",
    "parent@example.org",
)


def test_personal_data_handed_to_any_field_never_reaches_a_log(caplog):
    """A phone number, an address or a name passed as any field's value, by mistake, is never
    logged: every field has a type (id, enum, number, error class, route...)."""
    from intake.logs import FIELD_TYPES

    logger = logging.getLogger("intake.test")
    caplog.set_level(logging.INFO)
    for field in FIELD_TYPES:
        for value in PERSONAL:
            log_event(logger, "turn", **{field: value})
    lines = "\n".join(JsonFormatter().format(r) for r in caplog.records)
    for value in PERSONAL:
        if value in ("jo",):  # a lower-case word is a valid enum value; names are capitalised
            continue
        assert value not in lines, value
    for digits in ("7911123456", "7911 123456", "Acacia", "LS6"):
        assert digits not in lines


def test_typed_fields_keep_what_operators_need(caplog):
    logger = logging.getLogger("intake.test")
    caplog.set_level(logging.INFO)
    log_event(
        logger,
        "alert_sent",
        concern_id="9f2c4e0d1b7a4c3e8f6a5b4c3d2e1f00",
        channel="sms",
        slot="primary",
        status=204,
        error="TimeoutError",
        route="/twilio/voice/consent",
        method="POST",
        host="127.0.0.1",
        port=8080,
        database="sqlite+aiosqlite",
        version="risk-lr-6c09742f8673",
        reason="no_relay_configured",
    )
    fields = caplog.records[-1].fields
    assert "<redacted>" not in fields.values(), fields
