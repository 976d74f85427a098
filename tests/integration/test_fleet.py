"""The fleet on SQLite and PostgreSQL: units registered (bad ones refused, audited), telemetry
batched into tracks, links watched, battery advisories raised once and cleared — and the real
protocols: a simulated drone's MAVLink over UDP and a simulated robot dog's JSON over MQTT
(Mosquitto on 1883), both on loopback."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import select

from kupol.bootstrap import Container, build_container
from kupol.core.audit.model import AuditEntry
from kupol.core.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from kupol.core.messages import utcnow
from kupol.fleet.service import Sample, UnitSpec
from kupol.fleet.sim import DogSim, DroneSim
from tests.conftest import add_user, make_settings
from tests.unit.factories import fast_passwords, login_as

pytestmark = pytest.mark.usefixtures(fast_passwords.__name__)
ALMATY = (43.2389, 76.8897)
HIGHWAY = [(43.2000, 76.9000), (43.2090, 76.9000), (43.2090, 76.9120)]  # ~1 km, then ~1 km
PARK = [(43.2380, 76.9450), (43.2384, 76.9450), (43.2384, 76.9456), (43.2380, 76.9456)]


def drone(callsign: str = "drone-1", sysid: int | None = 7) -> UnitSpec:
    return UnitSpec(callsign=callsign, kind="drone", capabilities=("camera", "thermal"),
                    endurance_min=40, max_speed_kmh=70, home_lat=HIGHWAY[0][0],
                    home_lon=HIGHWAY[0][1], crew="Sgt. Abenov", mavlink_sysid=sysid)  # fmt: skip


def dog(callsign: str = "dog-1") -> UnitSpec:
    return UnitSpec(callsign=callsign, kind="robot_dog", capabilities=("camera", "speaker"),
                    endurance_min=90, max_speed_kmh=11, home_lat=PARK[0][0],
                    home_lon=PARK[0][1])  # fmt: skip


def eventually(check: Any, timeout_s: float = 15.0) -> Any:
    """``check()``'s value once it is truthy, polling (telemetry arrives when it arrives)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_units_are_registered_with_checks_and_an_audit_record(container: Container) -> None:
    admin = add_user(container, "admin", "admin")[0]
    officer = add_user(container, "officer", "traffic_officer")[0]
    fleet = container.fleet.fleet
    unit = fleet.register(actor=admin, spec=drone())
    assert (unit.callsign, unit.status, unit.link, unit.position) == (
        "drone-1",
        "idle",
        "none",
        None,
    )
    assert unit.capabilities == ["camera", "thermal"]
    bad = [
        ({"callsign": "Drone 1"}, "callsign"),
        ({"kind": "submarine"}, "kind"),
        ({"capabilities": ("laser",)}, "unknown capabilities laser"),
        ({"home_lat": 95.0}, "latitude"),
        ({"endurance_min": 0}, "endurance"),
        ({"max_speed_kmh": float("nan")}, "max_speed"),
        ({"mavlink_sysid": 300}, "mavlink_sysid"),
    ]
    for change, message in bad:
        spec = UnitSpec(**{**drone("drone-9", None).__dict__, **change})
        with pytest.raises(InvalidInputError, match=message):
            fleet.register(actor=admin, spec=spec)
    with pytest.raises(InvalidInputError, match="only drones"):
        fleet.register(actor=admin, spec=UnitSpec(**{**dog().__dict__, "mavlink_sysid": 9}))
    with pytest.raises(ConflictError):
        fleet.register(actor=admin, spec=drone("drone-2", sysid=7))  # the MAVLink id is taken
    with pytest.raises(PermissionDeniedError):
        fleet.register(actor=officer, spec=dog())
    assert [u.callsign for u in fleet.units(actor=officer)] == ["drone-1"]
    with container.db.reader() as session:
        audited = [(e.action, e.resource_id) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.resource_type == "fleet_unit"))]  # fmt: skip
    assert audited == [("register", "drone-1")]


