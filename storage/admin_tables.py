"""The schema of what the admin sets in the console: the office hours, day by day, and the
versions of the service's wording added there.

Why apart from storage.tables: nothing here is a parent's (no ciphertext, no contact); it is the
service's own configuration, kept in the database so every gateway process uses the same hours
and the same wording, and a change needs no restart. Imported by the migrations' environment
and by storage.admin_settings, so one metadata holds the whole schema.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.tables import Base, UTCDateTime


class OfficeHoursDay(Base):
    """One weekday's opening hours (0 is Monday); no times: closed that day. No rows at all:
    INTAKE_OFFICE_HOURS applies."""

    __tablename__ = "office_hours"
    weekday: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    opens: Mapped[str | None] = mapped_column(String(5))  # "09:00", local to INTAKE_TIMEZONE
    closes: Mapped[str | None] = mapped_column(String(5))
    updated_by: Mapped[str] = mapped_column(ForeignKey("staff.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WordingVersion(Base):
    """A version of the wording the admin added: every text (the same keys as a wording file),
    when it is due for review, and who added it. Never changed once added: consent records name
    it and keep the words they were given under."""

    __tablename__ = "wording_versions"
    version: Mapped[str] = mapped_column(String(40), primary_key=True)
    texts: Mapped[dict] = mapped_column(JSON)
    review_by: Mapped[date] = mapped_column(Date)
    based_on: Mapped[str] = mapped_column(String(40))
    created_by: Mapped[str] = mapped_column(ForeignKey("staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
