"""The alert engine: matching events raise alerts; repeats within the cooldown join them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from kupol.alerts.messages import AlertChanged
from kupol.alerts.model import AlertEvent
from kupol.alerts.schemas import AlertRead, AlertRuleCreate
from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth import Principal
from kupol.events.messages import CameraEventObserved
from tests.conftest import demo_camera

pytestmark = pytest.mark.usefixtures("fast_passwords")
T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


def observed(seconds: float = 0, **fields: Any) -> CameraEventObserved:
    values: dict[str, Any] = {
        "camera_id": "cam-a",
        "type": "motion",
        "confidence": 0.9,
        "occurred_at": T0 + timedelta(seconds=seconds),
    }
    values.update(fields)
    return CameraEventObserved(**values)


def record(container: Container, *events: CameraEventObserved) -> list[AlertChanged]:
    return [m for m in container.recorder.record(list(events)) if isinstance(m, AlertChanged)]


def alerts(container: Container, operator: Principal) -> list[AlertRead]:
    """Alerts, oldest first."""
    return sorted(container.alerts.list_alerts(actor=operator), key=lambda a: a.id)


@pytest.fixture
def setup(container: Container, admin: Principal, operator: Principal) -> Container:
    for camera_id in ("cam-a", "cam-b"):
        container.cameras.register(camera=CameraCreate(**demo_camera(camera_id)), actor=admin)
    container.alerts.create_rule(
        actor=operator,
        rule=AlertRuleCreate(
            name="motion on the road", severity="high", event_types=["motion"], cooldown_s=60
        ),
    )
    return container


def test_a_matching_event_raises_an_alert_with_the_rules_severity(
    setup: Container, operator: Principal
) -> None:
    event = observed(zone="road")

    (change,) = record(setup, event)

    (alert,) = alerts(setup, operator)
    assert (change.change, change.alert_id, change.rule_name) == (
        "raised",
        alert.id,
        "motion on the road",
    )
    assert (alert.status, alert.severity, alert.event_count) == ("open", "high", 1)
    assert (alert.first_event_id, alert.zone, alert.raised_at) == (event.id, "road", T0)


def test_an_event_no_rule_matches_raises_nothing(setup: Container, operator: Principal) -> None:
    assert record(setup, observed(type="person")) == []
    assert alerts(setup, operator) == []


def test_events_within_the_cooldown_join_the_open_alert(
    setup: Container, operator: Principal
) -> None:
    first, second, third = observed(0), observed(30), observed(85)  # 55 s after the second

    changes = [c.change for e in (first, second, third) for c in record(setup, e)]

    (alert,) = alerts(setup, operator)
    assert changes == ["raised", "repeated", "repeated"]
    assert alert.event_count == 3
    assert alert.last_event_at == T0 + timedelta(seconds=85)
    with setup.db.reader() as session:
        linked = set(
            session.scalars(select(AlertEvent.event_id).where(AlertEvent.alert_id == alert.id))
        )
    assert linked == {first.id, second.id, third.id}


def test_an_event_after_the_cooldown_raises_a_new_alert(
    setup: Container, operator: Principal
) -> None:
    record(setup, observed(0))

    (change,) = record(setup, observed(61))

    assert change.change == "raised"
    assert [a.event_count for a in alerts(setup, operator)] == [1, 1]


def test_events_of_one_batch_are_grouped_too(setup: Container, operator: Principal) -> None:
    changes = record(setup, observed(0), observed(10), observed(20))

    assert [c.change for c in changes] == ["raised", "repeated", "repeated"]
    assert [c.event_count for c in changes] == [1, 2, 3]
    (alert,) = alerts(setup, operator)
    assert (alert.id, alert.event_count) == (changes[0].alert_id, 3)
    assert alert.last_event_at == T0 + timedelta(seconds=20)
    with setup.db.reader() as session:
        linked = session.scalars(select(AlertEvent.alert_id)).all()
    assert linked == [alert.id] * 3


def test_each_camera_gets_its_own_alert(setup: Container, operator: Principal) -> None:
    record(setup, observed(0), observed(1, camera_id="cam-b"))

    assert sorted(a.camera_id for a in alerts(setup, operator)) == ["cam-a", "cam-b"]


def test_events_about_another_subject_raise_their_own_alert(
    setup: Container, operator: Principal
) -> None:
    """A second wanted car at the camera within the cooldown is an alert of its own; the
    first car seen again joins its alert, in one batch or the next."""
    first = record(
        setup,
        observed(0, subject="plate:123ABC02"),
        observed(5, subject="plate:777KKK17"),
        observed(10, subject="plate:123ABC02"),
    )
    assert [c.change for c in first] == ["raised", "raised", "repeated"]
    (again,) = record(setup, observed(40, subject="plate:777KKK17"))
    assert (again.change, again.alert_id) == ("repeated", first[1].alert_id)
    (plain,) = record(setup, observed(41))  # an event that names nothing: its own alert
    assert plain.change == "raised"
    assert [a.event_count for a in alerts(setup, operator)] == [2, 2, 1]
    with setup.db.reader() as session:
        from kupol.alerts.model import Alert

        stored = session.scalars(select(Alert.subject).order_by(Alert.id)).all()
    assert stored[2] == "" and len(set(stored)) == 3
    assert {len(s) for s in stored[:2]} == {32}  # fixed-length keys


def test_an_acknowledged_alert_still_gathers_repeats(setup: Container, operator: Principal) -> None:
    (raised,) = record(setup, observed(0))
    asyncio.run(setup.alerts.acknowledge(alert_id=raised.alert_id, actor=operator))

    (change,) = record(setup, observed(20))

    assert (change.change, change.alert_id, change.status) == (
        "repeated",
        raised.alert_id,
        "acknowledged",
    )


def test_a_closed_alert_is_not_reopened_by_a_repeat(setup: Container, operator: Principal) -> None:
    (raised,) = record(setup, observed(0))
    asyncio.run(
        setup.alerts.close(alert_id=raised.alert_id, comment="false alarm: a dog", actor=operator)
    )

    (change,) = record(setup, observed(20))

    assert change.change == "raised"
    assert change.alert_id != raised.alert_id


def test_a_late_event_from_long_before_the_alert_raises_its_own(
    setup: Container, operator: Principal
) -> None:
    record(setup, observed(600))

    (change,) = record(setup, observed(0))

    assert change.change == "raised"


def test_a_rule_without_cooldown_raises_an_alert_per_event(
    container: Container, admin: Principal, operator: Principal
) -> None:
    container.cameras.register(camera=CameraCreate(**demo_camera("cam-a")), actor=admin)
    container.alerts.create_rule(rule=AlertRuleCreate(name="every", cooldown_s=0), actor=operator)

    events = [observed(0), observed(1), observed(2)]
    changes = record(container, *events)

    assert [c.change for c in changes] == ["raised", "raised", "raised"]
    # each notice names its own stored alert, the one its event raised
    stored = {a.id: a for a in alerts(container, operator)}
    assert len(stored) == 3 and {c.alert_id for c in changes} == set(stored)
    assert [stored[c.alert_id].first_event_id for c in changes] == [e.id for e in events]
    assert [stored[c.alert_id].raised_at for c in changes] == [e.occurred_at for e in events]
    with container.db.reader() as session:
        links = set(session.execute(select(AlertEvent.alert_id, AlertEvent.event_id)).tuples())
    assert links == {(c.alert_id, e.id) for c, e in zip(changes, events, strict=True)}


def test_a_disabled_rule_raises_nothing_until_enabled_again(
    setup: Container, operator: Principal
) -> None:
    [rule] = [r for r in setup.alerts.list_rules() if r.name == "motion on the road"]

    setup.alerts.set_rule_enabled(rule_id=rule.id, enabled=False, actor=operator)
    assert record(setup, observed(0)) == []

    setup.alerts.set_rule_enabled(rule_id=rule.id, enabled=True, actor=operator)
    assert [c.change for c in record(setup, observed(1))] == ["raised"]


def test_every_matching_rule_raises_its_own_alert(setup: Container, operator: Principal) -> None:
    setup.alerts.create_rule(
        rule=AlertRuleCreate(name="anything on cam-a", camera_ids=["cam-a"]), actor=operator
    )

    changes = record(setup, observed(0))

    assert sorted(c.rule_name for c in changes) == ["anything on cam-a", "motion on the road"]
