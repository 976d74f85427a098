"""The live feed sends event details only to those allowed to read events."""

from __future__ import annotations

import json

from kupol.api.stream import visible_to, within
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


def test_a_scoped_user_gets_only_their_cameras_alerts_and_events() -> None:
    mine = frozenset({"cam-1"})
    batch = LiveMessage(
        type="CameraEventsRecorded",
        data=json.dumps({"events": [{"camera_id": "cam-1"}, {"camera_id": "cam-2"}]}),
    )
    others = LiveMessage(type="CameraEventsRecorded", data='{"events": [{"camera_id": "cam-2"}]}')
    alert = LiveMessage(type="AlertChanged", data='{"camera_id": "cam-2"}')

    kept = within(batch, mine)
    assert kept is not None and json.loads(kept.data) == {"events": [{"camera_id": "cam-1"}]}
    assert within(others, mine) is None
    assert within(alert, mine) is None
    assert within(batch, None) is batch and within(alert, None) is alert  # every camera
