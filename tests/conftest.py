"""Shared fixtures: settings, databases on SQLite and PostgreSQL, containers, users, clients.

Tests that need a server (PostgreSQL, NATS, Mosquitto, Chromium) skip with a reason when it
is absent, except when KUPOL_REQUIRE_SERVICES=1 (CI), where they fail instead. Tests that
need ../shared/data do the same under KUPOL_REQUIRE_DATA=1.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert, select, text

from kupol.bootstrap import Container, build_container
from kupol.core.auth import Principal
from kupol.core.db import Base, upgrade
from kupol.settings import Settings, load_settings
from kupol.tables import import_all_tables

ROOT = Path(__file__).resolve().parents[1]
TEST_SECRET = "test-secret-that-is-long-enough-0123456789"
PG_ADMIN_URL = os.environ.get(
    "KUPOL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
NATS_URL = os.environ.get("KUPOL_TEST_NATS_URL", "nats://127.0.0.1:4222")
MQTT_HOST = os.environ.get("KUPOL_TEST_MQTT_HOST", "127.0.0.1")
DATA_ROOT = Path(os.environ.get("KUPOL_DATA_ROOT", str(ROOT.parent / "shared" / "data")))

import_all_tables()


def require_services() -> bool:
    """Whether missing servers must fail the run (CI) rather than skip."""
    return os.environ.get("KUPOL_REQUIRE_SERVICES") == "1"


def port_open(host: str, port: int) -> bool:
    """Whether something listens on host:port."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need_service(name: str, host: str, port: int) -> None:
    """Skip (or fail in CI) when a server is not reachable."""
    if port_open(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if require_services():
        pytest.fail(message + " (KUPOL_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def need_data(*relative: str) -> Path:
    """The path of a file or folder in ../shared/data; skip (or fail in CI) when absent."""
    path = DATA_ROOT.joinpath(*relative)
    if path.exists():
        return path
    message = f"shared data {path} is absent"
    if os.environ.get("KUPOL_REQUIRE_DATA") == "1":
        pytest.fail(message + " (KUPOL_REQUIRE_DATA=1)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database, copied for each test (migrating once is faster)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


@contextmanager
def fresh_postgres(prefix: str = "kupol_test") -> Iterator[str]:
    """A new, migrated PostgreSQL database on the machine's server (its URL), dropped after."""
    need_service("PostgreSQL", "127.0.0.1", 5432)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
            upgrade(url)
            _remember_seeded(url)
            yield url
        finally:
            _drop_later(name)
    finally:
        admin.dispose()


_DROPPING: list[threading.Thread] = []


def _drop_later(name: str) -> None:
    """Drop a test database in the background: DROP DATABASE waits for a checkpoint of the
    whole server (about a minute once the suite has written a lot), which need not hold up
    the next tests. The drops are waited for when the session finishes."""

    def drop() -> None:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()

    thread = threading.Thread(target=drop, name=f"drop {name}", daemon=True)
    thread.start()
    _DROPPING.append(thread)


@pytest.hookimpl(trylast=True)  # after the session's fixtures (and their drops) are done
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    for thread in _DROPPING:
        thread.join(300)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session, dropped at the end."""
    with fresh_postgres() as url:
        yield url


SEEDED_TABLES = ("alert_rules",)
"""Tables the migrations fill (the standing alert rules of 0043): a database emptied for the
next test gets those rows back, as a new deployment has them."""
_SEEDED: dict[str, dict[str, list[dict[str, Any]]]] = {}


def _remember_seeded(url: str) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        _SEEDED[url] = {
            name: [dict(row) for row in conn.execute(select(Base.metadata.tables[name])).mappings()]
            for name in SEEDED_TABLES
        }
    engine.dispose()


def _truncate_postgres(url: str) -> None:
    """Empty every table and restart every sequence, as ``TRUNCATE … RESTART IDENTITY``
    would, then put back the rows the migrations seed (:data:`SEEDED_TABLES`). DELETE is
    used: a test leaves a few rows, and TRUNCATE of the 80 tables gives each a new file
    (0.24 s a test, against 0.02 s). Triggers and foreign-key checks are off for the
    transaction (``session_replication_role``), which lifts the append-only triggers."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f'DELETE FROM "{table.name}"'))
        conn.execute(
            text(
                "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, "
                "start_value, false) FROM pg_sequences WHERE schemaname = 'public'"
            )
        )
        for name, rows in _SEEDED.get(url, {}).items():
            if rows:
                conn.execute(insert(Base.metadata.tables[name]), rows)
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), :n)"),
                    {"n": max(row["id"] for row in rows)},
                )
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty database: each storage test runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "kupol.sqlite"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    _truncate_postgres(url)
    return url


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated SQLite database only (for tests about things other than storage)."""
    path = tmp_path / "kupol.sqlite"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


def make_settings(*, database_url: str, data_dir: Path, **overrides: Any) -> Settings:
    """Test settings: test mode, a real secret, data under ``data_dir``, no kupol.toml."""
    security = {"secret_key": TEST_SECRET, **overrides.pop("security", {})}
    # Camera pipelines only where a test asks for them (by passing ``vision``).
    overrides.setdefault("vision", {"enabled": False})
    return load_settings(
        toml_file=None,
        environ={},
        mode="test",
        data_dir=data_dir,
        database={"url": database_url},
        security=security,
        **overrides,
    )


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return make_settings(database_url=database_url, data_dir=tmp_path / "data")


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    c = build_container(settings)
    yield c
    c.db.dispose()


def add_user(container: Container, username: str, *roles: str) -> tuple[Principal, str]:
    """Create a user with a known password; returns the principal and password."""
    password = f"{username}-password-123"
    principal, _ = container.auth.create_user(username=username, password=password, roles=roles)
    return principal, password


@pytest.fixture
def admin(container: Container) -> Principal:
    return add_user(container, "admin", "admin")[0]


@pytest.fixture
def operator(container: Container) -> Principal:
    return add_user(container, "operator", "operator")[0]


@pytest.fixture
def auditor(container: Container) -> Principal:
    return add_user(container, "auditor", "auditor")[0]


@pytest.fixture
def api(container: Container) -> Iterator[Any]:
    """A TestClient on the app (runs start-up and shut-down)."""
    from fastapi.testclient import TestClient

    from kupol.api import create_app

    with TestClient(create_app(container)) as client:
        yield client


def login(client: Any, username: str, password: str) -> dict[str, str]:
    """Log in through the API; returns headers with the Bearer token."""
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def demo_camera(camera_id: str = "cam-test-01", **fields: Any) -> dict[str, Any]:
    """A valid camera body for the API."""
    return {
        "id": camera_id,
        "name": f"Camera {camera_id}",
        "kind": "fixed",
        "latitude": 51.128,
        "longitude": 71.430,
        **fields,
    }


def pytest_configure(config: pytest.Config) -> None:
    """The command line's messages unwrapped (rich wraps at the terminal's width, 80 without
    one): a test reads them whole, and temporary paths are long in the test processes."""
    os.environ["COLUMNS"] = "250"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Run the browser tests last: Playwright's sync API keeps an event loop running in the
    main thread for the whole session, which would break asyncio tests collected after it."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
