"""Structured logging that cannot leak what a parent said.

Why an allow-list: logs leave the protected database (to files, to log shippers, to whoever
debugs at 3am). Every line is JSON with a constant event name and only fields named here, whose
values are opaque ids, states or numbers, each of a known shape (FIELD_TYPES). Anything else
handed to log_event is dropped, and a value of the wrong shape is replaced by "<redacted>".
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

_ENUM = re.compile(r"^[a-z][a-z_\-]{0,40}$")  # a state, channel, outcome: no digits, spaces
_ID = re.compile(r"^(?=.*[a-f])[0-9a-f]{6,64}$")  # our ids and hashes: hex, never digits alone
_ERROR = re.compile(
    r"^[A-Z][A-Za-z0-9]*(Error|Exception|Refused|Tag|Timeout|Exit|Unavailable|Disconnected)$"
)
_ROUTE = re.compile(r"^(/[a-z0-9_\-.{}]*){1,8}$")
_HOST = re.compile(
    r"^(localhost|\d{1,3}(\.\d{1,3}){3}|[0-9a-f]*:[0-9a-f:]*|[a-z0-9\-]+(\.[a-z0-9\-]+)+)$"
)
_VERSION = re.compile(r"^(?=.*[a-z.])[a-z0-9][a-z0-9.\-]{0,40}$")
_METHOD = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _matches(pattern: re.Pattern[str]):  # noqa: ANN202
    return lambda value: isinstance(value, str) and pattern.match(value) is not None


_enum, _id = _matches(_ENUM), _matches(_ID)
# Every field a log line may carry, and what its value must look like: ids, enums, numbers,
# exception class names, routes. Anything else, or a value of the wrong shape, never reaches a
# log: a phone number, an address or a name handed to any field is dropped.
FIELD_TYPES = {
    **dict.fromkeys(
        (
            "channel",
            "turn",
            "state",
            "action",
            "outcome",
            "severity",
            "reason",
            "role",
            "slot",
            "kind",
            "worker",
        ),
        _enum,
    ),
    **dict.fromkeys(("conversation_id", "concern_id", "alert_id", "outbox_id", "thread"), _id),
    **dict.fromkeys(("count", "duration_ms", "http_status", "attempt", "port"), _number),
    "status": lambda v: _number(v) or _enum(v),
    "error": _matches(_ERROR),
    "route": _matches(_ROUTE),
    "method": lambda v: v in _METHOD,
    "host": _matches(_HOST),
    "database": _matches(re.compile(r"^[a-z][a-z0-9+]{0,30}$")),
    "version": _matches(_VERSION),
}
SAFE_FIELDS = frozenset(FIELD_TYPES)
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9_.:/\-+<>@ ]{0,120}$")


def _clean(value: object) -> object:
    """For a message that did not come through log_event: a constant-looking template only."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    return text if _SAFE_VALUE.match(text) and "@" not in text else "<redacted>"


def _typed(name: str, value: object) -> object:
    return value if FIELD_TYPES[name](value) else "<redacted>"


def log_event(
    logger: logging.Logger, event: str, level: int = logging.INFO, **fields: object
) -> None:
    """Log a constant event name with allow-listed, opaque fields only."""
    if not logger.isEnabledFor(level):
        return  # nothing to clean for a line nobody will see
    safe = {k: _typed(k, v) for k, v in fields.items() if k in FIELD_TYPES and v is not None}
    logger.log(level, event, extra={"fields": safe})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, event, fields. No tracebacks' locals,
    no exception messages (they can carry data); only the exception type."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.msg if isinstance(record.msg, str) and not record.args else "message",
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        else:
            # Not from log_event: third-party or stray messages may embed data; keep only a
            # constant template, and only if it looks like one.
            line["event"] = _clean(record.msg if isinstance(record.msg, str) else "message")
        if record.exc_info and record.exc_info[0] is not None:
            line["error"] = record.exc_info[0].__name__
        return json.dumps(line, ensure_ascii=True)


def configure_logging(data_dir: Path | None, level: str = "INFO") -> None:
    """Log JSON lines to stderr and, when a data directory is given, to data_dir/logs/intake.log."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    formatter = JsonFormatter()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if data_dir is not None:
        log_dir = data_dir / "logs"
        log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_dir / "intake.log", encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(level)
    for noisy in (
        "aiohttp.access",
        "sqlalchemy",
        "alembic",
        "asyncio",
        "mail.log",
        "twilio",
        "aiosqlite",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
