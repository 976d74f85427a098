"""A kill -9 of the service during ingestion loses no event it acknowledged."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select

from kupol.bootstrap import build_container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth.service import SYSTEM
from kupol.events.model import CameraEvent
from tests.conftest import make_settings, need_service

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(env: dict[str, str], port: int, cwd: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "kupol", "run", "--port", str(port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=(cwd / "server.log").open("ab"),
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            raise AssertionError((cwd / "server.log").read_text()[-3000:])
        time.sleep(0.2)
    process.kill()
    raise AssertionError("server did not become ready")


@pytest.fixture(params=["sqlite+memory", "postgresql+nats"])
def deployment(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_url: str
) -> Iterator[dict[str, str]]:
    if request.param == "sqlite+memory":
        url, bus = sqlite_url, "memory"
    else:
        need_service("NATS", "127.0.0.1", 4222)
        url, bus = request.getfixturevalue("database_url_postgres"), "nats"
    settings = make_settings(database_url=url, data_dir=tmp_path / "data")
    container = build_container(settings)
    container.cameras.register(
        camera=CameraCreate(id="cam-crash", name="crash test", latitude=51.1, longitude=71.4),
        actor=SYSTEM,
    )
    container.auth.create_user(username="edge", password="edge-password-1", roles=["device"])
    container.db.dispose()
    stream = f"KC{uuid.uuid4().hex[:8].upper()}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("KUPOL_")},
        "KUPOL_MODE": "dev",
        "KUPOL_DATABASE__URL": url,
        "KUPOL_BUS__TYPE": bus,
        "KUPOL_BUS__STREAM": stream,
        "KUPOL_BUS__ACK_WAIT_S": "3",
        "KUPOL_BUS__SUBJECT_PREFIX": stream.lower(),
        "KUPOL_DATA_DIR": str(tmp_path / "data"),
    }
    yield env
    if bus == "nats":
        import asyncio

        from kupol.core.bus.nats import JetStreamBus

        async def purge() -> None:
            b = JetStreamBus(url="nats://127.0.0.1:4222", stream=stream)
            await b.start()
            await b.purge()
            await b.stop()

        asyncio.run(purge())


@pytest.fixture
def database_url_postgres(postgres_database: str) -> str:
    from tests.conftest import _truncate_postgres

    _truncate_postgres(postgres_database)
    return postgres_database


def test_kill_9_during_ingestion_loses_no_acknowledged_event(
    deployment: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    server = start_server(deployment, port, tmp_path)
    base = f"http://127.0.0.1:{port}"
    token = httpx.post(
        f"{base}/api/auth/login", json={"username": "edge", "password": "edge-password-1"}
    ).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    acknowledged: list[str] = []
    stop = threading.Event()

    def produce() -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=5) as client:
            while not stop.is_set():
                batch = [
                    {
                        "id": str(uuid.uuid4()),
                        "camera_id": "cam-crash",
                        "type": "motion",
                        "occurred_at": datetime.now(UTC).isoformat(),
                        "confidence": 0.5,
                    }
                    for _ in range(20)
                ]
                try:
                    response = client.post("/api/events", json={"events": batch})
                except httpx.HTTPError:
                    return  # the server died mid-request: that batch was never acknowledged
                if response.status_code == 202:
                    acknowledged.extend(e["id"] for e in batch)

    producer = threading.Thread(target=produce)
    producer.start()
    deadline = time.time() + 20
    while len(acknowledged) < 400 and time.time() < deadline:
        time.sleep(0.05)
    os.kill(server.pid, signal.SIGKILL)
    server.wait()
    stop.set()
    producer.join()
    assert len(acknowledged) >= 400, "the server acknowledged too few events to test anything"

    # Restart: a NATS deployment's durable consumer stores what JetStream kept.
    server = start_server(deployment, port, tmp_path)
    try:
        engine = create_engine(deployment["KUPOL_DATABASE__URL"])
        wanted = {uuid.UUID(i) for i in acknowledged}
        stored: set[uuid.UUID] = set()
        deadline = time.time() + 30
        while time.time() < deadline:
            with engine.connect() as conn:
                stored = set(conn.scalars(select(CameraEvent.id)))
            if wanted <= stored:
                break
            time.sleep(0.3)
        engine.dispose()
        missing = wanted - stored
        assert not missing, f"{len(missing)} of {len(wanted)} acknowledged events were lost"
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(15)
