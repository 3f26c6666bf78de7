"""Structured logging that cannot leak what a parent said.

Why an allow-list: logs leave the protected database (to files, to log shippers, to whoever
debugs at 3am). Every line is JSON with a constant event name and only fields named here, whose
values are opaque ids, states or numbers. Anything else handed to log_event is dropped, and any
text field is refused unless it looks like an identifier.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

SAFE_FIELDS = frozenset(
    {
        "channel",
        "turn",
        "state",
        "action",
        "outcome",
        "conversation_id",
        "concern_id",
        "alert_id",
        "outbox_id",
        "thread",
        "severity",
        "count",
        "status",
        "duration_ms",
        "error",
        "route",
        "method",
        "http_status",
        "attempt",
        "worker",
        "version",
        "host",
        "port",
        "database",
        "reason",
        "role",
        "slot",
        "kind",
    }
)
_SAFE_VALUE = re.compile(r"^[A-Za-z0-9_.:/\-+<>@ ]{0,120}$")


def _clean(value: object) -> object:
    if value is None or isinstance(value, bool | int | float):
        return value
    text = str(value)
    return text if _SAFE_VALUE.match(text) and "@" not in text else "<redacted>"


def log_event(
    logger: logging.Logger, event: str, level: int = logging.INFO, **fields: object
) -> None:
    """Log a constant event name with allow-listed, opaque fields only."""
    if not logger.isEnabledFor(level):
        return  # nothing to clean for a line nobody will see
    safe = {k: _clean(v) for k, v in fields.items() if k in SAFE_FIELDS and v is not None}
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
        log_dir.mkdir(parents=True, exist_ok=True)
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
