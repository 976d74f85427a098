"""The camera registry: registering, changing, and the audit entries it leaves."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraCreate, CameraUpdate, Zone
from kupol.core.audit import AuditEntry
from kupol.core.auth import Principal
from kupol.core.errors import ConflictError, NotFoundError, PermissionDeniedError
from tests.conftest import demo_camera

ROAD = Zone(name="road", polygon=[(0.0, 0.5), (1.0, 0.5), (1.0, 1.0)])

pytestmark = pytest.mark.usefixtures("fast_passwords")


def camera_audit(container: Container) -> list[tuple[str, str, str | None, dict[str, object]]]:
    with container.db.reader() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.resource_type == "camera").order_by(AuditEntry.seq)
        )
        return [(e.actor, e.action, e.resource_id, e.details) for e in rows]


def test_a_registered_camera_reads_back_with_its_zones(
    container: Container, admin: Principal
) -> None:
    container.cameras.register(camera=CameraCreate(**demo_camera(zones=[ROAD])), actor=admin)

    camera = container.cameras.get("cam-test-01")

    assert camera.zones == [ROAD]
    assert camera.created_at.tzinfo is not None
    assert container.cameras.known_ids() == {"cam-test-01"}
    assert camera_audit(container) == [("admin", "create", "cam-test-01", {})]


def test_a_camera_id_is_registered_only_once(container: Container, admin: Principal) -> None:
    container.cameras.register(camera=CameraCreate(**demo_camera()), actor=admin)

    with pytest.raises(ConflictError, match="cam-test-01"):
        container.cameras.register(camera=CameraCreate(**demo_camera(name="Other")), actor=admin)

    assert container.cameras.get("cam-test-01").name == "Camera cam-test-01"


def test_an_update_changes_only_the_given_fields_and_is_audited(
    container: Container, admin: Principal
) -> None:
    container.cameras.register(camera=CameraCreate(**demo_camera(heading_deg=90)), actor=admin)

    updated = container.cameras.update(
        camera_id="cam-test-01", actor=admin, changes=CameraUpdate(name="Renamed", enabled=False)
    )

    assert (updated.name, updated.enabled, updated.heading_deg) == ("Renamed", False, 90)
    assert updated.updated_at >= updated.created_at
    assert container.cameras.list(enabled_only=True) == []
    assert camera_audit(container)[-1] == (
        "admin",
        "update",
        "cam-test-01",
        {"fields": ["enabled", "name"]},
    )


def test_updating_an_unknown_camera_is_not_found(container: Container, admin: Principal) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        container.cameras.update(camera_id="nope", changes=CameraUpdate(name="x"), actor=admin)


def test_only_administrators_register_cameras(container: Container, operator: Principal) -> None:
    with pytest.raises(PermissionDeniedError):
        container.cameras.register(camera=CameraCreate(**demo_camera()), actor=operator)

    assert container.cameras.list() == []
