"""``kupol demo``: an embedded deployment with demo cameras, rules and a live video source."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import shutil
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kupol.alerts.model import Severity
from kupol.alerts.schemas import AlertRuleCreate
from kupol.bootstrap import Container, build_container
from kupol.cameras.model import CameraKind
from kupol.cameras.schemas import CameraCreate, CameraUpdate, Zone
from kupol.core.auth import Principal
from kupol.core.auth.model import Role
from kupol.core.auth.service import SYSTEM
from kupol.core.db import upgrade
from kupol.core.errors import ConflictError
from kupol.fleet.demo import seed_fleet, write_roads
from kupol.settings import Settings
from kupol.vision.sources import check_source
from kupol.vision.synthetic import write_synthetic_video

log = logging.getLogger(__name__)
DEMO_ADMIN = "admin"
DEMO_ROLES = [
    Role.ADMIN,
    Role.OPERATOR,
    Role.ANALYST,
    Role.INVESTIGATOR,
    Role.TRAFFIC_OFFICER,
    Role.FRAUD_ANALYST,
    Role.AUDITOR,
]

DRONE_LIMIT_KMH = 110.0
"""The speed limit signed on the demo drone's stretch of highway (outside a settlement)."""


def drone_analytics() -> dict[str, object]:
    """The demo drone's camera: the highway clip's analytics and calibration, with a limit."""
    path = Path(__file__).parent / "traffic" / "reference" / "highway-cdnet.toml"
    with path.open("rb") as file:
        analytics: dict[str, Any] = tomllib.load(file)
    analytics["traffic"]["speed_limit_kmh"] = DRONE_LIMIT_KMH
    return analytics


