"""The purge worker: what must not outlive its purpose is deleted on time. A parent who never
answers leaves nothing once the hold's TTL has passed; webhook answers and the automatic-reply
counts go after their short lives too."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping

from intake.logs import log_event
from intake.metrics import Metrics

log = logging.getLogger("intake.purge")

Purge = Callable[[], Awaitable[int]]


async def purge_once(purges: Mapping[str, Purge], metrics: Metrics | None = None) -> int:
    """Run each purge once (named, for the log and the counter); returns how many rows went."""
    total = 0
    for name, purge in purges.items():
        purged = await purge()
        total += purged
        if purged:
            log_event(log, "purged", kind=name, count=purged)
            if metrics is not None:
                metrics.count("intake_purged_total", purged, kind=name)
    return total


async def run_purge_worker(
    purges: Mapping[str, Purge],
    interval: float,
    stop: asyncio.Event,
    metrics: Metrics | None = None,
) -> None:
    """Purge every `interval` seconds until `stop` is set; errors are retried next time."""
    while not stop.is_set():
        try:
            await purge_once(purges, metrics)
        except Exception as exc:  # noqa: BLE001 - a database blip must not kill the worker
            log_event(log, "purge_failed", logging.WARNING, error=type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
