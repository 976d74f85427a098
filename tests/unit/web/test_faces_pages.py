"""The faces pages: each opens only for the roles that hold its permission, the navigation
shows only those, controls to change watchlists appear only for investigators, and the pages
themselves carry no listed person's data (that comes from the audited API)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kupol.api import create_app
from kupol.bootstrap import Container, build_container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth.service import SYSTEM
from kupol.faces.model import WatchlistKind
from kupol.faces.schemas import PersonCreate, WatchlistCreate
from kupol.web.i18n import translate
from tests.conftest import add_user, demo_camera, make_settings

HITS, WATCHLISTS, SEARCH = "/faces/hits", "/faces/watchlists", "/faces/search"
FACE_PAGES = [HITS, WATCHLISTS, SEARCH]


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


def log_in(client: TestClient, console: Container, username: str, *roles: str) -> None:
    _, password = add_user(console, username, *roles)
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 303


def page_data(html: str) -> Any:
    """The JSON a page embeds for its script."""
    found = re.search(r'id="page-data">(.*?)</script>', html, re.S)
    assert found is not None
    return json.loads(found.group(1))


@pytest.mark.parametrize("path", FACE_PAGES)
def test_faces_pages_send_strangers_to_the_login_page(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=%2Ffaces%2F")


@pytest.mark.parametrize(
    ("roles", "allowed"),
    [
        (("operator",), {HITS, WATCHLISTS}),
        (("investigator",), {HITS, WATCHLISTS, SEARCH}),
        (("analyst",), set()),
        (("admin",), set()),
        (("auditor",), set()),
    ],
)
def test_each_faces_page_opens_only_for_its_permission(
    client: TestClient, console: Container, roles: tuple[str, ...], allowed: set[str]
) -> None:
    log_in(client, console, "someone", *roles)
    for path in FACE_PAGES:
        response = client.get(path)
        # One entry in the top bar for all faces pages, there only for those who may open one.
        assert ('data-page="faces"' in response.text) == bool(allowed), path
        if path in allowed:
            assert response.status_code == 200, path
            assert 'href="/faces/hits" data-page="faces" class="active"' in response.text
            tabs = set(re.findall(r'href="(/faces/\w+)" data-tab=', response.text))
            assert tabs == allowed  # the tabs list exactly the pages the user may open
        else:
            assert response.status_code == 403, path
            assert translate("ru", "forbidden.title") in response.text


def test_only_investigators_get_the_controls_that_change_watchlists(
    client: TestClient, console: Container
) -> None:
    log_in(client, console, "duty", "operator")
    page = client.get(WATCHLISTS).text
    assert 'id="new-list"' not in page and 'data-action="enrol"' not in page
    assert translate("ru", "watchlists.read_only") in page
    refused = client.post(
        "/api/faces/watchlists",
        json={"name": "Operators' own", "kind": "wanted"},
        headers={"X-CSRF-Token": client.cookies["kupol_csrf"]},
    )
    assert refused.status_code == 403  # hiding the button is not the protection

    log_in(client, console, "detective", "investigator")
    page = client.get(WATCHLISTS).text
    assert 'id="new-list"' in page and 'data-action="enrol"' in page
    assert 'id="add-person"' in page and 'id="remove-dialog"' in page
    assert translate("ru", "watchlists.read_only") not in page


def test_the_watchlists_page_names_lists_but_no_listed_person(
    client: TestClient, console: Container
) -> None:
    detective = add_user(console, "detective", "investigator")[0]
    listing = console.faces.watchlists.create(
        watchlist=WatchlistCreate(name="Розыск ДП Астаны", kind=WatchlistKind.WANTED),
        actor=detective,
    )
    console.faces.watchlists.add_person(
        watchlist_id=listing.id,
        person=PersonCreate(name="Сапаров Ерлан", reason="Постановление о розыске 12/44"),
        actor=detective,
    )
    log_in(client, console, "duty", "operator")
    page = client.get(WATCHLISTS).text
    data = page_data(page)
    assert [w["name"] for w in data["watchlists"]] == ["Розыск ДП Астаны"]
    assert data["watchlists"][0]["persons"] == 1
    for text in ("Сапаров", json.dumps("Сапаров")[1:-1]):  # persons come from the API, audited
        assert text not in page


def test_the_search_page_asks_for_a_case_and_draws_the_map_without_a_library(
    client: TestClient, console: Container
) -> None:
    log_in(client, console, "detective", "investigator")
    page = client.get(SEARCH).text
    assert 'id="face-case"' in page and 'id="face-photo"' in page
    assert '<option value="ast-test-01">' in page
    assert 'id="trail-map"' in page and "projection" in page_data(page)
    assert translate("ru", "faces.lead_notice") in page


def test_the_hit_queue_says_a_match_is_a_lead_and_listens_to_the_live_feed(
    client: TestClient, console: Container
) -> None:
    log_in(client, console, "duty", "operator")
    page = client.get(HITS).text
    assert translate("ru", "faces.lead_notice") in page
    assert page_data(page)["live"] is True
    assert page.index("faces.js") < page.index("faces_hits.js")


def test_the_faces_scripts_are_served(client: TestClient) -> None:
    for name in ["faces.js", "faces_hits.js", "faces_search.js", "faces_watchlists.js"]:
        assert client.get(f"/static/{name}").status_code == 200, name
