"""The live feed (server-sent events): a client that hangs up straight away leaves no error
in the log and no listener behind."""

from __future__ import annotations

import gc
import logging

import pytest
from fastapi.testclient import TestClient

from kupol.bootstrap import Container
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_client_that_hangs_up_at_once_leaves_no_error_and_no_listener(
    api: TestClient, container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    headers = login_as(api, container, "olga", "operator")
    for _ in range(3):
        with api.stream("GET", "/api/stream", headers=headers) as response:
            assert response.status_code == 200
    gc.collect()  # an unclosed feed is closed by the event loop when it is collected
    assert api.get("/api/me", headers=headers).status_code == 200  # the loop runs once more

    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == []
    assert container.live.clients == 0
