"""The second factor (a TOTP code from an authenticator app): setting it up, and entering it
after the password."""

from __future__ import annotations

from aiohttp import web


def register(router: web.UrlDispatcher) -> None:
    """The second factor's routes."""
