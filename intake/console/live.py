"""Live updates for the console's queue: something changed, come and look.

Why this shape: the event carries no personal data at all, only its kind ("concern",
"conversation"), so nothing sensitive crosses a process or sits in a browser's event stream; the
page fetches the queue again with its own session. On PostgreSQL every gateway process hears
every other through LISTEN/NOTIFY; on SQLite there is one process and the feed stays in it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from intake.logs import log_event

log = logging.getLogger("intake.console")
CHANNEL = "intake_console"
KINDS = frozenset({"concern", "conversation"})
END = "end"  # not a change: the stream is closing


class LiveFeed:
    def __init__(self, postgres_dsn: str | None = None) -> None:
        self._dsn = postgres_dsn
        self._subscribers: set[asyncio.Queue[str]] = set()
        self._listener = None  # asyncpg connection LISTENing
        self._sender = None
        self._lock = asyncio.Lock()
        self._ended = False  # the server is stopping: streams end, new ones at once

    async def start(self) -> None:
        if self._dsn is None:
            return
        import asyncpg

        try:
            self._listener = await asyncpg.connect(self._dsn)
            await self._listener.add_listener(CHANNEL, self._heard)
        except (OSError, asyncpg.PostgresError) as exc:
            log_event(log, "live_feed_local_only", error=type(exc).__name__)
            self._listener = None

    async def close(self) -> None:
        self.end_streams()
        for conn in (self._listener, self._sender):
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()

    def publish(self, kind: str) -> None:
        """Tell every console (in every process) that something of this kind changed."""
        if kind not in KINDS:
            raise ValueError(kind)
        if self._listener is None:
            self._fan_out(kind)
            return
        asyncio.get_running_loop().create_task(self._notify(kind))

    async def _notify(self, kind: str) -> None:
        import asyncpg

        try:
            async with self._lock:
                if self._sender is None or self._sender.is_closed():
                    self._sender = await asyncpg.connect(self._dsn)
                await self._sender.execute("SELECT pg_notify($1, $2)", CHANNEL, kind)
        except (OSError, asyncpg.PostgresError) as exc:
            log_event(log, "live_notify_failed", error=type(exc).__name__)
            self._fan_out(kind)  # at least this process's consoles hear it

    def _heard(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        if payload in KINDS:
            self._fan_out(payload)

    def end_streams(self) -> None:
        """The server is stopping: every open event stream ends now, instead of holding the
        shutdown until its browser goes away."""
        self._ended = True  # a stream that opens after this (a request already in) ends too
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(END)

    def _fan_out(self, kind: str) -> None:
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(kind)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue(maxsize=100)
        if self._ended:
            queue.put_nowait(END)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)