DEMO_CAMERAS = [
    CameraCreate(
        id="ast-kabanbay-01",
        name="Астана, пр. Кабанбай батыра / ул. Сыганак",
        kind=CameraKind.FIXED,
        latitude=51.0890,
        longitude=71.4160,
        heading_deg=90,
        region_code="01",
        zones=[Zone(name="road", polygon=[(0.0, 0.2), (1.0, 0.2), (1.0, 1.0), (0.0, 1.0)])],
        analytics={
            "lines": [{"name": "count", "a": [0.0, 0.6], "b": [1.0, 0.6]}],
            "abandoned": {"enabled": False},
        },
    ),
    CameraCreate(
        id="ast-baiterek-02",
        name="Астана, Байтерек, холл",
        kind=CameraKind.PTZ,
        latitude=51.1283,
        longitude=71.4305,
        region_code="01",
        zones=[
            Zone(name="stand", polygon=[(0.35, 0.55), (0.85, 0.55), (0.85, 1.0), (0.35, 1.0)]),
            Zone(
                name="service-door",
                kind="restricted",
                polygon=[(0.0, 0.6), (0.12, 0.6), (0.12, 1.0), (0.0, 1.0)],
            ),
        ],
        analytics={"loitering": {"enabled": True, "seconds": 20, "zones": ["stand"]}},
    ),
    CameraCreate(
        id="ast-nurlyzhol-03",
        name="Астана, вокзал Нурлы Жол, тротуар",
        kind=CameraKind.FIXED,
        latitude=51.1125,
        longitude=71.5317,
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
        analytics={"abandoned": {"enabled": False}},
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
        id="ast-airport-gate-04",
        name="Астана, аэропорт, выход на посадку 4",
        kind=CameraKind.FIXED,
        latitude=51.0269,
        longitude=71.4609,
        region_code="01",
        # A door camera: faces are large and frontal, so the whole frame is searched and the
        # motion detector is enough to follow people.
        analytics={
            "detector": {"type": "motion"},
            "abandoned": {"enabled": False},
            "faces": {"enabled": True, "whole_frame": True, "interval_s": 0.5},
        },
    ),
    CameraCreate(
        id="ast-turan-05",
        name="Астана, пр. Туран, камера номеров",
        kind=CameraKind.FIXED,
        latitude=51.1198,
        longitude=71.4032,
        heading_deg=0,
        region_code="01",
        # Cars seen from above: NanoDet-g labels them "cell phone" (docs/vision.md).
        analytics={
            "analysis_fps": 10,
            "abandoned": {"enabled": False},
            "plates": {
                "enabled": True,
                "vehicle_classes": ["car", "truck", "bus", "motorcycle", "cell phone"],
                "directions": {"up": "north", "down": "south"},
            },
        },
    ),
    CameraCreate(
        id="ast-sim-crossing-01",
        name="Астана, симулированный перекрёсток со «смарт-переходом»",
        kind=CameraKind.FIXED,
        latitude=51.1605,
        longitude=71.4704,
        heading_deg=0,
        region_code="01",
        # The simulated intersection (kupol.traffic.simulation): its road users come from the
        # script in place of a detector; plates, rules, evidence and the crossing are real.
        analytics={
            "analysis_fps": 10,
            "width": 960,
            "detector": {"type": "scripted"},
            "motion": {"enabled": False},
            "intrusion": {"enabled": False},
            "abandoned": {"enabled": False},
            "plates": {"enabled": True, "vehicle_classes": ["car"]},
            "traffic": {},  # filled by traffic_analytics() (needs the simulation's geometry)
        },
    ),
    CameraCreate(
        id="ast-drone-01",
        name="Астана, дрон drone-1 над трассой",
        kind=CameraKind.DRONE,
        latitude=51.0890,
        longitude=71.4160,
        region_code="01",
        # Hovering over the highway it times the traffic with the clip's calibration (from its
        # markings; docs/traffic.md, "Real video") against a signed 110 km/h — speeds taken
        # while the drone moves are refused (kupol.traffic.recorder).
        analytics=drone_analytics(),
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

DEMO_VIDEOS = {
    "ast-kabanbay-01": "highway-cdnet.avi",
    "ast-drone-01": "highway-cdnet.avi",  # drone-1's camera: its events are placed on its track
    "ast-baiterek-02": "people-intel.mp4",
    "ast-nurlyzhol-03": "abandoned-bag-aboda4.avi",
    "ala-abai-01": "cars-intel.mp4",
    "shy-tauke-01": "street-bgslibrary.avi",
}
"""Which shared sample video plays as each demo camera (a generated one when absent)."""

FACE_CAMERA = "ast-airport-gate-04"
WALKBY_PHOTOS = (
    "alex_lacamoire1.jpg",
    "johnsnow_test1.jpg",
    "obama1.jpg",
    "kit_with_rose.jpg",
    "obama_and_biden.jpg",
)
"""Who walks past the demo door camera (knn_examples/test of the face_recognition data)."""
DEMO_WATCHLIST = "Розыск (демо)"
DEMO_WANTED = {
    "Демо: разыскиваемый 1": ("obama/obama.jpg", "obama/obama2.jpg"),
    "Демо: разыскиваемый 2": ("biden/biden.jpg", "biden/biden2.jpg"),
}
"""Listed people, enrolled from other photos of them than those in the clip (train/)."""

PLATES_CAMERA = "ast-turan-05"
TRAFFIC_CAMERA = "ast-sim-crossing-01"
DEMO_OWNERS = (
    "plate,owner_name,owner_id,address,make,colour\n"
    '123ABC02,Демо Владелец 1 (вымышленный),900101300001,"Астана, ул. Демонстрационная, 1",'
    "Toyota Camry,red\n"
    '505KZA01,Демо Владелец 2 (вымышленный),900101300002,"Астана, ул. Демонстрационная, 2",'
    "Hyundai Accent,silver\n"
    '248DAR09,ТОО «Демо» (вымышленное),100140000003,"Караганда, ул. Демонстрационная, 3",'
    "Lada Vesta,black\n"
)
"""Fictional owners of the simulated intersection's offending cars, so notices are made."""
DEMO_HOTLIST = "Угон (демо)"
DEMO_STOLEN = "505KZA01"
"""A plate of the demo road clip (:data:`kupol.plates.democlip.DEMO_PLATES`) on the hotlist."""

DEMO_RULES = [
    AlertRuleCreate(
        name="Номер в розыске",
        severity=Severity.HIGH,
        event_types=["plate_hotlist_hit"],
        # The clip loops every 30 s: one alert a camera for the same car, not one a loop.
        cooldown_s=300,
    ),
    AlertRuleCreate(
        name="Возможный двойник номера",
        severity=Severity.HIGH,
        event_types=["possible_cloned_plate"],
        cooldown_s=0,
    ),
    AlertRuleCreate(
        name="Совпадение с лицом из списка",
        severity=Severity.HIGH,
        event_types=["face_match"],
        cooldown_s=0,
    ),
    AlertRuleCreate(
        name="Камера недоступна",
        severity=Severity.MEDIUM,
        event_types=["stream_lost"],
        cooldown_s=600,
    ),
    AlertRuleCreate(
        name="Оставленный предмет",
        severity=Severity.HIGH,
        event_types=["abandoned_object"],
        cooldown_s=60,
    ),
    AlertRuleCreate(
        name="Проникновение в закрытую зону",
        severity=Severity.HIGH,
        event_types=["intrusion"],
        cooldown_s=10,
    ),
    AlertRuleCreate(
        name="Длительное пребывание",
        severity=Severity.MEDIUM,
        event_types=["loitering"],
        cooldown_s=30,
    ),
    AlertRuleCreate(
        name="Скопление людей",
        severity=Severity.MEDIUM,
        event_types=["crowd"],
        cooldown_s=300,
    ),
]


def shared_data_root() -> Path:
    """Where the shared evaluation data lives (``KUPOL_DATA_ROOT`` or ../shared/data)."""
    return Path(os.environ.get("KUPOL_DATA_ROOT", "../shared/data"))


def pick_videos(settings: Settings, video: Path | None) -> dict[str, str]:
    """The video each demo camera plays: the one given, the shared sample, or a generated one."""
    if video is not None:
        check_source(str(video))  # a clear error now, not a retrying camera later
        return {camera_id: str(video.resolve()) for camera_id in DEMO_VIDEOS}
    generated = settings.data_dir / "demo" / "synthetic.mp4"
    chosen = {}
    walkby = walkby_clip(settings)
    if walkby is not None:
        chosen[FACE_CAMERA] = str(walkby.resolve())
    road = plates_clip(settings)
    if road is not None:
        chosen[PLATES_CAMERA] = str(road.resolve())
    chosen[TRAFFIC_CAMERA] = str(intersection_clip(settings).resolve())
    for camera_id, name in DEMO_VIDEOS.items():
        sample = shared_data_root() / "video" / name
        if sample.is_file():
            chosen[camera_id] = str(sample.resolve())
        else:
            if not generated.exists():
                write_synthetic_video(generated, seconds=40)
            chosen[camera_id] = str(generated.resolve())
    return chosen


def walkby_clip(settings: Settings) -> Path | None:
    """The demo door camera's clip, composed once from the shared face photos (None without
    them: the camera then stays without a stream)."""
    folder = shared_data_root() / "faces" / "face_recognition" / "knn_examples" / "test"
    photos = [folder / name for name in WALKBY_PHOTOS]
    if not all(p.is_file() for p in photos):
        return None
    path = settings.data_dir / "demo" / "faces-walkby.mp4"
    if not path.exists():
        from kupol.faces.democlip import write_walkby_clip

        write_walkby_clip(photos, path)
    return path


def plates_clip(settings: Settings) -> Path | None:
    """The demo plate camera's clip: the shared road video with a rendered Kazakh plate on
    each car, composed once (None without the video: the camera then stays without a stream)."""
    source = shared_data_root() / "video" / "cars-intel.mp4"
    if not source.is_file():
        return None
    from kupol.plates.democlip import read_plates_clip, write_plates_clip

    path = settings.data_dir / "demo" / "plates-road.mp4"
    if read_plates_clip(path) is None:
        log.info("composing the demo plates clip from %s (once)", source)
        write_plates_clip(source, path)
    return path


def seed_hotlist(container: Container, username: str) -> None:
    """The demo hotlist with one plate of the road clip, in ``username``'s name."""
    if not (shared_data_root() / "video" / "cars-intel.mp4").is_file():
        return
    actor = container.auth.principal_of(username)
    hotlists = container.hotlists
    if any(h.name == DEMO_HOTLIST for h in hotlists.lists(actor=actor)):
        return
    listing = hotlists.create(name=DEMO_HOTLIST, kind="stolen", fuzzy=True, actor=actor)
    hotlists.import_csv(
        hotlist_id=listing,
        data=f"plate,reason\n{DEMO_STOLEN},демонстрация: угнанный автомобиль\n".encode(),
        actor=actor,
    )


def seed_watchlist(container: Container, username: str) -> None:
    """The demo watchlist, its people enrolled from the shared photos, in ``username``'s name."""
    from kupol.faces.model import WatchlistKind
    from kupol.faces.schemas import PersonCreate, WatchlistCreate

    folder = shared_data_root() / "faces" / "face_recognition" / "knn_examples" / "train"
    if not folder.is_dir():
        return
    actor = container.auth.principal_of(username)
    watchlists = container.faces.watchlists
    if any(w.name == DEMO_WATCHLIST for w in watchlists.lists(actor=actor)):
        return
    listing = watchlists.create(
        watchlist=WatchlistCreate(
            name=DEMO_WATCHLIST,
            kind=WatchlistKind.WANTED,
            description="Демонстрация: фото из открытого набора face_recognition (MIT).",
        ),
        actor=actor,
    )
    for name, photos in DEMO_WANTED.items():
        person = watchlists.add_person(
            watchlist_id=listing.id,
            person=PersonCreate(name=name, reason="демонстрация живого сопоставления"),
            actor=actor,
        )
        for photo in photos:
            watchlists.enrol(person_id=person.id, photo=(folder / photo).read_bytes(), actor=actor)


def traffic_analytics(camera: CameraCreate) -> CameraCreate:
    """The demo traffic camera with its calibration, stop line, crossing and sidewalk."""
    if camera.id != TRAFFIC_CAMERA:
        return camera
    from kupol.traffic.simulation import camera_config

    traffic = camera_config(read_signal=True)
    return camera.model_copy(update={"analytics": {**camera.analytics, "traffic": traffic}})


def intersection_clip(settings: Settings) -> Path:
    """The simulated intersection's clip, rendered once."""
    path = settings.data_dir / "demo" / "intersection.mp4"
    if not path.is_file():
        from kupol.traffic.simulation import write_intersection_clip

        log.info("rendering the simulated intersection (once)")
        write_intersection_clip(path)
    return path


def seed_owners(container: Container, username: str) -> None:
    """The fictional owners of the simulated intersection's cars, in ``username``'s name."""
    actor = container.auth.principal_of(username)
    container.traffic.registry.import_csv(data=DEMO_OWNERS.encode(), actor=actor)


def seed_evidence(container: Container, settings: Settings, username: str) -> Path | None:
    """What the evidence pages need to be tried: ``username`` holds a signing certificate (for
    documents and traffic approvals) and the demo body camera ``badge-0042`` (registered, on a
    shift), and a docked folder of it — the walk-by clip with its sidecar, recorded two hours
    ago beside the first demo camera — waits in ``<data_dir>/demo/dock/badge-0042`` to be
    imported from the console."""
    actor = container.auth.principal_of(username)
    if container.documents.authority.certificate(username) is None:
        container.documents.authority.issue(username)
    try:
        container.devices.register(
            device_id="badge-0042", kind="bodycam", model="demo video badge", actor=actor
        )
        container.devices.assign(
            device_id="badge-0042",
            officer=username,
            starts_at=datetime.now(UTC) - timedelta(days=1),
            ends_at=None,
            actor=actor,
        )
    except ConflictError:
        pass  # registered and handed out by an earlier run
    clip = walkby_clip(settings)
    if clip is None:
        return None
    folder = settings.data_dir / "demo" / "dock" / "badge-0042"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "shift-0800.mp4"
    if not target.exists():
        shutil.copy(clip, target)
    from kupol.evidence.redaction import probe

    seconds = max(1, round(probe(target).duration_s))
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    camera = DEMO_CAMERAS[0]
    track = [
        [camera.latitude + 0.0001 * i, camera.longitude, (start + timedelta(seconds=i)).isoformat()]
        for i in range(0, seconds + 1, 2)
    ]
    sidecar = {
        "device_id": "badge-0042",
        "officer": username,
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(seconds=seconds)).isoformat(),
        "gps": track,
    }
    target.with_suffix(".json").write_text(json.dumps(sidecar, ensure_ascii=False, indent=1))
    return folder


def seed(container: Container) -> None:
    """Create the demo cameras and rules that do not exist yet."""
    known = container.cameras.known_ids()
    for camera in DEMO_CAMERAS:
        if camera.id not in known:
            container.cameras.register(camera=traffic_analytics(camera), actor=SYSTEM)
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


def mqtt_reachable(settings: Settings) -> bool:
    """Whether an MQTT broker answers where the settings say (Mosquitto on this machine)."""
    import socket

    try:
        with socket.create_connection((settings.mqtt.host, settings.mqtt.port), timeout=1):
            return True
    except OSError:
        return False


def seed_roads(container: Container, username: str) -> None:
    """Accident records for the analytics page: a synthetic Kazakhstan year (never presented
    as real: its source is ``kz-synthetic``) and, when the shared data is here, the Edinburgh
    police records and the official crime reports (imported under the label 2023)."""
    from kupol.roads.importer import related_names
    from kupol.roads.mapping import load_mapping
    from kupol.roads.synthetic import synthetic_year

    actor = container.auth.principal_of(username)
    roads = container.roads
    if roads.registry.count(actor=actor, source="kz-synthetic") == 0:
        roads.registry.import_file(
            data=synthetic_year(roads.regions), file_name="kz-2025-synthetic.csv",
            mapping=load_mapping("kz-synthetic"), actor=actor,
        )  # fmt: skip
    edinburgh = shared_data_root() / "accidents" / "edinburgh"
    if edinburgh.is_dir() and roads.registry.count(actor=actor, source="edinburgh") == 0:
        mapping = load_mapping("edinburgh")
        for file in sorted(edinburgh.glob("*/accident*.csv")):
            related = {r: p.read_bytes() for r, p in related_names(file, mapping).items()}
            roads.registry.import_file(
                data=file.read_bytes(), file_name=file.name, mapping=mapping, actor=actor,
                related=related,
            )  # fmt: skip
    crime = shared_data_root() / "crime" / "kz-qamqor"
    if crime.is_dir() and not roads.crime.periods(actor=actor):
        for file in sorted(crime.glob("*.XLSX")):
            roads.crime.import_report(
                data=file.read_bytes(), file_name=file.name, region=file.stem, period="2023",
                actor=actor,
            )  # fmt: skip


def seed_antifraud(container: Container, username: str) -> None:
    """A simulated day of a small network's calls (3,000 subscribers, its gangs included),
    moved to end now and screened as an operator's switch would send them; and a bank's
    four transfers (one ordinary, one emptying an account, one right after a spoofed call, one
    by a call centre's victim to its mule: the group's money trail).
    Seeded once: skipped when calls were screened already."""
    from dataclasses import replace

    from sqlalchemy import func, select

    from kupol.antifraud.cdr_sim import simulate_day
    from kupol.antifraud.holds import TransferRequest
    from kupol.antifraud.model import CallDecision
    from kupol.antifraud.transfers import TransferKind
    from kupol.core.messages import utcnow

    with container.db.reader() as session:
        if session.scalar(select(func.count()).select_from(CallDecision)):
            return
    switch = _partner(container, "demo-switch", Role.TELECOM, "Demo: operator's switch")
    bank = _partner(container, "demo-bank", Role.BANK, "Demo: a bank's anti-fraud gateway")
    day = simulate_day(2026, subscribers=3000)
    shift = utcnow() - max(c.attempt.at for c in day.calls)
    calls = day.calls
    container.antifraud.calls.screen_many(
        actor=switch,
        calls=[
            (replace(c.attempt, at=c.attempt.at + shift), c.answered, c.duration_s) for c in calls
        ],
    )
    victim = calls[0].attempt.called
    # The money trail: a call centre's victim pays its mule half an hour after the call.
    conned = next(c for c in reversed(calls) if c.source == "call centre A" and c.answered)
    conned_at = conned.attempt.at + shift + timedelta(minutes=30)
    now = utcnow()
    spoofed = replace(calls[0].attempt, call_id="demo-spoof", caller="+77011112233",
                      international=True, at=now, imsi=None, imei=None, cell=None)  # fmt: skip
    container.antifraud.calls.screen(actor=switch, attempt=spoofed)
    holds = container.antifraud.holds
    for request in (
        TransferRequest(bank_ref="DEMO-1", kind=TransferKind.PAYMENT, amount=12_500.0,
                        payer="KZ12DEMO0001", payer_balance=480_000.0, payee="M-MAGNUM-ALMATY"),
        TransferRequest(bank_ref="DEMO-2", kind=TransferKind.TRANSFER, amount=1_250_000.0,
                        payer="KZ12DEMO0002", payer_balance=1_250_000.0, payee="KZ77DEMO9001"),
        TransferRequest(bank_ref="DEMO-3", kind=TransferKind.TRANSFER, amount=300_000.0,
                        payer="KZ12DEMO0003", payer_balance=2_100_000.0, payee="KZ77DEMO9002",
                        payer_phone=victim),
        TransferRequest(bank_ref="DEMO-4", kind=TransferKind.TRANSFER, amount=640_000.0,
                        payer="KZ12DEMO0004", payer_balance=700_000.0, payee="KZ77DEMO9100",
                        payer_phone=conned.attempt.called, at=conned_at),
    ):  # fmt: skip
        holds.check(actor=bank, request=request)
    del username


def seed_registries(container: Container, username: str) -> None:
    """A synthetic region of driving schools with known fraud, checked (once); and yesterday's
    e-scooter trips of three operators sent as their feeds (once)."""
    from kupol.schools.generator import generate_region
    from kupol.scooters.demo import seed_day
    from kupol.scooters.generator import generate_day

    actor = container.auth.principal_of(username)
    if not container.schools.regions():
        region = generate_region(seed=11)
        container.schools.import_snapshot(actor=actor, snapshot=region.data)
        container.schools.check(actor=actor)
    if not container.scooters.operators(actor=actor):
        yesterday = (datetime.now(UTC) + timedelta(hours=5)).date() - timedelta(days=1)
        day = generate_day(trips=2000, scooters=400, seed=11, day=yesterday)
        accounts = {
            o.provider_id: _partner(container, f"demo-{o.name.split()[0].lower()}",
                                    Role.MOBILITY, f"Demo: {o.name}'s system")
            for o in day.operators
        }  # fmt: skip
        seed_day(container.scooters, manager=actor, accounts=accounts, day=day)


def seed_citizens_demo(container: Container, settings: Settings, username: str) -> None:
    """Two citizens' reports of the intersection's red-light run, confirmed, the fine paid and
    the first rewarded; a public-order incident; a helper with a quarter's patrols (once)."""
    from kupol.citizens.demo import seed_citizens

    camera = next(c for c in DEMO_CAMERAS if c.id == TRAFFIC_CAMERA)
    gateway = _partner(container, "demo-payments", Role.DEVICE, "Demo: payment gateway")
    seeded = seed_citizens(
        container.citizens, auth=container.auth, traffic=container.traffic,
        documents=container.documents, officer=container.auth.principal_of(username),
        gateway=gateway, clip=intersection_clip(settings),
        place=(camera.latitude, camera.longitude),
    )  # fmt: skip
    if seeded is not None:
        log.info("citizens' reports %s and %s of one red-light run: reward %s ₸",
                 seeded.first_report, seeded.second_report, seeded.reward_tenge)  # fmt: skip


def _partner(container: Container, username: str, role: Role, full_name: str) -> Principal:
    with contextlib.suppress(ConflictError):
        container.auth.create_user(
            username=username, password=secrets.token_urlsafe(16), roles=[role],
            full_name=full_name, locale="ru",
        )  # fmt: skip
    return container.auth.principal_of(username)


def prepare_demo(
    settings: Settings, *, video: Path | None, port: int, host: str
) -> tuple[Settings, tuple[str, str]]:
    """Migrate, seed, point the demo cameras at their videos; returns settings and login."""
    upgrade(settings.database.url)
    if settings.fleet.roads is None:  # the units are routed over the demo city's streets
        roads = write_roads(settings.data_dir / "fleet-roads.geojson")
        data = settings.model_dump()
        data.update(fleet={**data["fleet"], "roads": roads})
        settings = Settings.model_validate(data)
    container = build_container(settings)
    try:
        seed(container)
        for camera_id, path in pick_videos(settings, video).items():
            camera = container.cameras.get(camera_id)
            if camera.stream_url != path:
                container.cameras.update(
                    camera_id=camera_id, changes=CameraUpdate(stream_url=path), actor=SYSTEM
                )
        login = ensure_admin(container)
        seed_watchlist(container, login[0])
        seed_hotlist(container, login[0])
        seed_owners(container, login[0])
        seed_roads(container, login[0])
        seed_antifraud(container, login[0])
        seed_fleet(container, container.auth.principal_of(login[0]))
        seed_registries(container, login[0])
        dock = seed_evidence(container, settings, login[0])
        if dock is not None:
            log.info("a docked body camera's folder to import in the console: %s", dock)
        seed_citizens_demo(container, settings, login[0])
    finally:
        container.db.dispose()
    data = settings.model_dump()
    data.update(server={**data["server"], "host": host, "port": port})
    if mqtt_reachable(settings):
        # The crossing's warning lights and the controllers' feed go over the local broker.
        data.update(traffic={**data["traffic"], "mqtt": True})
        # So does the robot dog's telemetry.
        data.update(fleet={**data["fleet"], "mqtt": True})
    # The drone talks MAVLink to kupol on 127.0.0.1:14550; both fly and walk while it runs.
    data.update(fleet={**data["fleet"], "mavlink": True, "simulate": True})
    return Settings.model_validate(data), login