def test_telemetry_is_batched_into_tracks_and_advisories_raised_once_and_cleared(
    container: Container,
) -> None:
    admin = add_user(container, "admin", "admin")[0]
    fleet = container.fleet.fleet
    fleet.register(actor=admin, spec=dog())
    start = utcnow()
    for i, battery in enumerate([80, 29, 28, 14, 13, 60]):
        fleet.accept("dog-1", Sample(at=start + timedelta(seconds=i), lat=PARK[0][0],
                                     lon=PARK[0][1] + i * 1e-5, battery_pct=battery,
                                     speed_mps=1.4, status="on_mission"))  # fmt: skip
    with pytest.raises(InvalidInputError, match="older"):
        fleet.accept("dog-1", Sample(at=start, lat=PARK[0][0], lon=PARK[0][1]))
    with pytest.raises(InvalidInputError, match="battery_pct"):
        fleet.accept("dog-1", Sample(at=start + timedelta(seconds=9), lat=0, lon=0,
                                     battery_pct=140))  # fmt: skip
    with pytest.raises(NotFoundError):
        fleet.accept("dog-404", Sample(at=start, lat=0, lon=0))
    assert (fleet.accepted, fleet.rejected) == (6, 3)
    events = fleet.flush()
    # Each condition raised once while it lasted, then cleared when the battery came back.
    assert [(e.advisory, e.cleared) for e in events] == [
        ("battery_low", False), ("battery_critical", False),
        ("battery_critical", True), ("battery_low", True),
    ]  # fmt: skip
    assert fleet.flush() == []  # nothing new
    track = fleet.track(actor=admin, callsign="dog-1")
    assert [p["battery_pct"] for p in track] == [80, 29, 28, 14, 13, 60]
    unit = fleet.unit(actor=admin, callsign="dog-1")
    assert unit.battery_pct == 60 and unit.status == "on_mission" and unit.link == "ok"
    assert unit.advisories == []
    history = fleet.advisories(actor=admin, open_only=False)
    assert sorted(a.kind for a in history) == ["battery_critical", "battery_low"]
    assert all(a.cleared_at is not None for a in history)

    # Silence: stale after 5 s, lost after 15 s; a sample brings the link back.
    last = start + timedelta(seconds=5)
    fleet.watch(last + timedelta(seconds=6))
    fleet.watch(last + timedelta(seconds=7))  # still stale: not raised again
    assert [(e.advisory, e.cleared) for e in fleet.flush()] == [("link_stale", False)]
    fleet.watch(last + timedelta(seconds=16))
    assert [(e.advisory, e.cleared) for e in fleet.flush()] == [
        ("link_stale", True), ("link_lost", False)]  # fmt: skip
    assert fleet.unit(actor=admin, callsign="dog-1").link == "lost"
    assert fleet.unit(actor=admin, callsign="dog-1").advisories == ["link_lost"]
    fleet.accept("dog-1", Sample(at=last + timedelta(seconds=20), lat=PARK[1][0], lon=PARK[1][1]))
    assert [(e.advisory, e.cleared) for e in fleet.flush()] == [("link_lost", True)]
    assert fleet.unit(actor=admin, callsign="dog-1").link == "ok"


def _running(settings: Any) -> tuple[Container, asyncio.AbstractEventLoop, threading.Thread]:
    """A container started on its own event loop thread (as the server runs it)."""
    container = build_container(settings)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(container.start(with_sources=False), loop).result(30)
    return container, loop, thread


def mavlink_server(
    database_url: str, tmp_path: Path
) -> tuple[Container, asyncio.AbstractEventLoop, threading.Thread, int]:
    """A started container listening for MAVLink on a free UDP port (and that port)."""
    port = free_udp_port()
    settings = make_settings(database_url=database_url, data_dir=tmp_path / "data",
                             fleet={"mavlink": True, "mavlink_port": port,
                                    "flush_every_s": 0.1})  # fmt: skip
    return (*_running(settings), port)


