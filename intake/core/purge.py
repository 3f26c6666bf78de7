"""The purge worker: a parent who never answers leaves nothing once the hold's TTL has passed."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from intake.logs import log_event
from intake.metrics import Metrics
from storage.records import Records

log = logging.getLogger("intake.purge")


async def purge_once(records: Records, metrics: Metrics | None = None) -> int:
    purged = await records.purge_expired()
    if purged:
        log_event(log, "expired_holds_purged", count=purged)
        if metrics is not None:
            metrics.count("intake_holds_purged_total", purged)
    return purged


async def run_purge_worker(
    records: Records, interval: float, stop: asyncio.Event, metrics: Metrics | None = None
) -> None:
    """Purge expired holds every `interval` seconds until `stop` is set; errors are retried."""
    while not stop.is_set():
        try:
            await purge_once(records, metrics)
        except Exception as exc:  # noqa: BLE001 - a database blip must not kill the worker
            log_event(log, "purge_failed", logging.WARNING, error=type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
