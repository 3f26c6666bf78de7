"""The files behind a SQLite connection: which database file it names, and its WAL synced.

Why apart: the writer's place (storage.sqlite_writer) is shared by every connection to one
file, and the driver (storage.sqlite_driver) syncs that file's WAL after each commit; both must
agree on what "one file" is, however the path was spelled.
"""

from __future__ import annotations

import os


def database_file(database: str) -> str | None:
    """The real path of the database file a connection opens; None for one in memory."""
    in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
    if in_memory or "mode=memory" in database:
        return None
    return os.path.realpath(database.removeprefix("file:").split("?", 1)[0])


def wal_file(database: str) -> str | None:
    """The WAL file beside a database file (None in memory)."""
    found = database_file(database)
    return None if found is None else found + "-wal"


def sync_wal(path: str, directory: bool) -> None:
    """On the connection's thread: the WAL's committed frames to disk (and, the first time, the
    directory that holds it, so the file itself survives a power cut)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:  # no WAL: folded into the main file, which SQLite synced
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    if directory:
        fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
