"""``kupol demo``: an embedded deployment with demo cameras, rules and a live video source."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from kupol.alerts.model import Severity
from kupol.alerts.schemas import AlertRuleCreate
from kupol.bootstrap import Container, build_container
from kupol.cameras.model import CameraKind
from kupol.cameras.schemas import CameraCreate, Zone
from kupol.core.auth.model import Role
from kupol.core.db import upgrade
from kupol.core.errors import ConflictError
from kupol.settings import Settings, SourceSettings
from kupol.vision.sources import check_source
from kupol.vision.synthetic import write_synthetic_video

log = logging.getLogger(__name__)
DEMO_ADMIN = "admin"
DEMO_ROLES = [Role.ADMIN, Role.OPERATOR, Role.ANALYST, Role.INVESTIGATOR, Role.AUDITOR]

DEMO_CAMERAS = [
    CameraCreate(
        id="ast-kabanbay-01",
        name="Астана, пр. Кабанбай батыра / ул. Сыганак",
        kind=CameraKind.FIXED,
        latitude=51.0890,
        longitude=71.4160,
        heading_deg=90,
        region_code="01",
        zones=[Zone(name="road", polygon=[(0.0, 0.35), (1.0, 0.35), (1.0, 1.0), (0.0, 1.0)])],
    ),
    CameraCreate(
        id="ast-baiterek-02",
        name="Астана, Байтерек, пешеходная зона",
        kind=CameraKind.PTZ,
        latitude=51.1283,
        longitude=71.4305,
        region_code="01",
    ),
    CameraCreate(
        id="ala-abai-01",
        name="Алматы, пр. Абая / пр. Достык",
        kind=CameraKind.FIXED,
        latitude=43.2389,
        longitude=76.9458,
        heading_deg=180,
        region_code="02",
    ),
    CameraCreate(
        id="shy-tauke-01",
        name="Шымкент, пр. Тауке хана",
        kind=CameraKind.FIXED,
        latitude=42.3155,
        longitude=69.5869,
        region_code="17",
    ),
    CameraCreate(
        id="kar-drone-01",
        name="Караганда, дрон патруля",
        kind=CameraKind.DRONE,
        latitude=49.8047,
        longitude=73.1094,
        region_code="09",
    ),
]

DEMO_RULES = [
    AlertRuleCreate(
        name="Движение на проезжей части",
        severity=Severity.MEDIUM,
        event_types=["motion"],
        camera_ids=["ast-kabanbay-01"],
        zones=["road"],
        min_confidence=0.3,
        cooldown_s=20,
    ),
    AlertRuleCreate(
        name="Люди в пешеходной зоне ночью",
        severity=Severity.HIGH,
        event_types=["motion"],
        camera_ids=["ast-baiterek-02"],
        active_from="22:00",
        active_to="06:00",
        cooldown_s=60,
    ),
    AlertRuleCreate(
        name="Движение у Байтерека",
        severity=Severity.LOW,
        event_types=["motion"],
        camera_ids=["ast-baiterek-02"],
        cooldown_s=30,
    ),
]


def shared_data_root() -> Path:
    """Where the shared evaluation data lives (``KUPOL_DATA_ROOT`` or ../shared/data)."""
    return Path(os.environ.get("KUPOL_DATA_ROOT", "../shared/data"))


def pick_videos(settings: Settings, video: Path | None) -> tuple[str, str]:
    """Videos for the two live demo cameras: given, shared sample, or generated."""
    if video is not None:
        check_source(str(video))  # a clear error now, not a retrying camera later
        return str(video), str(video)
    videos = shared_data_root() / "video"
    cars, people = videos / "cars-intel.mp4", videos / "people-intel.mp4"
    generated = settings.data_dir / "demo" / "synthetic.mp4"
    if not (cars.is_file() and people.is_file()) and not generated.exists():
        write_synthetic_video(generated, seconds=40)
    return (
        str(cars) if cars.is_file() else str(generated),
        str(people) if people.is_file() else str(generated),
    )


def seed(container: Container) -> None:
    """Create the demo cameras and rules that do not exist yet."""
    from kupol.core.auth.service import SYSTEM

    known = container.cameras.known_ids()
    for camera in DEMO_CAMERAS:
        if camera.id not in known:
            container.cameras.register(camera=camera, actor=SYSTEM)
    names = {r.name for r in container.alerts.list_rules()}
    for rule in DEMO_RULES:
        if rule.name not in names:
            container.alerts.create_rule(rule=rule, actor=SYSTEM)


def ensure_admin(container: Container) -> tuple[str, str]:
    """Create the demo administrator, or give it a fresh password; returns the login."""
    password = secrets.token_urlsafe(9)
    try:
        container.auth.create_user(
            username=DEMO_ADMIN,
            password=password,
            roles=DEMO_ROLES,
            full_name="Demo Administrator",
            locale="ru",
        )
    except ConflictError:
        container.auth.set_password(username=DEMO_ADMIN, password=password)
    return DEMO_ADMIN, password


def prepare_demo(
    settings: Settings, *, video: Path | None, port: int, host: str
) -> tuple[Settings, tuple[str, str]]:
    """Migrate, seed, and return the settings with demo sources and the admin login."""
    upgrade(settings.database.url)
    container = build_container(settings)
    try:
        seed(container)
        login = ensure_admin(container)
    finally:
        container.db.dispose()
    cars, people = pick_videos(settings, video)
    sources = (
        SourceSettings(camera_id="ast-kabanbay-01", path=cars, loop=True, analysis_fps=5),
        SourceSettings(camera_id="ast-baiterek-02", path=people, loop=True, analysis_fps=5),
    )
    data = settings.model_dump()
    data.update(sources=sources, server={**data["server"], "host": host, "port": port})
    return Settings.model_validate(data), login
