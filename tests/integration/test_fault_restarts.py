"""Faults under load: NATS and PostgreSQL stopped (cleanly and by a crash) and started again
while a producer publishes camera events through JetStream and a consumer node records them
into PostgreSQL (the scenarios are in tests/faults.py; the servers are throw-away ones on
their own ports). Each asserts on counts: sent = stored + reported-rejected, every
acknowledged event stored exactly once, nothing refused stored, and the clients back by
themselves. ``bench/fault_restarts.py`` runs the same longer and prints the figures."""

from __future__ import annotations

import signal

import pytest

from tests.conftest import _truncate_postgres
from tests.faults import ACK_WAIT_S, Figures, nats_restart, postgres_restart
from tests.servers import missing

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _servers() -> None:
    reason = missing()
    if reason is not None:
        pytest.skip(f"throw-away servers cannot run here: {reason}")


def assert_nothing_lost(f: Figures) -> None:
    print(f)  # the figures, for -s
    assert f.sent > 0 and f.acked > 0
    assert f.lost == 0, f"{f.lost} acknowledged events not stored"
    assert f.duplicates == 0, f"{f.duplicates} events stored twice"
    assert f.rejected_but_stored == 0, "events reported refused were stored all the same"
    assert f.sent == f.stored + f.rejected
    # Stored soon: at worst a message handed out as the server went down comes again after
    # the consumer's ack wait.
    assert f.drained_s < ACK_WAIT_S + 5


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
async def test_a_nats_restart_under_load_loses_no_acknowledged_event(
    how: signal.Signals, postgres_database: str
) -> None:
    _truncate_postgres(postgres_database)
    f = await nats_restart(database_url=postgres_database, how=how, down_s=3.0)
    assert_nothing_lost(f)
    # Down 3 s, longer than the publish time-out (2 s): the producer felt it.
    assert f.rejected + f.resent > 0
    # Both clients reconnected by themselves and the stream flows again.
    assert f.producer_back_s is not None and f.producer_back_s < 5
    assert f.consumer_back_s is not None and f.consumer_back_s < 5


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_a_postgres_restart_under_load_loses_no_event_and_the_api_answers_503_meanwhile(
    mode: str,
) -> None:
    f = await postgres_restart(mode=mode, down_s=3.0)
    assert_nothing_lost(f)
    assert f.rejected == 0  # the bus stayed up: every publish was accepted
    # The recorder held what it could not store and stored it once the database was back.
    assert f.consumer_back_s is not None and f.consumer_back_s < 10
    # The API: a clear 503 while the database was down, answers again after it.
    statuses = {status for _, status in f.api}
    assert statuses <= {200, 503}, f"unexpected answers: {sorted(statuses)}"
    assert 503 in statuses
    assert f.api_problem is not None and f.api_problem["title"] == "Service unavailable"
    assert f.api_problem.get("code") == "database_unavailable"
    assert f.api_back_s is not None and f.api_back_s < 5
