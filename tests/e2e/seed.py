"""Fixed data for the browser tests: cameras across Kazakhstan, rules, users, past events with
snapshots, and alerts in every state. Ids and times are fixed so screenshots repeat exactly."""

from __future__ import annotations

import asyncio
import hashlib
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from kupol.alerts.model import Severity
from kupol.alerts.schemas import AlertRuleCreate
from kupol.bootstrap import Container
from kupol.cameras.model import CameraKind
from kupol.cameras.schemas import CameraCreate, CameraUpdate, Zone
from kupol.core.auth.service import SYSTEM
from kupol.events.messages import CameraEventObserved, EvidenceRef
from kupol.vision.clips import RecentFrames, write_clip

SEED_NAMESPACE = uuid.UUID("6b75706f-6c00-4e2e-9000-000000000000")
ROAD = Zone(name="road", polygon=[(0.0, 0.35), (1.0, 0.35), (1.0, 1.0), (0.0, 1.0)])
K = CameraKind

CAMERAS = [
    CameraCreate(
        id="ast-kabanbay-01",
        name="Астана, пр. Кабанбай батыра / ул. Сыганак",
        kind=K.FIXED,
        latitude=51.0890,
        longitude=71.4160,
        heading_deg=90,
        region_code="01",
        zones=[ROAD],
    ),
    CameraCreate(
        id="ast-baiterek-02",
        name="Астана, Байтерек, пешеходная зона",
        kind=K.PTZ,
        latitude=51.1283,
        longitude=71.4305,
        region_code="01",
    ),
    CameraCreate(
        id="ala-abai-01",
        name="Алматы, пр. Абая / пр. Достык",
        kind=K.FIXED,
        latitude=43.2389,
        longitude=76.9458,
        heading_deg=180,
        region_code="02",
    ),
    CameraCreate(
        id="shy-tauke-01",
        name="Шымкент, пр. Тауке хана",
        kind=K.FIXED,
        latitude=42.3155,
        longitude=69.5869,
        region_code="17",
    ),
    CameraCreate(
        id="kar-drone-01",
        name="Караганда, дрон патруля",
        kind=K.DRONE,
        latitude=49.8047,
        longitude=73.1094,
        region_code="09",
    ),
    CameraCreate(
        id="akt-robot-01",
        name="Актобе, патрульный робот, вокзал",
        kind=K.ROBOT,
        latitude=50.2839,
        longitude=57.1670,
        region_code="04",
    ),
    CameraCreate(
        id="ura-body-07",
        name="Уральск, нательная камера наряда 7",
        kind=K.BODYCAM,
        latitude=51.2333,
        longitude=51.3667,
        region_code="07",
    ),
    CameraCreate(
        id="pav-ptz-03",
        name="Павлодар, пл. Победы",
        kind=K.PTZ,
        latitude=52.2871,
        longitude=76.9674,
        region_code="14",
        enabled=False,
    ),
    CameraCreate(
        id="usk-fixed-02",
        name="Усть-Каменогорск, пр. Независимости",
        kind=K.FIXED,
        latitude=49.9483,
        longitude=82.6279,
        region_code="16",
    ),
    CameraCreate(
        id="kzo-fixed-01",
        name="Кызылорда, ул. Айтеке би",
        kind=K.FIXED,
        latitude=44.8488,
        longitude=65.4823,
        region_code="11",
    ),
]

RULES = [
    AlertRuleCreate(
        name="Движение на проезжей части",
        severity=Severity.MEDIUM,
        event_types=["motion"],
        camera_ids=["ast-kabanbay-01"],
        zones=["road"],
        cooldown_s=300,
    ),
    AlertRuleCreate(
        name="Проникновение в охраняемую зону",
        severity=Severity.CRITICAL,
        event_types=["intrusion"],
        cooldown_s=300,
    ),
    AlertRuleCreate(
        name="Оставленный предмет",
        severity=Severity.HIGH,
        event_types=["object.left"],
        cooldown_s=300,
    ),
    AlertRuleCreate(
        name="Скопление людей", severity=Severity.LOW, event_types=["crowd"], cooldown_s=300
    ),
]


