"""With the database stopped, SMTP answers 451 (the sender keeps the mail and retries); once the
database is back, the same message is accepted and held. A private throwaway PostgreSQL
cluster is started for this, so the shared server is never touched."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.values import Contact
from tests.mail.conftest import Relay, mail_settings, parent_mail, running_gateway

pytestmark = pytest.mark.slow


def _pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivatePostgres:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="intake-pg-"))
        self.data = self.dir / "data"
        self.as_postgres: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            self.as_postgres = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.dir, "postgres", "postgres")
        self.run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.as_postgres, str(self.bindir / tool), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-l",
            str(self.dir / "log"),
            "start",
        )

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_postgres() -> Iterator[PrivatePostgres]:
    bindir = _pg_bin()
    if bindir is None:
        if os.environ.get("CI") or os.environ.get("INTAKE_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL server binaries (pg_ctl, initdb) are required in CI")
        pytest.skip("PostgreSQL server binaries (pg_ctl, initdb) are not installed")
    pg = PrivatePostgres(bindir)
    pg.start()
    try:
        yield pg
    finally:
        pg.destroy()


async def test_database_stopped_means_451_then_accepted_when_back(
    tmp_path: Path, relay: Relay, private_postgres: PrivatePostgres, risk_detector
):
    settings = mail_settings(tmp_path / "var", relay.port, INTAKE_DATABASE_URL=private_postgres.url)
    async with running_gateway(settings, relay, risk_detector) as gw:
        assert (await gw.send(parent_mail("Before the outage", sender="a@example.org")))[0] == 250
        await relay.wait_for(1)

        private_postgres.stop()
        message = parent_mail("During the outage, Quillonfrey", sender="b@example.org")
        for _ in range(2):  # and again: the sender's retry while still down
            code, text = await gw.send(message, mail_from="b@example.org")
            assert code == 451, text

        private_postgres.start()
        code, _ = await gw.send(message, mail_from="b@example.org")
        assert code == 250
        sar = await gw.services.records.access.export(Contact.email("b@example.org"))
        assert len(sar["pending_hold"]) == 1
        assert "Quillonfrey" in sar["pending_hold"][0]["texts"][0]
        await relay.wait_for(2)
