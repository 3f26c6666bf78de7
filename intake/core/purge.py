"""The purge worker: a parent who never answers leaves nothing once the hold's TTL has passed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from intake.logs import log_event
from intake.metrics import Metrics
from storage.records import Records
from storage.values import HeldItem

log = logging.getLogger("intake.purge")


BeforePurge = Callable[[AsyncSession, list[HeldItem]], Awaitable[None]]


async def purge_once(
    records: Records, metrics: Metrics | None = None, before_purge: BeforePurge | None = None
) -> int:
    """Purge expired holds; `before_purge` (a channel's "nothing was kept" reply) runs in the
    purge's transaction."""
    purged = await records.purge_expired(before_purge=before_purge)
    if purged:
        log_event(log, "expired_holds_purged", count=purged)
        if metrics is not None:
            metrics.count("intake_holds_purged_total", purged)
    return purged


async def run_purge_worker(
    records: Records,
    interval: float,
    stop: asyncio.Event,
    metrics: Metrics | None = None,
    before_purge: BeforePurge | None = None,
) -> None:
    """Purge expired holds every `interval` seconds until `stop` is set; errors are retried."""
    while not stop.is_set():
        try:
            await purge_once(records, metrics, before_purge)
        except Exception as exc:  # noqa: BLE001 - a database blip must not kill the worker
            log_event(log, "purge_failed", logging.WARNING, error=type(exc).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
