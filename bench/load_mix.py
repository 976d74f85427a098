"""The load bench's message mix and its setup, shared by the one-process run (bench/load.py)
and the separate node and publisher processes (bench/load_nodes.py).

Of every 1,000 messages a publisher sends: 10 intrusions (each raises an alert: a rule on
``intrusion``, each in its own zone), 5 faces (``FaceObserved``: a template, no model needed
on the consumer's side; one in ten of them is a person on a watchlist, which raises a face hit,
a ``face_match`` event and, through a second rule, an alert), 90 plate reads and the rest
(895) motion events.
"""

from __future__ import annotations

import itertools
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from kupol.alerts.schemas import AlertRuleCreate
from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth.service import SYSTEM
from kupol.core.messages import Event
from kupol.events.messages import CameraEventObserved
from kupol.faces.domain import TEMPLATE_DIM, TEMPLATE_MODEL
from kupol.faces.matcher import FACE_MATCH
from kupol.faces.messages import FaceObserved
from kupol.faces.model import WatchlistKind
from kupol.faces.schemas import PersonCreate, WatchlistCreate
from kupol.faces.types import Face, FaceBox, Image, Quality
from kupol.plates.messages import PlateObserved

BATCH = 500
INTRUSION_RULE = "load intrusion"
FACE_RULE = "load face match"
WANTED = 20
"""People on the bench's watchlist: a hit needs a (camera, person) pair not seen within the
faces' group window, so 200 cameras × 20 people keep raising new hits for minutes."""
STRANGERS = 512


def template(identity: int) -> tuple[float, ...]:
    """The unit template of ``identity`` (a person on the list below 1,000; a stranger above)."""
    base = np.random.default_rng(identity).standard_normal(TEMPLATE_DIM).astype(np.float32)
    return tuple(float(v) for v in base / np.linalg.norm(base))


class BenchAnalyzer:
    """A face engine stand-in for enrolling the bench's watchlist: the photo's first pixel is
    the identity, its face that identity's template. Nothing in the measured path uses it."""

    def analyze(
        self,
        image: Image,
        *,
        regions: Sequence[tuple[float, float, float, float]] | None = None,
        embed_unusable: bool = False,
    ) -> list[Face]:
        identity = int(image[0, 0, 0])
        quality = Quality(score=0.9, face_px=120, sharpness=10.0, yaw=0.0, usable=True)
        return [
            Face(
                box=(4.0, 4.0, 60.0, 60.0),
                score=0.99,
                landmarks=np.zeros((5, 2), np.float32),
                chip=np.full((150, 150, 3), identity, np.uint8),
                quality=quality,
                embedding=np.asarray(template(identity), np.float32),
            )
        ]

    def detect(self, image: Image) -> list[FaceBox]:
        return [FaceBox(box=f.box, score=f.score) for f in self.analyze(image)]


@dataclass(frozen=True, kw_only=True)
class Setup:
    """What publishers need to know of the prepared database."""

    cameras: list[str]
    crops: dict[str, tuple[str, str]]
    """A face crop on disk per camera: (uri, sha256)."""

    def as_json(self) -> dict[str, Any]:
        return {"cameras": self.cameras, "crops": self.crops}

    @classmethod
    def of_json(cls, data: dict[str, Any]) -> Setup:
        return cls(cameras=data["cameras"], crops={k: tuple(v) for k, v in data["crops"].items()})


def prepare(container: Container, cameras: int) -> Setup:
    """Cameras, the two alert rules, a watchlist of ``WANTED`` people and a face crop per camera."""
    names = [f"load-{n:04d}" for n in range(cameras)]
    for c in names:
        container.cameras.register(
            camera=CameraCreate(id=c, name=c, latitude=51.1, longitude=71.4), actor=SYSTEM
        )
    # The bench's own rules only: the standing rules a new deployment has (migration 0043)
    # would raise a second alert for the same hit.
    for standing in container.alerts.list_rules():
        container.alerts.set_rule_enabled(rule_id=standing.id, enabled=False, actor=SYSTEM)
    for name, kind in ((INTRUSION_RULE, "intrusion"), (FACE_RULE, FACE_MATCH)):
        container.alerts.create_rule(
            rule=AlertRuleCreate(name=name, event_types=[kind], cooldown_s=0), actor=SYSTEM
        )
    container.faces.analyzer.use(BenchAnalyzer())
    watchlists = container.faces.watchlists
    investigator, _ = container.auth.create_user(
        username="load-investigator", password=secrets.token_urlsafe(16), roles=("investigator",)
    )
    listing = watchlists.create(
        watchlist=WatchlistCreate(name="load wanted", kind=WatchlistKind.WANTED),
        actor=investigator,
    )
    for identity in range(1, WANTED + 1):
        person = watchlists.add_person(
            watchlist_id=listing.id,
            person=PersonCreate(name=f"Person {identity}", reason="load bench person"),
            actor=investigator,
        )
        image = np.zeros((64, 64, 3), np.uint8)
        image[0, 0] = identity
        watchlists.enrol(person_id=person.id, photo=_png(image), actor=investigator)
    now = datetime.now(UTC)
    crops = {}
    for c in names:
        crop = container.faces.files.save_crop(
            np.full((60, 50, 3), 80, np.uint8), camera_id=c, at=now
        )
        crops[c] = (crop.uri, crop.sha256)
    return Setup(cameras=names, crops=crops)


