"""The risk detector in worker processes, so that a long message is assessed off the event loop.

Why: spaCy's tokenizer and the model hold the GIL, so a thread frees nothing; a message of a
few hundred words costs a millisecond or more, and under load that was half of the gateway's
time (bench.mail). A worker loads the same detector (the rules and the same model file) once,
at start, and sends back the Assessment. It keeps nothing: the detector works inside spaCy's
memory zone there as here, and the worker logs nothing. Should a worker fail, die or not be
ready, the text is assessed here instead: a message is never left unassessed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import logging
import multiprocessing
from pathlib import Path
from typing import Any

from nlp.assessment import Assessment

log = logging.getLogger("nlp.workers")

_detector: Any = None  # in a worker: its own detector, loaded by _load


def _load(model_path: str | None) -> None:
    global _detector
    from nlp.risk import get_detector

    _detector = get_detector(Path(model_path) if model_path else None)
    gc.collect()
    gc.freeze()  # what was loaded lives as long as the worker (see intake.app.serve)


def _ready() -> bool:
    return _detector is not None


def _assess(text: str) -> Assessment:
    return _detector.assess(text)


class DetectorWorkers:
    """A detector (`assess`, here) with `assess_elsewhere`, in a worker process."""

    def __init__(self, detector: Any, workers: int, model_path: Path | None = None) -> None:
        self.detector = detector
        self._workers = max(1, workers)
        self._model = str(model_path) if model_path else None
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._ready = False
        self._restarting: asyncio.Task | None = None

    def assess(self, text: str) -> Assessment:
        return self.detector.assess(text)

    async def start(self) -> None:
        """Start the workers and wait until each has loaded the detector (the first message
        must not be the one that waits); if they cannot, texts are assessed here."""
        loop = asyncio.get_running_loop()
        try:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                self._workers,
                mp_context=multiprocessing.get_context("spawn"),  # never fork a running loop
                initializer=_load,
                initargs=(self._model,),
            )
            calls = (loop.run_in_executor(self._pool, _ready) for _ in range(self._workers))
            self._ready = all(await asyncio.gather(*calls))
        except Exception as exc:  # noqa: BLE001 - no workers: assessed here, as before
            log.warning("risk_workers_unavailable", extra={"fields": {"error": type(exc).__name__}})
            self._ready = False

    async def assess_elsewhere(self, text: str) -> Assessment:
        """Assess `text` in a worker; here if no worker can."""
        if not self._ready or self._pool is None:
            return self.detector.assess(text)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, _assess, text)
        except concurrent.futures.process.BrokenProcessPool as exc:
            log.error("risk_worker_died", extra={"fields": {"error": type(exc).__name__}})
            self._ready = False
            if self._restarting is None or self._restarting.done():
                self._restarting = loop.create_task(self._restart())
        except Exception as exc:  # noqa: BLE001 - whatever went wrong there, assess here
            log.error("risk_worker_failed", extra={"fields": {"error": type(exc).__name__}})
        return self.detector.assess(text)

    async def _restart(self) -> None:
        old, self._pool = self._pool, None
        if old is not None:
            old.shutdown(wait=False, cancel_futures=True)
        await self.start()

    def close(self) -> None:
        if self._restarting is not None:
            self._restarting.cancel()
        pool, self._pool, self._ready = self._pool, None, False
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