def _stop(container: Container, loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    asyncio.run_coroutine_threadsafe(container.stop(), loop).result(30)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


def test_a_simulated_drone_s_mavlink_over_udp_becomes_its_track(
    database_url: str, tmp_path: Path
) -> None:
    container, loop, thread, port = mavlink_server(database_url, tmp_path)
    try:
        admin = add_user(container, "admin", "admin")[0]
        container.fleet.fleet.register(actor=admin, spec=drone())
        sim = DroneSim(sysid=7, route=HIGHWAY, target=f"127.0.0.1:{port}", speed_mps=50,
                       rate_hz=4, endurance_min=1.2, speedup=20)  # fmt: skip
        stranger = DroneSim(sysid=99, route=HIGHWAY[:2], target=f"127.0.0.1:{port}",
                            speed_mps=50, speedup=50)  # fmt: skip
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as noise:
            noise.sendto(b"hello, this is not mavlink", ("127.0.0.1", port))
        stranger.run()
        sim.run()  # ~2 km out and ~1.5 km home at 50 m/s, 20x: about 4 s

        def stored() -> list[dict[str, Any]]:
            return container.fleet.fleet.track(actor=admin, callsign="drone-1", limit=10_000)

        track = eventually(lambda: len(stored()) == sim.sent and stored())
        listener = container.fleet.mavlink
        assert listener is not None and listener.bad_packets >= 1
        assert len(track) == sim.sent, (len(stored()), sim.sent)
        assert {p["source"] for p in track} == {"mavlink"}
        far = max(track, key=lambda p: abs(p["lon"] - HIGHWAY[0][1]))
        assert far["lat"] == pytest.approx(HIGHWAY[2][0], abs=1e-5)
        assert far["lon"] == pytest.approx(HIGHWAY[2][1], abs=1e-5)
        assert track[-1]["lat"] == pytest.approx(HIGHWAY[0][0], abs=1e-5)  # home again
        assert track[5]["alt_m"] == pytest.approx(80, abs=0.01)
        assert track[5]["speed_mps"] == pytest.approx(50, abs=0.5)
        assert track[5]["heading_deg"] == pytest.approx(0, abs=1)  # due north on the first leg
        unit = container.fleet.fleet.unit(actor=admin, callsign="drone-1")
        assert unit.status == "returning" and unit.link == "ok"
        # 72 s of endurance over a ~68 s flight: the battery ends under 15 %.
        assert unit.battery_pct is not None and unit.battery_pct < 15
        assert unit.advisories == ["battery_critical", "battery_low"]
        assert [u.callsign for u in container.fleet.fleet.units(actor=admin)] == ["drone-1"]
    finally:
        _stop(container, loop, thread)


def test_a_simulated_robot_dog_s_mqtt_telemetry_becomes_its_track(
    database_url: str, tmp_path: Path
) -> None:
    topic_prefix = f"kupol/units/dog-{int(time.time() * 1000) % 100000}"
    callsign = topic_prefix.rsplit("/", 1)[1]
    settings = make_settings(database_url=database_url, data_dir=tmp_path / "data",
                             fleet={"mqtt": True, "flush_every_s": 0.1})  # fmt: skip
    container, loop, thread = _running(settings)
    rejected: list[dict[str, str]] = []
    watcher = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    watching = threading.Event()
    watcher.on_message = lambda _c, _u, m: rejected.append(json.loads(m.payload))
    watcher.on_subscribe = lambda *_: watching.set()
    watcher.connect("127.0.0.1", 1883, 30)
    watcher.subscribe(f"{topic_prefix}/telemetry/rejected", qos=1)
    watcher.loop_start()
    try:
        admin = add_user(container, "admin", "admin")[0]
        container.fleet.fleet.register(actor=admin, spec=dog(callsign))
        assert watching.wait(10)  # kupol's own subscription is confirmed before start returns
        sim = DogSim(callsign=callsign, route=PARK, speed_mps=1.5, rate_hz=2, laps=1,
                     speedup=20)  # fmt: skip
        sim.run()
        watcher.publish(f"{topic_prefix}/telemetry", b'{"lat": 43.2, "lon": 76.9}', qos=1)
        watcher.publish(f"{topic_prefix}/telemetry", b"not json", qos=1)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            track = container.fleet.fleet.track(actor=admin, callsign=callsign)
            if len(track) >= sim.sent and len(rejected) >= 2:
                break
            time.sleep(0.1)
        assert len(track) == sim.sent and sim.sent > 20
        assert {p["source"] for p in track} == {"mqtt"}
        assert track[0]["lat"] == pytest.approx(PARK[0][0], abs=1e-6)
        assert "at: Field required" in rejected[0]["reason"]
        assert "JSON" in rejected[1]["reason"] or "json" in rejected[1]["reason"]
        unit = container.fleet.fleet.unit(actor=admin, callsign=callsign)
        assert unit.status == "on_mission" and unit.position is not None
    finally:
        watcher.loop_stop()
        watcher.disconnect()
        _stop(container, loop, thread)


def test_operators_register_units_and_everyone_on_duty_sees_them_over_the_api(
    api: Any, container: Container
) -> None:
    operator = login_as(api, container, "duty", "operator")
    officer = login_as(api, container, "officer", "traffic_officer")
    body = {"callsign": "dog-park-2", "kind": "robot_dog", "capabilities": ["camera"],
            "endurance_min": 90, "max_speed_kmh": 11, "home_lat": ALMATY[0],
            "home_lon": ALMATY[1]}  # fmt: skip
    made = api.post("/api/fleet/units", json=body, headers=operator)
    assert made.status_code == 201, made.text
    assert api.post("/api/fleet/units", json=body, headers=operator).status_code == 409
    assert api.post("/api/fleet/units", json=body, headers=officer).status_code == 403
    bad = api.post("/api/fleet/units", json={**body, "callsign": "x y"}, headers=operator)
    assert bad.status_code == 422 and "callsign" in bad.text
    listed = api.get("/api/fleet/units", headers=officer).json()
    assert [(u["callsign"], u["status"], u["link"]) for u in listed] == [
        ("dog-park-2", "idle", "none")]  # fmt: skip
    changed = api.put("/api/fleet/units/dog-park-2/status", json={"status": "charging"},
                      headers=operator)  # fmt: skip
    assert changed.status_code == 200 and changed.json()["status"] == "charging"
    assert api.get("/api/fleet/units/nope", headers=officer).status_code == 404
    assert api.get("/api/fleet/units/dog-park-2/track", headers=officer).json() == []
    assert api.get("/api/fleet/advisories", headers=officer).json() == []


def test_advisories_reach_the_bus_whoever_flushed_them(container: Container) -> None:
    admin = add_user(container, "admin", "admin")[0]
    fleet = container.fleet.fleet
    fleet.register(actor=admin, spec=dog())
    fleet.accept("dog-1", Sample(at=utcnow(), lat=PARK[0][0], lon=PARK[0][1], battery_pct=20))
    fleet.track(actor=admin, callsign="dog-1")  # a read flushes first
    taken = fleet.take_messages()
    assert [(m.callsign, m.advisory, m.cleared) for m in taken] == [("dog-1", "battery_low", False)]
    assert fleet.take_messages() == []