def _png(image: Image) -> bytes:
    """PNG bytes (lossless: the identity pixel must survive)."""
    import cv2

    ok, data = cv2.imencode(".png", image)
    assert ok
    return bytes(data.tobytes())


@dataclass
class Mix:
    """A publisher's message generator; ``sent`` counts each kind."""

    setup: Setup
    publisher: int = 0
    sent: Counter[str] = field(default_factory=Counter)
    _counter: itertools.count[int] = field(default_factory=itertools.count)
    _wanted: list[tuple[float, ...]] = field(default_factory=list)
    _strangers: list[tuple[float, ...]] = field(default_factory=list)
    _faces: int = 0

    def __post_init__(self) -> None:
        self._wanted = [template(i) for i in range(1, WANTED + 1)]
        self._strangers = [template(1000 + i) for i in range(STRANGERS)]

    def batch(self, n: int) -> list[Event]:
        """``n`` messages created now."""
        now = datetime.now(UTC)
        cameras = self.setup.cameras
        out: list[Event] = []
        for _ in range(n):
            i = next(self._counter)
            camera = cameras[i % len(cameras)]
            if i % 100 == 0:
                self.sent["intrusion"] += 1
                out.append(
                    CameraEventObserved(
                        camera_id=camera,
                        type="intrusion",
                        occurred_at=now,
                        confidence=0.9,
                        zone=f"z{self.publisher}-{i}",
                    )
                )
            elif i % 200 == 50:
                out.append(self._face(camera, now))
            elif i % 11 == 0:
                self.sent["plate"] += 1
                out.append(
                    PlateObserved(
                        camera_id=camera, plate=f"{i % 1000:03d}ABC02", seen_at=now, confidence=0.9
                    )
                )
            else:
                self.sent["motion"] += 1
                out.append(
                    CameraEventObserved(
                        camera_id=camera,
                        type="motion",
                        occurred_at=now,
                        confidence=0.5,
                        zone="road",
                    )
                )
        return out

    def _face(self, camera: str, now: datetime) -> FaceObserved:
        k = self._faces
        self._faces += 1
        self.sent["face"] += 1
        if k % 10 == 0:  # a listed person: walk the (camera, person) pairs in turn
            self.sent["face_wanted"] += 1
            n = k // 10
            camera = self.setup.cameras[n % len(self.setup.cameras)]
            face = self._wanted[(n // len(self.setup.cameras) + self.publisher) % WANTED]
        else:
            face = self._strangers[k % STRANGERS]
        uri, sha = self.setup.crops[camera]
        return FaceObserved(
            camera_id=camera,
            seen_at=now,
            track=None,
            box=(10.0, 10.0, 60.0, 70.0),
            quality=0.9,
            template=face,
            model=TEMPLATE_MODEL,
            crop_uri=uri,
            crop_sha256=sha,
        )


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (nearest rank), NaN when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def settings_overrides(
    url: str,
    workdir: Path,
    stream: str | None,
    consumer_tasks: int = 1,
    pool_size: int | None = None,
) -> dict[str, Any]:
    """The settings every process of one run shares (one database, one stream)."""
    database: dict[str, Any] = {"url": url}
    if pool_size is not None:
        database["pool_size"] = pool_size
    overrides: dict[str, Any] = {"database": database, "data_dir": str(workdir / "data")}
    if stream is not None:
        from ingest import NATS_URL

        overrides["bus"] = {
            "type": "nats",
            "nats_url": NATS_URL,
            "stream": stream,
            "subject_prefix": stream.lower(),
            "consumer_tasks": consumer_tasks,
        }
    return overrides


__all__ = ["BATCH", "Mix", "Setup", "percentile", "prepare", "settings_overrides"]
