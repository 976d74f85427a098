"""A restart of the API does not forget what call screening's windows held: the decisions
stored in the last ``[antifraud] warm_start_minutes`` are replayed into them before it serves
(SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kupol.api import create_app
from kupol.bootstrap import build_container
from kupol.settings import Settings
from tests.conftest import add_user, login, make_settings
from tests.unit.factories import fast_passwords

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
CALLER = "+77051234567"


def screen(client: TestClient, headers: dict[str, str], call_id: str, called: str) -> Any:
    answer = client.post(
        "/api/antifraud/calls/screen",
        json={"call_id": call_id, "caller": CALLER, "called": called},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def restarted(settings: Settings, minutes: float, call_id: str) -> list[str]:
    """A new API on the same database (a restart) screens one more call of the caller."""
    again = build_container(
        settings.model_copy(
            update={
                "antifraud": settings.antifraud.model_copy(update={"warm_start_minutes": minutes})
            }
        )
    )
    try:
        with TestClient(create_app(again)) as client:
            switch = login(client, "kcell-switch", "kcell-switch-password-123")
            answer = screen(client, switch, call_id, "+77016009999")
    finally:
        again.db.dispose()
    return [r["code"] for r in answer["reasons"]]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url=database_url, data_dir=tmp_path / "data")


def test_a_call_centre_caught_before_a_restart_is_still_caught_after_it(
    settings: Settings,
) -> None:
    first = build_container(settings)
    add_user(first, "kcell-switch", "telecom")
    try:
        with TestClient(create_app(first)) as client:
            switch = login(client, "kcell-switch", "kcell-switch-password-123")
            for i in range(12):  # twelve people rung in a few seconds
                answer = screen(client, switch, f"A{i}", f"+770160{i:05d}")
            assert "fan_out" in [r["code"] for r in answer["reasons"]]
    finally:
        first.db.dispose()

    # The thirteenth callee after a restart: the twelve before are remembered.
    assert "fan_out" in restarted(settings, 60, "A12")
    # Without the replay the windows start empty, and the call-centre looks new.
    assert "fan_out" not in restarted(settings, 0, "A13")


def test_a_number_taken_off_the_block_list_stays_off_after_the_replay(
    settings: Settings,
) -> None:
    first = build_container(settings)
    add_user(first, "kcell-switch", "telecom")
    analyst = add_user(first, "cyber", "fraud_analyst")[0]
    try:
        with TestClient(create_app(first)) as client:
            switch = login(client, "kcell-switch", "kcell-switch-password-123")
            for i in range(25):  # caught and listed for a day
                answer = screen(client, switch, f"B{i}", f"+770170{i:05d}")
            assert answer["verdict"] == "block"
        # An analyst finds it was a clinic's reminders and takes it off the list.
        first.antifraud.calls.remove_from_list(
            actor=analyst, number=CALLER, list_name="block", reason="clinic reminders"
        )
    finally:
        first.db.dispose()

    # The replay catches the pattern again, but lists nothing: the list is the database's.
    reasons = restarted(settings, 60, "B25")
    assert "block_list" not in reasons and "fan_out_heavy" in reasons
