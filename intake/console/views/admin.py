"""Staff accounts and the on-call rota, for the admin."""

from __future__ import annotations

from aiohttp import web


def register(router: web.UrlDispatcher) -> None:
    """The admin's routes."""
