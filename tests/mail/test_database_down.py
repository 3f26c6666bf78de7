"""With the database stopped, SMTP answers 451 (the sender keeps the mail and retries); once the
database is back, the same message is accepted and held. A private throwaway PostgreSQL
cluster is started for this, so the shared server is never touched."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.values import Contact
from tests.conftest import DPO
from tests.mail.conftest import Relay, mail_settings, parent_mail, running_gateway
from tests.private_postgres import PrivatePostgres

pytestmark = pytest.mark.slow


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
        sar = await gw.services.records.access.export(Contact.email("b@example.org"), *DPO)
        assert len(sar["pending_hold"]) == 1
        assert "Quillonfrey" in sar["pending_hold"][0]["texts"][0]
        await relay.wait_for(2)