@dataclass(frozen=True, kw_only=True)
class SeedUser:
    username: str
    full_name: str
    roles: tuple[str, ...]

    @property
    def password(self) -> str:
        return f"{self.username}-password-123"


OPERATOR = SeedUser(username="operator", full_name="Ержан Сапаров", roles=("operator",))
INVESTIGATOR = SeedUser(username="investigator", full_name="Данияр Абенов", roles=("investigator",))
AUDITOR = SeedUser(username="auditor", full_name="Айгуль Нурланова", roles=("auditor",))
USERS = (OPERATOR, INVESTIGATOR, AUDITOR)


def at(clock: str) -> datetime:
    """A fixed past moment on 15 January 2026, UTC (``"08:05:10"``)."""
    return datetime.fromisoformat(f"2026-01-15T{clock}+00:00").astimezone(UTC)


def event_id(name: str) -> uuid.UUID:
    """A stable event id for a seed name."""
    return uuid.uuid5(SEED_NAMESPACE, name)


# name, camera, type, time, confidence, zone, with a snapshot
EVENTS = [
    ("road-1", "ast-kabanbay-01", "motion", "08:05:10", 0.82, "road", True),
    ("road-2", "ast-kabanbay-01", "motion", "08:05:40", 0.77, "road", False),
    ("gate", "ala-abai-01", "intrusion", "08:12:00", 0.93, "gate", True),
    ("bag", "shy-tauke-01", "object.left", "08:20:30", 0.71, None, True),
    ("crowd-1", "ast-baiterek-02", "crowd", "08:31:00", 0.64, None, False),
    ("drone", "kar-drone-01", "motion", "08:40:00", 0.55, None, True),
    ("abai-motion", "ala-abai-01", "motion", "07:50:00", 0.45, None, False),
    ("crowd-2", "akt-robot-01", "crowd", "07:30:00", 0.60, None, False),
]
ACKNOWLEDGED = "crowd-1"
CLOSED = "crowd-2"
# Live events pushed while the dashboard is open (types no rule matches: no alerts, no toasts).
TICKER = [
    ("tick-1", "kar-drone-01", "vehicle", "08:44:00", 0.88),
    ("tick-2", "usk-fixed-02", "person", "08:44:30", 0.67),
    ("tick-3", "kzo-fixed-01", "vehicle", "08:45:00", 0.91),
]


def snapshot(evidence_dir: Path, camera_id: str, name: str, seed: int) -> EvidenceRef:
    """Draw a small, deterministic street-like JPEG in the camera's evidence folder."""
    image = Image.new("RGB", (320, 180), (58 + seed * 9 % 40, 66, 78))
    draw = ImageDraw.Draw(image)
    draw.polygon([(0, 180), (120, 70), (200, 70), (320, 180)], fill=(92, 96, 104))
    draw.line([(160, 80), (160, 180)], fill=(230, 220, 120), width=3)
    x = 60 + seed * 37 % 180
    draw.rectangle([x, 110, x + 56, 140], fill=(180 - seed * 20 % 120, 40, 50))
    draw.rectangle([x + 8, 100, x + 44, 112], fill=(40, 50, 70))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    data = buffer.getvalue()
    relative = f"{camera_id}/e2e/{name}.jpg"
    (evidence_dir / camera_id / "e2e").mkdir(parents=True, exist_ok=True)
    (evidence_dir / relative).write_bytes(data)
    return EvidenceRef(
        kind="snapshot",
        uri=relative,
        sha256=hashlib.sha256(data).hexdigest(),
        media_type="image/jpeg",
    )


