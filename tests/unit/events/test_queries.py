"""Searching and viewing events: a stated purpose is required and every look is audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest
from sqlalchemy import select

from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraCreate
from kupol.core.audit import AuditEntry
from kupol.core.auth import Principal
from kupol.core.errors import NotFoundError, PermissionDeniedError, PurposeRequiredError
from kupol.events.messages import CameraEventObserved, EvidenceRef
from kupol.events.queries import EventFilter, Justification
from tests.conftest import add_user, demo_camera

T0 = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
WHY = Justification(purpose="проверка по КУСП", case_number="KUSP-2026-17", client="10.1.1.1")

pytestmark = pytest.mark.usefixtures("fast_passwords")


def observed(**fields: Any) -> CameraEventObserved:
    values: dict[str, Any] = {
        "camera_id": "cam-a",
        "type": "motion",
        "confidence": 0.9,
        "occurred_at": T0,
    }
    values.update(fields)
    return CameraEventObserved(**values)


def audit_of(container: Container, action: str) -> list[AuditEntry]:
    with container.db.reader() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)
            )
        )


@pytest.fixture
def events(container: Container, admin: Principal) -> list[CameraEventObserved]:
    for camera_id in ("cam-a", "cam-b"):
        container.cameras.register(camera=CameraCreate(**demo_camera(camera_id)), actor=admin)
    batch = [
        observed(zone="road"),
        observed(camera_id="cam-b", occurred_at=T0 + timedelta(minutes=1), confidence=0.4),
        observed(
            type="person",
            occurred_at=T0 + timedelta(minutes=2),
            evidence=(
                EvidenceRef(
                    kind="snapshot", uri="cam-a/1.jpg", sha256="a" * 64, media_type="image/jpeg"
                ),
            ),
        ),
    ]
    container.recorder.record(batch)
    return batch


@pytest.mark.parametrize("purpose", ["", "   ", "abc"])
def test_a_look_up_needs_a_stated_purpose(purpose: str) -> None:
    with pytest.raises(PurposeRequiredError) as caught:
        Justification(purpose=purpose)

    assert caught.value.status == 428


def test_a_search_is_audited_with_its_purpose_case_number_and_filters(
    container: Container, operator: Principal, events: list[CameraEventObserved]
) -> None:
    found = container.events.search(
        filters=EventFilter(camera_id="cam-a", zone="road"), actor=operator, why=WHY
    )

    (entry,) = audit_of(container, "search")
    assert (entry.actor, entry.resource_type) == ("operator", "camera_event")
    assert (entry.purpose, entry.case_number, entry.client) == (
        "проверка по КУСП",
        "KUSP-2026-17",
        "10.1.1.1",
    )
    assert entry.details == {
        "camera_id": "cam-a",
        "zone": "road",
        "limit": "100",
        "results": [str(e.id) for e in found],
    }
    assert len(found) >= 1, "the audit entry must name the events that were shown"


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (EventFilter(), [2, 1, 0]),
        (EventFilter(camera_id="cam-b"), [1]),
        (EventFilter(type="person"), [2]),
        (EventFilter(zone="road"), [0]),
        (EventFilter(min_confidence=0.5), [2, 0]),
        (EventFilter(since=T0 + timedelta(minutes=1)), [2, 1]),
        (EventFilter(until=T0 + timedelta(minutes=1)), [0]),
        (EventFilter(limit=1), [2]),
    ],
)
def test_search_filters_and_orders_newest_first(
    container: Container,
    operator: Principal,
    events: list[CameraEventObserved],
    filters: EventFilter,
    expected: list[int],
) -> None:
    found = container.events.search(filters=filters, actor=operator, why=WHY)

    assert [e.id for e in found] == [events[i].id for i in expected]


def test_viewing_an_event_is_audited_even_when_it_does_not_exist(
    container: Container, operator: Principal, events: list[CameraEventObserved]
) -> None:
    shown = container.events.get(event_id=events[0].id, actor=operator, why=WHY)
    missing = uuid4()
    with pytest.raises(NotFoundError):
        container.events.get(event_id=missing, actor=operator, why=WHY)

    assert shown.zone == "road"
    assert [e.resource_id for e in audit_of(container, "view")] == [str(events[0].id), str(missing)]


def test_viewing_evidence_is_audited_with_its_index(
    container: Container, operator: Principal, events: list[CameraEventObserved]
) -> None:
    ref = container.events.evidence(event_id=events[2].id, index=0, actor=operator, why=WHY)

    assert ref["uri"] == "cam-a/1.jpg"
    (entry,) = audit_of(container, "view-evidence")
    assert (entry.resource_id, entry.details, entry.purpose) == (
        str(events[2].id),
        {"index": 0},
        "проверка по КУСП",
    )


def test_evidence_beyond_the_list_is_not_found(
    container: Container, operator: Principal, events: list[CameraEventObserved]
) -> None:
    with pytest.raises(NotFoundError, match="#1"):
        container.events.evidence(event_id=events[2].id, index=1, actor=operator, why=WHY)


def test_roles_without_the_permission_are_refused_before_anything_is_read(
    container: Container, admin: Principal, events: list[CameraEventObserved]
) -> None:
    analyst, _ = add_user(container, "analyst", "analyst")

    with pytest.raises(PermissionDeniedError):
        container.events.search(filters=EventFilter(), actor=admin, why=WHY)
    with pytest.raises(PermissionDeniedError):
        container.events.evidence(event_id=events[2].id, index=0, actor=analyst, why=WHY)

    assert audit_of(container, "search") == []
    assert audit_of(container, "view-evidence") == []
