"""Camera registry endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, status

from kupol.api.deps import ContainerDep, require
from kupol.cameras.schemas import CameraCreate, CameraRead, CameraUpdate
from kupol.core.auth import Permission, Principal
from kupol.core.auth.scope import CameraScope

router = APIRouter(prefix="/api/cameras", tags=["cameras"])
Reader = Annotated[Principal, Depends(require(Permission.CAMERAS_READ))]
Writer = Annotated[Principal, Depends(require(Permission.CAMERAS_WRITE))]


@router.get("", response_model=list[CameraRead])
def list_cameras(container: ContainerDep, user: Reader) -> list[CameraRead]:
    """Every registered camera in the user's scope (stream credentials only for those who
    manage cameras)."""
    return [_for(user, c) for c in container.cameras.list(scope=CameraScope.of(user))]


@router.post("", response_model=CameraRead, status_code=status.HTTP_201_CREATED)
def register_camera(camera: CameraCreate, container: ContainerDep, user: Writer) -> CameraRead:
    """Register a camera (administrators); its pipeline starts at once if it has a stream."""
    created = container.cameras.register(camera=camera, actor=user)
    if container.vision is not None:
        container.vision.changed()
    return created


@router.get("/{camera_id}", response_model=CameraRead)
def get_camera(camera_id: str, container: ContainerDep, user: Reader) -> CameraRead:
    """One camera (404 outside the user's scope)."""
    return _for(user, container.cameras.get(camera_id, scope=CameraScope.of(user)))


def _for(user: Principal, camera: CameraRead) -> CameraRead:
    return camera if user.can(Permission.CAMERAS_WRITE) else camera.without_credentials()


@router.patch("/{camera_id}", response_model=CameraRead)
def update_camera(
    camera_id: str, changes: CameraUpdate, container: ContainerDep, user: Writer
) -> CameraRead:
    """Change a camera's fields (administrators); its pipeline restarts with them at once."""
    updated = container.cameras.update(camera_id=camera_id, changes=changes, actor=user)
    if container.vision is not None:
        container.vision.changed()
    return updated


@router.get("/{camera_id}/health")
def camera_health(camera_id: str, container: ContainerDep, user: Reader) -> dict[str, object]:
    """The camera pipeline's health: state, frames in and out per second, lag, drops."""
    container.cameras.get(camera_id, scope=CameraScope.of(user))
    worker = container.vision.worker(camera_id) if container.vision is not None else None
    if worker is None:
        return {"camera_id": camera_id, "state": "no pipeline"}
    return {
        "camera_id": camera_id,
        **{k: v for k, v in vars(worker.health).items() if k != "camera_id"},
    }
