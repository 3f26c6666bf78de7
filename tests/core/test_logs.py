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
