"""The live feed sends event details only to those allowed to read events."""

from __future__ import annotations

from kupol.api.stream import visible_to
from kupol.core.auth import Principal
from kupol.core.live import LiveMessage


def person(*roles: str) -> Principal:
    return Principal(user_id=1, username="u", full_name="", roles=roles, locale="ru")


def test_event_details_go_to_operators_but_not_to_administrators() -> None:
    recorded = LiveMessage(type="CameraEventsRecorded", data="{}")
    alert = LiveMessage(type="AlertChanged", data="{}")

    assert visible_to(person("operator"), recorded)
    assert not visible_to(person("admin"), recorded)
    assert visible_to(person("admin"), alert)
    assert visible_to(person("admin"), None)  # heartbeats