def seed(container: Container) -> None:
    """Fill a fresh database: cameras, rules, users, past events and their alerts."""
    for camera in CAMERAS:
        container.cameras.register(camera=camera, actor=SYSTEM)
    for rule in RULES:
        container.alerts.create_rule(rule=rule, actor=SYSTEM)
    principals = {}
    for user in USERS:
        principals[user.username], _ = container.auth.create_user(
            username=user.username,
            password=user.password,
            roles=user.roles,
            full_name=user.full_name,
        )
    observed = [
        CameraEventObserved(
            id=event_id(name),
            camera_id=camera,
            type=kind,
            occurred_at=at(clock),
            confidence=confidence,
            zone=zone,
            evidence=(snapshot(container.evidence_dir, camera, name, i),) if shot else (),
        )
        for i, (name, camera, kind, clock, confidence, zone, shot) in enumerate(EVENTS)
    ]
    container.recorder.record(observed)  # the alert engine runs in the same transaction
    alerts = {
        a.first_event_id: a.id
        for a in container.alerts.list_alerts(actor=principals["operator"], limit=100)
    }
    operator = principals["operator"]
    asyncio.run(
        container.alerts.acknowledge(alert_id=alerts[event_id(ACKNOWLEDGED)], actor=operator)
    )
    asyncio.run(
        container.alerts.close(
            alert_id=alerts[event_id(CLOSED)],
            actor=operator,
            comment="Ложное срабатывание: плановое построение",
        )
    )
    # Announce what the seed did now, while nobody listens, not when the server starts.
    asyncio.run(container.outbox.flush())


def ticker_batch() -> dict[str, list[dict[str, object]]]:
    """The API body of the live events pushed to an open dashboard."""
    return {
        "events": [
            {
                "id": str(event_id(name)),
                "camera_id": camera,
                "type": kind,
                "occurred_at": at(clock).isoformat(),
                "confidence": confidence,
            }
            for name, camera, kind, clock, confidence in TICKER
        ]
    }


# The camera tests: one camera plays a generated video (a file camera loops), with analytics
# of its own that the zone editor must keep; one past event carries a clip.
LIVE_CAMERA = "ast-kabanbay-01"
LIVE_ANALYTICS = {
    "analysis_fps": 4,
    "lines": [{"name": "stop-line", "a": [0.0, 0.7], "b": [1.0, 0.7]}],
}
CLIP_EVENT = "left-bag-clip"


def clip(evidence_dir: Path, camera_id: str, name: str) -> EvidenceRef:
    """Write a two-second WebM clip of a block crossing a grey street."""
    recent = RecentFrames(seconds=5)
    frames = []
    for i in range(10):
        image = np.full((180, 320, 3), 90, np.uint8)
        image[110:150, 20 + i * 28 : 76 + i * 28] = (60, 60, 200)
        frames.append(recent.add(i / 5, image))
    relative = f"{camera_id}/e2e/{name}.webm"
    path = write_clip(frames, evidence_dir / relative, fps=5)
    return EvidenceRef(
        kind="clip",
        uri=relative,
        sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
        media_type="video/webm",
    )


def seed_with_video(video: Path) -> Callable[[Container], None]:
    """The fixed seed, plus ``video`` playing as :data:`LIVE_CAMERA` and an event with a clip."""

    def prepare(container: Container) -> None:
        seed(container)
        container.cameras.update(
            camera_id=LIVE_CAMERA,
            changes=CameraUpdate(stream_url=str(video), analytics=LIVE_ANALYTICS),
            actor=SYSTEM,
        )
        evidence = container.evidence_dir
        container.recorder.record(
            [
                CameraEventObserved(
                    id=event_id(CLIP_EVENT),
                    camera_id="shy-tauke-01",
                    type="abandoned_object",
                    occurred_at=at("09:00:00"),
                    confidence=0.8,
                    evidence=(
                        snapshot(evidence, "shy-tauke-01", CLIP_EVENT, 3),
                        clip(evidence, "shy-tauke-01", CLIP_EVENT),
                    ),
                )
            ]
        )
        asyncio.run(container.outbox.flush())

    return prepare
