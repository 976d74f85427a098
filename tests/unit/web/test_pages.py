"""Console pages without a browser: redirects, the login form, 403 pages, headers, texts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kupol.api import create_app
from kupol.bootstrap import Container, build_container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth.service import SYSTEM
from kupol.web.i18n import translate
from tests.conftest import add_user, demo_camera, make_settings

PAGES = ["/", "/map", "/cameras", "/search", "/audit"]


@pytest.fixture
def console(sqlite_url: str, tmp_path: Path, fast_passwords: None) -> Iterator[Container]:
    container = build_container(make_settings(database_url=sqlite_url, data_dir=tmp_path))
    container.cameras.register(camera=CameraCreate(**demo_camera("ast-test-01")), actor=SYSTEM)
    yield container
    container.db.dispose()


@pytest.fixture
def client(console: Container) -> Iterator[TestClient]:
    with TestClient(create_app(console), follow_redirects=False) as c:
        yield c


def log_in(client: TestClient, console: Container, username: str, *roles: str) -> Any:
    _, password = add_user(console, username, *roles)
    return client.post("/login", data={"username": username, "password": password})


@pytest.mark.parametrize("path", PAGES)
def test_pages_send_strangers_to_the_login_page(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == (
        "/login" if path == "/" else f"/login?next=%2F{path[1:]}"
    )


def test_the_login_form_sets_the_api_session_cookies(
    client: TestClient, console: Container
) -> None:
    response = log_in(client, console, "ivanov", "operator")
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert {"kupol_session", "kupol_csrf"} <= set(response.cookies)
    assert client.get("/api/me").json()["username"] == "ivanov"


def test_a_wrong_password_renders_the_form_again_with_an_error(
    client: TestClient, console: Container
) -> None:
    add_user(console, "ivanov", "operator")
    response = client.post(
        "/login", data={"username": "ivanov", "password": "wrong-one-12", "lang": "kk"}
    )
    assert response.status_code == 401
    assert translate("kk", "login.error") in response.text
    assert 'value="ivanov"' in response.text and "kupol_session" not in response.cookies


def test_a_login_posted_from_another_site_is_refused(
    client: TestClient, console: Container
) -> None:
    _, password = add_user(console, "ivanov", "operator")
    response = client.post(
        "/login",
        data={"username": "ivanov", "password": password},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403 and "kupol_session" not in response.cookies


def test_the_login_returns_only_to_local_pages(client: TestClient, console: Container) -> None:
    _, password = add_user(console, "ivanov", "operator")
    response = client.post(
        "/login", data={"username": "ivanov", "password": password, "next": "https://evil.example/"}
    )
    assert response.headers["location"] == "/"


@pytest.mark.parametrize(
    ("roles", "allowed"),
    [
        (("operator",), {"/", "/map", "/cameras", "/search"}),
        (("auditor",), {"/map", "/cameras", "/audit"}),
        (("admin",), {"/", "/map", "/cameras"}),
    ],
)
def test_each_page_opens_only_for_its_permission(
    client: TestClient, console: Container, roles: tuple[str, ...], allowed: set[str]
) -> None:
    log_in(client, console, "someone", *roles)
    for path in PAGES:
        response = client.get(path)
        if path in allowed:
            assert response.status_code == 200, path
            assert f'href="{path}" data-page=' in response.text
        elif path == "/":
            assert response.status_code == 303  # to the user's own first page
        else:
            assert response.status_code == 403, path
            assert translate("ru", "forbidden.title") in response.text


def test_a_role_with_no_pages_gets_the_403_page_at_home(
    client: TestClient, console: Container
) -> None:
    log_in(client, console, "edge-box", "device")
    response = client.get("/")
    assert response.status_code == 403
    assert translate("ru", "forbidden.no_pages") in response.text


def test_pages_are_in_the_users_language(client: TestClient, console: Container) -> None:
    log_in(client, console, "ivanov", "operator")
    client.put(
        "/api/me/locale",
        json={"locale": "kk"},
        headers={"X-CSRF-Token": client.cookies["kupol_csrf"]},
    )
    page = client.get("/search").text
    assert '<html lang="kk">' in page
    assert translate("kk", "search.audit_notice") in page


def test_pages_forbid_outside_resources(client: TestClient, console: Container) -> None:
    log_in(client, console, "ivanov", "operator")
    for path in ["/login", "/", "/map"]:
        response = client.get(path, follow_redirects=True)
        policy = response.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "http://" not in response.text.replace("http://www.w3.org", "")
        assert "https://" not in response.text


def test_the_map_page_carries_every_camera(client: TestClient, console: Container) -> None:
    log_in(client, console, "ivanov", "operator")
    page = client.get("/map").text
    assert page.count('class="marker kind-') == 1
    assert 'data-camera-id="ast-test-01"' in page


def test_static_files_are_served(client: TestClient) -> None:
    for name in ["app.css", "app.js", "dashboard.js", "map.js", "search.js", "audit.js"]:
        assert client.get(f"/static/{name}").status_code == 200, name


@pytest.mark.parametrize(
    "role", ["operator", "traffic_officer", "investigator", "analyst", "admin", "fraud_analyst"]
)
def test_every_page_in_a_role_s_navigation_renders(
    client: TestClient, console: Container, role: str
) -> None:
    from kupol.core.auth import Principal
    from kupol.web.session import pages_for

    log_in(client, console, "someone", role)
    who = Principal(user_id=1, username="someone", full_name="", roles=(role,), locale="ru")
    for page in pages_for(who):
        response = client.get(page.path)
        assert response.status_code == 200, f"{role}: {page.path} {response.status_code}"


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_the_public_pages_render_for_anyone(client: TestClient, lang: str) -> None:
    for path in ("/portal", "/public/schools", "/public/citizens"):
        response = client.get(f"{path}?lang={lang}")
        assert response.status_code == 200, path
        assert translate(lang, "nav.language") in response.text
    odd = client.get("/public/citizens?period=someday")  # a bad period: this year instead
    assert odd.status_code == 200


def test_map_tiles_are_drawn_here_or_read_from_a_tile_folder_and_nothing_else(
    client: TestClient, console: Container, tmp_path: Path
) -> None:
    from kupol.web.citizens_pages import tiles_for
    from kupol.web.tiles import FolderTiles, tile_of

    x, y = tile_of(51.1283, 71.4305, 12)
    drawn = client.get(f"/tiles/12/{x}/{y}.png")
    assert drawn.status_code == 200 and drawn.content.startswith(b"\x89PNG")
    assert client.get("/tiles/12/99999/1.png").status_code == 404
    assert client.get("/tiles/40/0/0.png").status_code == 404
    assert client.get("/tiles/-1/0/0.png").status_code == 404
    pack = tmp_path / "pack"
    (pack / "3" / "5").mkdir(parents=True)
    (pack / "3" / "5" / "2.png").write_bytes(b"\x89PNG tile")
    (tmp_path / "secret.png").write_bytes(b"no")
    folder = tiles_for(pack, None)
    assert isinstance(folder, FolderTiles)
    assert folder.tile(3, 5, 2) == b"\x89PNG tile"
    assert folder.tile(3, 5, 3) is None
    assert folder.tile(0, 0, 0) is None
