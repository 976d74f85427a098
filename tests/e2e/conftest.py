"""Browser-test fixtures: a real uvicorn server on a fresh SQLite database, one Chromium.

The server runs in a background thread of the test process, so tests can also reach into
its container (create a rule, read the audit log) while the browser drives the console.
Chromium is Debian's (/usr/bin/chromium, or KUPOL_CHROMIUM); without it the browser tests
skip, or fail under KUPOL_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from kupol.api import create_app
from kupol.bootstrap import Container, build_container
from tests.conftest import make_settings, require_services
from tests.e2e import seed as seed_data

CHROMIUM = os.environ.get("KUPOL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1366, "height": 768}
TIMEZONE = "Asia/Almaty"
# Refused requests (401, 403, 428) are part of the tests; Chromium logs each one.
EXPECTED_ERRORS = ("Failed to load resource",)
_names = itertools.count(1)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    """A running console: its URL and the container behind it."""

    url: str
    container: Container
    server: uvicorn.Server
    thread: threading.Thread

    def add_user(
        self, *roles: str, prefix: str = "user", locale: str = "ru", full_name: str = ""
    ) -> tuple[str, str]:
        """A new user with a unique name; returns (username, password)."""
        username = f"{prefix}{next(_names)}"
        password = f"{username}-password-123"
        self.container.auth.create_user(
            username=username, password=password, roles=roles, locale=locale, full_name=full_name
        )
        return username, password

    def set_locale(self, username: str, locale: str) -> None:
        """Change a user's console language directly in the database."""
        principal = next(p for p, _ in self.container.auth.list_users() if p.username == username)
        self.container.auth.set_locale(principal=principal, locale=locale)

    def token(self, username: str, password: str) -> dict[str, str]:
        """Bearer headers for a user (logging in through the API)."""
        response = httpx.post(
            f"{self.url}/api/auth/login", json={"username": username, "password": password}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def stop(self) -> None:
        """Shut the server down and close the database."""
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.container.db.dispose()


def start_server(
    sqlite_template: Path,
    folder: Path,
    prepare: Callable[[Container], None] | None = seed_data.seed,
    **overrides: Any,
) -> LiveServer:
    """Copy the migrated template database into ``folder``, seed it and serve it.

    ``overrides`` are settings sections, e.g. ``vision={"enabled": True}`` for camera pipelines.
    """
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / "kupol.sqlite"
    shutil.copy(sqlite_template, database)
    settings = make_settings(
        database_url=f"sqlite:///{database}",
        data_dir=folder / "data",
        security={"login_max_failures": 50},
        **overrides,
    )
    container = build_container(settings)
    if prepare is not None:
        # Playwright's sync API keeps an event loop in this thread; seeding awaits services.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(prepare, container).result()
    port = free_port()
    config = uvicorn.Config(
        create_app(container),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        ws="none",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"kupol-e2e-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    return LiveServer(
        url=f"http://127.0.0.1:{port}", container=container, server=server, thread=thread
    )


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium, or skip (fail in CI) when it is not installed."""
    if Path(CHROMIUM).is_file():
        return CHROMIUM
    message = f"Chromium is not installed at {CHROMIUM}"
    if require_services():
        pytest.fail(message + " (KUPOL_REQUIRE_SERVICES=1)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    """One headless Chromium for the whole session (starting one costs seconds)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def live_server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The seeded console the functional browser tests share (each uses its own users)."""
    server = start_server(sqlite_template, tmp_path_factory.mktemp("e2e-server"))
    yield server
    server.stop()


@pytest.fixture
def new_context(browser: Any) -> Iterator[Callable[..., Any]]:
    """Open browser contexts (separate cookie jars) at 1366×768 in Almaty time.

    Script errors and Content-Security-Policy violations in any page fail the test.
    """
    contexts: list[Any] = []
    problems: list[str] = []

    def watch(page: Any) -> None:
        page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
        page.on(
            "console",
            lambda message: (
                problems.append(f"{page.url}: {message.text}")
                if message.type == "error" and not message.text.startswith(EXPECTED_ERRORS)
                else None
            ),
        )

    def open_context(base_url: str, **options: Any) -> Any:
        settings = {
            "viewport": VIEWPORT,
            "timezone_id": TIMEZONE,
            "locale": "ru-RU",
            "device_scale_factor": 1,
            **options,
        }  # a phone's screen, another locale …
        context = browser.new_context(base_url=base_url, **settings)
        context.set_default_timeout(8000)
        context.on("page", watch)
        contexts.append(context)
        return context

    yield open_context
    for context in contexts:
        context.close()
    assert not problems, "errors in the browser console:\n" + "\n".join(problems)


@pytest.fixture
def page(new_context: Callable[..., Any], live_server: LiveServer) -> Any:
    """A fresh page on the shared server, not logged in."""
    return new_context(live_server.url).new_page()


def login_ui(page: Any, username: str, password: str) -> None:
    """Log in through the login form."""
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")


def login_api(context: Any, username: str, password: str) -> None:
    """Log a browser context in through the API (same cookies, no page load)."""
    response = context.request.post(
        "/api/auth/login", data={"username": username, "password": password}
    )
    assert response.ok, response.text()


def expect_images_loaded(images: Any) -> None:
    """Wait until every image of a locator has loaded, and check none is broken.

    (``page.wait_for_function`` would be simpler, but it evaluates strings, which the
    console's Content-Security-Policy rightly forbids.)
    """
    from playwright.sync_api import expect

    for index in range(images.count()):
        image = images.nth(index)
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") > 0, f"image {index} is broken"
