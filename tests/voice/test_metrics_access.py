"""/metrics shows when a concern has just been raised, so it is for the monitoring system only:
a bearer token when INTAKE_METRICS_TOKEN is set, else this machine alone."""

from __future__ import annotations

from unittest.mock import Mock

from aiohttp.test_utils import make_mocked_request

from intake.app import _may_read_metrics
from tests.voice.conftest import Gateway


def _request(peer: str, authorization: str | None = None):
    transport = Mock()
    transport.get_extra_info = lambda name, default=None: (
        (peer, 40000) if name == "peername" else default
    )
    headers = {"Authorization": authorization} if authorization else {}
    return make_mocked_request("GET", "/metrics", headers=headers, transport=transport)


def test_with_a_token_only_its_bearer_may_read():
    token = "s3cret-metrics-token-0123456789"
    assert _may_read_metrics(_request("203.0.113.9", f"Bearer {token}"), token)
    assert not _may_read_metrics(_request("203.0.113.9"), token)
    assert not _may_read_metrics(_request("127.0.0.1"), token)  # loopback needs it too
    assert not _may_read_metrics(_request("203.0.113.9", f"Bearer {token}x"), token)
    assert not _may_read_metrics(_request("203.0.113.9", token), token)


def test_without_a_token_only_this_machine_may_read():
    assert _may_read_metrics(_request("127.0.0.1"), None)
    assert _may_read_metrics(_request("::1"), None)
    assert not _may_read_metrics(_request("203.0.113.9"), None)
    assert not _may_read_metrics(_request("10.0.0.5", "Bearer anything"), None)


async def test_a_refusal_is_a_plain_403(gateway: Gateway):
    from intake.app import SERVICES

    settings = gateway.services.settings
    app_settings = gateway.server.app[SERVICES].settings
    assert app_settings is settings
    settings_token = "t0ken-for-this-test-0123456789"
    object.__setattr__(settings, "metrics_token", settings_token)
    async with gateway.session.get(gateway.url + "/metrics") as response:
        assert response.status == 403
        assert "intake_" not in await response.text()
    headers = {"Authorization": f"Bearer {settings_token}"}
    async with gateway.session.get(gateway.url + "/metrics", headers=headers) as response:
        assert response.status == 200
        assert "intake_concerns_open" in await response.text()
