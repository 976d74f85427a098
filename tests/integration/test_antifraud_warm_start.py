"""A restart of the API does not forget what call screening's windows held: the decisions
stored in the last ``[antifraud] warm_start_minutes`` are replayed into them before it serves
(SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from kupol.antifraud.model import CallDecision
from kupol.antifraud.screening import CallAttempt
from kupol.api import create_app
from kupol.bootstrap import Container, build_container
from kupol.core.messages import utcnow
from kupol.settings import Settings
from tests.conftest import add_user, login, make_settings
from tests.unit.factories import fast_passwords

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
CALLER = "+77051234567"


def screen(
    client: TestClient, headers: dict[str, str], call_id: str, called: str, **fields: Any
) -> Any:
    answer = client.post(
        "/api/antifraud/calls/screen",
        json={"call_id": call_id, "caller": CALLER, "called": called, **fields},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


@contextmanager
def serving(
    settings: Settings, *, minutes: float | None = None, first: bool = False
) -> Iterator[tuple[Container, TestClient, dict[str, str]]]:
    """The API on the settings' database — its first start, or a restart replaying the last
    ``minutes`` — with the switch logged in."""
    if minutes is not None:
        settings = settings.model_copy(
            update={
                "antifraud": settings.antifraud.model_copy(update={"warm_start_minutes": minutes})
            }
        )
    container = build_container(settings)
    if first:
        add_user(container, "kcell-switch", "telecom")
    try:
        with TestClient(create_app(container)) as client:
            yield container, client, login(client, "kcell-switch", "kcell-switch-password-123")
    finally:
        container.db.dispose()


def restarted(settings: Settings, minutes: float, call_id: str, **fields: Any) -> list[str]:
    """A new API on the same database (a restart) screens one more call of the caller."""
    with serving(settings, minutes=minutes) as (_, client, switch):
        answer = screen(client, switch, call_id, "+77016009999", **fields)
    return [r["code"] for r in answer["reasons"]]


def stored(container: Container) -> int:
    with container.db.reader() as session:
        return int(session.scalar(select(func.count()).select_from(CallDecision)) or 0)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url=database_url, data_dir=tmp_path / "data")


def test_a_call_centre_caught_before_a_restart_is_still_caught_after_it(
    settings: Settings,
) -> None:
    with serving(settings, first=True) as (_, client, switch):
        for i in range(12):  # twelve people rung in a few seconds
            answer = screen(client, switch, f"A{i}", f"+770160{i:05d}")
        assert "fan_out" in [r["code"] for r in answer["reasons"]]

    # The thirteenth callee after a restart: the twelve before are remembered.
    assert "fan_out" in restarted(settings, 60, "A12")
    # Without the replay the windows start empty, and the call-centre looks new.
    assert "fan_out" not in restarted(settings, 0, "A13")
    # The replay stored nothing: the twelve calls and the two after the restarts.
    with serving(settings, minutes=0) as (container, _, _):
        assert stored(container) == 14


def test_a_subscriber_roaming_abroad_is_replayed_as_one_and_a_spoofed_number_apart(
    settings: Settings,
) -> None:
    with serving(settings, first=True) as (_, client, switch):
        for i in range(12):  # the owner, abroad, rings twelve people at home
            screen(client, switch, f"R{i}", f"+770180{i:05d}", international=True, roaming=True)
        for i in range(3):  # and a gateway abroad shows the same number three times
            screen(client, switch, f"S{i}", f"+770190{i:05d}", international=True)

    # Roaming is read off the stored reasons: the owner's twelve calls are in the owner's
    # windows (not left out, nor counted as the spoofing campaign's).
    reasons = restarted(settings, 60, "R12", international=True, roaming=True)
    assert "fan_out" in reasons and "domestic_on_international" not in reasons


def test_a_screen_that_has_judged_calls_is_not_warmed_again(settings: Settings) -> None:
    container = build_container(settings)
    switch = add_user(container, "kcell-switch", "telecom")[0]
    try:
        calls = container.antifraud.calls
        calls.screen(
            actor=switch,
            attempt=CallAttempt(call_id="W1", at=utcnow(), caller=CALLER, called="+77016000001"),
        )
        assert calls.warm(60) == 0  # its windows hold that call: a replay would count it twice
    finally:
        container.db.dispose()


def test_a_number_taken_off_the_block_list_stays_off_after_the_replay(
    settings: Settings,
) -> None:
    with serving(settings, first=True) as (first, client, switch):
        for i in range(25):  # caught and listed for a day
            answer = screen(client, switch, f"B{i}", f"+770170{i:05d}")
        assert answer["verdict"] == "block"
        # An analyst finds it was a clinic's reminders and takes it off the list.
        analyst = add_user(first, "cyber", "fraud_analyst")[0]
        first.antifraud.calls.remove_from_list(
            actor=analyst, number=CALLER, list_name="block", reason="clinic reminders"
        )

    # The replay catches the pattern again, but lists nothing: the list is the database's.
    reasons = restarted(settings, 60, "B25")
    assert "block_list" not in reasons and "fan_out_heavy" in reasons


def test_after_a_restart_a_retry_is_answered_as_before_and_an_outcome_is_taken(
    settings: Settings,
) -> None:
    with serving(settings, first=True) as (_, client, switch):
        before = screen(client, switch, "T1", "+77016000001", international=True)
        screen(client, switch, "T2", "+77016000002")

    with serving(settings) as (again, client, switch):
        # The switch asks about T1 again (its answer was lost in the restart): the same
        # verdict, and the call is not stored twice.
        retry = screen(client, switch, "T1", "+77016000001", international=True)
        assert (retry["verdict"], retry["reasons"]) == (before["verdict"], before["reasons"])
        # T2 ended after the restart: its outcome is learned, not refused as unknown.
        ended = client.post(
            "/api/antifraud/calls/T2/outcome",
            json={"answered": False, "duration_s": 0},
            headers=switch,
        )
        assert ended.status_code == 204, ended.text
    assert stored(again) == 2
