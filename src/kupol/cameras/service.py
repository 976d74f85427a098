"""Registering and changing cameras. Changes are audited; cameras are disabled, not deleted."""

from __future__ import annotations

import builtins

from sqlalchemy import select

from kupol.cameras.model import Camera
from kupol.cameras.schemas import CameraCreate, CameraRead, CameraUpdate, Zone
from kupol.core.audit import AuditLog, AuditRecord
from kupol.core.auth import Permission, Principal
from kupol.core.auth.scope import EVERYWHERE, CameraScope
from kupol.core.db import Database
from kupol.core.errors import ConflictError, NotFoundError
from kupol.vision.config import camera_analytics


class CameraService:
    """The camera registry."""

    def __init__(self, *, db: Database, audit: AuditLog) -> None:
        self._db = db
        self._audit = audit

    def register(self, *, camera: CameraCreate, actor: Principal) -> CameraRead:
        """Add a camera; its id must be new."""
        actor.require(Permission.CAMERAS_WRITE)
        with self._db.unit_of_work() as session:
            if session.get(Camera, camera.id) is not None:
                raise ConflictError(f"camera {camera.id!r} already exists")
            row = Camera(**camera.model_dump(mode="json"))
            session.add(row)
            session.flush()
            result = CameraRead.model_validate(row)
            self._audit.append(
                AuditRecord(
                    actor=actor.username,
                    roles=actor.roles,
                    action="create",
                    resource_type="camera",
                    resource_id=camera.id,
                ),
                session=session,
            )
        return result

    def update(self, *, camera_id: str, changes: CameraUpdate, actor: Principal) -> CameraRead:
        """Change the fields given in ``changes``."""
        actor.require(Permission.CAMERAS_WRITE)
        fields = changes.model_dump(mode="json", exclude_unset=True)
        with self._db.unit_of_work() as session:
            row = session.get(Camera, camera_id)
            if row is None:
                raise NotFoundError(f"no camera {camera_id!r}")
            for key, value in fields.items():
                setattr(row, key, value)
            # Zones and analytics are checked together: a rule may name a zone.
            camera_analytics(zones=[Zone(**z) for z in row.zones], analytics=row.analytics or {})
            session.flush()
            result = CameraRead.model_validate(row)
            self._audit.append(
                AuditRecord(
                    actor=actor.username,
                    roles=actor.roles,
                    action="update",
                    resource_type="camera",
                    resource_id=camera_id,
                    details={"fields": sorted(fields)},
                ),
                session=session,
            )
        return result

    def get(self, camera_id: str, *, scope: CameraScope = EVERYWHERE) -> CameraRead:
        """One camera by id; one outside ``scope`` is not found either."""
        with self._db.reader() as session:
            row = session.get(Camera, camera_id)
            if row is None or not scope.allows(row.id, row.region_code):
                raise NotFoundError(f"no camera {camera_id!r}")
            return CameraRead.model_validate(row)

    def list(
        self, *, enabled_only: bool = False, scope: CameraScope = EVERYWHERE
    ) -> builtins.list[CameraRead]:
        """Every camera in ``scope``, by id."""
        query = select(Camera).where(scope.clause(Camera.id)).order_by(Camera.id)
        if enabled_only:
            query = query.where(Camera.enabled.is_(True))
        with self._db.reader() as session:
            return [CameraRead.model_validate(row) for row in session.scalars(query)]

    def known_ids(self, *, scope: CameraScope = EVERYWHERE) -> set[str]:
        """The ids of the registered cameras in ``scope``."""
        with self._db.reader() as session:
            return set(session.scalars(select(Camera.id).where(scope.clause(Camera.id))))
