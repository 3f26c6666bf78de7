"""One Settings object read from the environment (see DESIGN.md, "Operator interface")."""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from storage.crypto import KEY_FILE_NAME, Keyring, load_or_create_secret, read_old_secret
from storage.values import InvalidContact, normalise_phone


class SettingsError(ValueError):
    """The environment asks for something that cannot work; the message says what."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 2525
    public_url: str = "http://127.0.0.1:8080"
    mail_address: str = "help@pps.example.org"
    smtp_relay: str | None = None
    mail_extra_addresses: tuple[str, ...] = ()
    mail_max_bytes: int = 10 * 1024 * 1024
    smtp_tls_cert: str | None = None
    smtp_tls_key: str | None = None
    secret_key: str | None = field(default=None, repr=False)
    old_secret_key: str | None = field(default=None, repr=False)  # readable while rotating
    escalate_after: timedelta = timedelta(seconds=300)
    pending_ttl: timedelta = timedelta(seconds=604800)
    purge_interval: float = 60.0
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = field(default=None, repr=False)
    twilio_phone_number: str | None = None
    twilio_api_url: str = "https://api.twilio.com"
    log_level: str = "INFO"
    adviser_number: str | None = None
    office_hours: str = "Mon-Fri 09:00-17:00"
    timezone: str = "Europe/London"
    risk_model: Path | None = None  # the packaged model file unless INTAKE_RISK_MODEL says
    risk_workers: int = 2  # processes `intake serve` assesses longer texts in (0: in its own)
    metrics_token: str | None = field(default=None, repr=False)
    mail_authserv_id: str | None = None  # the upstream server's Authentication-Results id
    decline_reply_ttl: timedelta = timedelta(seconds=3600)
    require_mfa: frozenset[str] = frozenset()  # roles that must use a second factor
    service_phone: str | None = None  # given in every email to a parent
    childrens_services_number: str | None = None  # given to a parent who disclosed risk
    out_of_hours_number: str | None = None  # where 0 reaches out of hours
    retention_days: int | None = None  # closed conversations older than this are purged
    # Decided safeguarding concerns older than this are purged; none: kept until deleted (see
    # concern_retention below for why there is no default).
    concern_retention_days: int | None = None
    bank_holidays: str = "england-and-wales"  # whose bank holidays close the office
    emergency_message: str = (
        "Nobody from our safeguarding team can answer just now. They have been told, and someone"
        " will call you back today. If a child is in danger now, call 999."
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("INTAKE_DATA_DIR") or "./var").expanduser().resolve()
        url = env.get("INTAKE_DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'intake.db'}"
        return cls(
            data_dir=data_dir,
            database_url=url,
            http_host=env.get("INTAKE_HTTP_HOST") or "127.0.0.1",
            http_port=_int(env, "INTAKE_HTTP_PORT", 8080),
            smtp_host=env.get("INTAKE_SMTP_HOST") or "127.0.0.1",
            smtp_port=_int(env, "INTAKE_SMTP_PORT", 2525),
            public_url=(env.get("INTAKE_PUBLIC_URL") or "http://127.0.0.1:8080").rstrip("/"),
            mail_address=env.get("INTAKE_MAIL_ADDRESS") or "help@pps.example.org",
            smtp_relay=env.get("INTAKE_SMTP_RELAY") or None,
            mail_extra_addresses=tuple(
                a.strip()
                for a in (env.get("INTAKE_MAIL_EXTRA_ADDRESSES") or "").split(",")
                if a.strip()
            ),
            mail_max_bytes=_int(env, "INTAKE_MAIL_MAX_BYTES", 10 * 1024 * 1024),
            smtp_tls_cert=env.get("INTAKE_SMTP_TLS_CERT") or None,
            smtp_tls_key=env.get("INTAKE_SMTP_TLS_KEY") or None,
            secret_key=env.get("INTAKE_SECRET_KEY") or None,
            old_secret_key=env.get("INTAKE_OLD_SECRET_KEY") or None,
            escalate_after=timedelta(seconds=_int(env, "INTAKE_ESCALATE_AFTER", 300)),
            pending_ttl=timedelta(seconds=_int(env, "INTAKE_PENDING_TTL", 604800)),
            purge_interval=float(_int(env, "INTAKE_PURGE_INTERVAL", 60)),
            twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
            twilio_auth_token=env.get("TWILIO_AUTH_TOKEN") or None,
            twilio_phone_number=env.get("TWILIO_PHONE_NUMBER") or None,
            twilio_api_url=(env.get("INTAKE_TWILIO_API_URL") or "https://api.twilio.com").rstrip(
                "/"
            ),
            log_level=(env.get("INTAKE_LOG_LEVEL") or "INFO").upper(),
            adviser_number=_phone(env, "INTAKE_ADVISER_NUMBER"),
            office_hours=env.get("INTAKE_OFFICE_HOURS") or cls.office_hours,
            timezone=env.get("INTAKE_TIMEZONE") or cls.timezone,
            emergency_message=env.get("INTAKE_EMERGENCY_MESSAGE") or cls.emergency_message,
            risk_model=Path(env["INTAKE_RISK_MODEL"]) if env.get("INTAKE_RISK_MODEL") else None,
            risk_workers=_int(env, "INTAKE_RISK_WORKERS", 2),
            metrics_token=env.get("INTAKE_METRICS_TOKEN") or None,
            mail_authserv_id=env.get("INTAKE_MAIL_AUTHSERV_ID") or None,
            decline_reply_ttl=timedelta(seconds=_int(env, "INTAKE_DECLINE_REPLY_TTL", 3600)),
            require_mfa=_roles(env, "INTAKE_REQUIRE_MFA"),
            service_phone=_phone(env, "INTAKE_SERVICE_PHONE"),
            childrens_services_number=_phone(env, "INTAKE_CHILDRENS_SERVICES_NUMBER"),
            out_of_hours_number=_phone(env, "INTAKE_OUT_OF_HOURS_NUMBER"),
            retention_days=_int(env, "INTAKE_RETENTION_DAYS", 0) or None,
            concern_retention_days=concern_retention(env),
            bank_holidays=_division(env),
        )

    @property
    def uses_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def prepare_data_dir(self) -> int:
        """Create the data directory (0700) and check it is writable, or say clearly why not.

        Whatever existed before, everything the service writes is for its own user only: the
        process umask becomes 077, and files already in the directory that others could read
        are made 0600 (directories 0700). Returns how many modes were tightened."""
        os.umask(0o077)
        try:
            self.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise SettingsError(
                f"cannot create the data directory {self.data_dir}: {exc.strerror}"
            ) from None
        fixed = _tighten(self.data_dir)
        probe = self.data_dir / f".write-probe-{os.getpid()}"
        try:
            probe.write_bytes(b"")
            probe.unlink()
        except OSError:
            raise SettingsError(f"the data directory {self.data_dir} is not writable") from None
        return fixed

    @property
    def key_file(self) -> Path | None:
        """The generated key file, when the secret key is not given in the environment."""
        return None if self.secret_key else self.data_dir / KEY_FILE_NAME

    def keyring(self) -> Keyring:
        """The current key and, during `intake rotate-key`, the one being retired."""
        if self.secret_key:
            old = self.old_secret_key
            secret = self.secret_key
        else:
            self.refuse_key_beside_database()
            old = self.old_secret_key or read_old_secret(self.data_dir)
            secret = load_or_create_secret(self.data_dir)
        return Keyring.from_secret(secret, [old] if old else [])

    def refuse_key_beside_database(self, server_data_dir: str | None = None) -> None:
        """On PostgreSQL the key must not live with the database (its directory or backups):
        whoever runs the database must not be able to read what parents wrote. The embedded
        SQLite default keeps both in ./var for trying the service on one machine."""
        if self.uses_sqlite or self.secret_key:
            return
        place = self.data_dir.resolve()
        holders = [p for p in (place, *place.parents) if (p / "PG_VERSION").exists()]
        if server_data_dir:
            server = Path(server_data_dir).resolve()
            if place == server or server in place.parents:
                holders.append(server)
        if holders:
            raise SettingsError(
                f"the secret key file would be kept in {place}, inside the PostgreSQL data "
                f"directory {holders[0]}: set INTAKE_SECRET_KEY from the council's secret store "
                "(or move INTAKE_DATA_DIR away from the database)"
            )


def _tighten(root: Path) -> int:
    """Modes 0700/0600 for the directory and everything in it (not following links)."""
    fixed = 0
    for path in (root, *root.rglob("*")):
        try:
            info = path.lstat()
        except OSError:
            continue
        if stat.S_ISLNK(info.st_mode):
            continue
        wanted = 0o700 if stat.S_ISDIR(info.st_mode) else 0o600
        if stat.S_IMODE(info.st_mode) & ~wanted:
            try:
                path.chmod(wanted)
                fixed += 1
            except OSError:
                continue  # not ours to change (a read-only mount): the write probe says so
    return fixed


def concern_retention(env: Mapping[str, str]) -> int | None:
    """INTAKE_CONCERN_RETENTION_DAYS, never shorter than INTAKE_RETENTION_DAYS.

    No default: a safeguarding record may be needed long after the conversation (local
    safeguarding procedures commonly keep child-protection records until the child is 25, and
    inquiries have asked that records of possible abuse are not destroyed), and the service
    does not know the child's age. So decided concerns are kept until the council sets a
    period; an open or undecided concern is never purged."""
    days = _int(env, "INTAKE_CONCERN_RETENTION_DAYS", 0) or None
    conversations = _int(env, "INTAKE_RETENTION_DAYS", 0) or None
    if days and conversations and days < conversations:
        raise SettingsError(
            f"INTAKE_CONCERN_RETENTION_DAYS ({days}) must not be shorter than "
            f"INTAKE_RETENTION_DAYS ({conversations}): safeguarding concerns are kept longer"
        )
    return days


def _division(env: Mapping[str, str]) -> str:
    from intake.voice.hours import DIVISIONS

    raw = (env.get("INTAKE_BANK_HOLIDAYS") or "england-and-wales").strip().lower()
    if raw not in DIVISIONS:
        raise SettingsError(
            f"INTAKE_BANK_HOLIDAYS must be one of {', '.join(DIVISIONS)}, not {raw!r}"
        )
    return raw


def _roles(env: Mapping[str, str], name: str) -> frozenset[str]:
    from storage.values import Role

    given = {r.strip() for r in (env.get(name) or "").split(",") if r.strip()}
    unknown = given - {r.value for r in Role}
    if unknown:
        allowed = ", ".join(r.value for r in Role)
        raise SettingsError(f"{name} names unknown roles {sorted(unknown)}; choose from {allowed}")
    return frozenset(given)


def _phone(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name)
    if not raw:
        return None
    try:
        return normalise_phone(raw)
    except InvalidContact:
        raise SettingsError(f"{name} is not a phone number: {raw!r}") from None


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative")
    return value
