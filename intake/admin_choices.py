"""The office hours and the wording as the running service uses them: the admin's choices in the
console over the defaults (INTAKE_OFFICE_HOURS, the wording files), picked up without a restart.

Why live views: the voice adapter, the mail replies, the alerter and the core were each handed
one OfficeHours and one Wording when the process started. They keep those objects; what the
objects say follows the database. A change made in this process is used at once; one made in
another process within REFRESH_SECONDS (the refresh worker reads two small tables).

Which wording is current: the version whose name sorts last, from the files and the database
together (names added in the console always sort after every existing one). Consent records
name that version, and keep its words.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from intake.core.wording import Wording, WordingError, latest, wording_from
from intake.logs import log_event
from intake.voice.hours import OfficeHours, Window
from storage.admin_settings import AdminSettings, SavedHours
from storage.database import Database
from storage.values import utcnow

log = logging.getLogger("intake.admin_choices")
REFRESH_SECONDS = 10.0


class LiveHours(OfficeHours):
    """The office hours in force now: an OfficeHours whose every answer is the current one's."""

    def __init__(self, current: OfficeHours) -> None:  # noqa: D107 - no dataclass fields set
        object.__setattr__(self, "_current", current)

    def use(self, current: OfficeHours) -> None:
        object.__setattr__(self, "_current", current)

    @property
    def current(self) -> OfficeHours:
        return self._current

    @property
    def windows(self) -> tuple[Window, ...]:  # type: ignore[override]
        return self._current.windows

    @property
    def zone(self) -> ZoneInfo:  # type: ignore[override]
        return self._current.zone

    @property
    def text(self) -> str:  # type: ignore[override]
        return self._current.text

    @property
    def holidays(self) -> frozenset[date]:  # type: ignore[override]
        return self._current.holidays


class LiveWording(Wording):
    """The current wording (with this installation's settings filled in): a Wording whose
    version, texts and review date are the current version's."""

    def __init__(self, current: Wording) -> None:  # noqa: D107 - no dataclass fields set
        object.__setattr__(self, "_current", current)

    def use(self, current: Wording) -> None:
        object.__setattr__(self, "_current", current)

    @property
    def version(self) -> str:  # type: ignore[override]
        return self._current.version

    @property
    def texts(self) -> dict[str, str]:  # type: ignore[override]
        return self._current.texts

    @property
    def review_by(self) -> date | None:  # type: ignore[override]
        return self._current.review_by


@dataclass(frozen=True)
class VersionRow:
    """One version as the admin's list shows it."""

    wording: Wording  # as written, the settings not yet filled in
    source: str  # "file" or "console"
    added_by: str | None = None
    added_at: datetime | None = None


class AdminChoices:
    """The hours and wording in force, kept in step with what the admin saved."""

    def __init__(
        self,
        db: Database,
        default_hours: OfficeHours,
        file_versions: list[Wording],
        *,
        hold_seconds: float,
        retention_days: int | None,
    ) -> None:
        self.store = AdminSettings(db)
        self.default_hours = default_hours
        self.file_versions = file_versions
        self._fill = (hold_seconds, retention_days)
        self.hours = LiveHours(default_hours)
        self.saved_hours: SavedHours | None = None
        base = latest(file_versions)
        self.wording = LiveWording(base.for_service(*self._fill))
        self._seen: dict[str, date] | None = None
        self.added: list[VersionRow] = []

    async def refresh(self) -> None:
        """Read the admin's hours and wording versions; use them if they changed."""
        saved = await self.store.office_hours()
        if saved != self.saved_hours:
            self.saved_hours = saved
            self.hours.use(self._hours_from(saved))
        names = await self.store.wording_names()
        if names != self._seen:
            stored = await self.store.wording_versions()
            rows = []
            for one in stored:
                try:
                    data = {**one.texts, "version": one.version}
                    found = wording_from(data, f"version {one.version}", one.review_by)
                except WordingError as exc:  # a row this code cannot use: the files still serve
                    log_event(log, "wording_unusable", logging.WARNING, error=type(exc).__name__)
                    continue
                rows.append(VersionRow(found, "console", one.created_by, one.created_at))
            self.added, self._seen = rows, names
            current = latest([*self.file_versions, *(r.wording for r in rows)])
            self.wording.use(current.for_service(*self._fill))

    def _hours_from(self, saved: SavedHours | None) -> OfficeHours:
        if saved is None:
            return self.default_hours
        days = {day: hours for day, hours in saved.days.items() if hours is not None}
        return OfficeHours.from_days(days, self.default_hours.zone.key, self.default_hours.holidays)

    def versions(self) -> list[VersionRow]:
        """Every version, oldest first; the last is current."""
        rows = [VersionRow(w, "file") for w in self.file_versions] + self.added
        return sorted(rows, key=lambda r: r.wording.version)

    def base_wording(self) -> Wording:
        """The current version as written (placeholders such as {retention} still in it)."""
        return self.versions()[-1].wording

    def review_warning(self, today: date | None = None) -> str | None:
        """For the admin's banner: the current wording is past its yearly review (today in the
        service's own zone)."""
        today = today or utcnow().astimezone(self.hours.zone).date()
        current = self.wording
        if current.review_by is None or not current.review_overdue(today):
            return None
        return (
            f"The service's wording was due for review on {current.review_by:%-d %B %Y} "
            f"(version {current.version}): review it and add a new version under Wording."
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Refresh every REFRESH_SECONDS until `stop`; a database blip is tried again."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), REFRESH_SECONDS)
            if stop.is_set():
                return
            try:
                await self.refresh()
            except Exception as exc:  # noqa: BLE001 - the last known choices stay in force
                error = type(exc).__name__
                log_event(log, "admin_choices_refresh_failed", logging.WARNING, error=error)
