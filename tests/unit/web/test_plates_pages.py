"""The plates pages: they open for the field roles that may search plates, share one entry in
the top bar, show hotlist controls only to those who manage hotlists, and carry no plate
themselves (sightings, routes and listed plates come from the audited API)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kupol.api import create_app
from kupol.bootstrap import Container, build_container
from kupol.cameras.schemas import CameraCreate
from kupol.core.auth import Permission, Role
from kupol.core.auth.permissions import PERMISSIONS
from kupol.core.auth.service import SYSTEM
from kupol.web.i18n import translate
from tests.conftest import add_user, demo_camera, make_settings
from tests.unit.web.test_faces_pages import log_in, page_data

SEARCH, ROUTE, HOTLISTS = "/plates/search", "/plates/route", "/plates/hotlists"
PLATE_PAGES = [SEARCH, ROUTE, HOTLISTS]


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


@pytest.mark.parametrize("path", PLATE_PAGES)
def test_plates_pages_send_strangers_to_the_login_page(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=%2Fplates%2F")


@pytest.mark.parametrize(
    ("roles", "allowed"),
    [
        (("operator",), True),
        (("investigator",), True),
        (("traffic_officer",), True),
        (("analyst",), False),
        (("admin",), False),
        (("auditor",), False),
    ],
)
def test_each_plates_page_opens_only_for_those_who_may_search_plates(
    client: TestClient, console: Container, roles: tuple[str, ...], allowed: bool
) -> None:
    log_in(client, console, "someone", *roles)
    for path in PLATE_PAGES:
        response = client.get(path)
        assert ('data-page="plates"' in response.text) == allowed, path
        if allowed:
            assert response.status_code == 200, path
            assert 'href="/plates/search" data-page="plates" class="active"' in response.text
            tabs = re.findall(r'href="(/plates/\w+)" data-tab=', response.text)
            assert tabs == PLATE_PAGES
        else:
            assert response.status_code == 403, path
            assert translate("ru", "forbidden.title") in response.text


def test_the_search_page_asks_for_a_purpose_and_offers_every_kind_of_match(
    client: TestClient, console: Container
) -> None:
    log_in(client, console, "duty", "operator")
    page = client.get(SEARCH).text
    assert 'id="plate-purpose"' in page and 'id="plate-search-form"' in page
    assert re.findall(r'<option value="(\w+)">', page)[:3] == ["exact", "wildcard", "fuzzy"]
    assert '<option value="ast-test-01">' in page
    assert translate("ru", "plates.audit_notice") in page
    # The results say where a plate was registered, in the user's language.
    assert translate("ru", "platesearch.registered") in page
    assert page_data(page)["regions"]["17"] == "Шымкент"


def test_the_route_page_draws_the_map_without_a_library(
    client: TestClient, console: Container
) -> None:
    log_in(client, console, "duty", "operator")
    page = client.get(ROUTE).text
    assert 'id="route-map"' in page and 'class="region' in page
    assert "projection" in page_data(page)
    assert 'id="route-purpose"' in page and 'id="route-since"' in page


def test_the_route_page_offers_the_export_to_evidence_only_to_who_may_put_evidence_in_the_vault(
    client: TestClient, console: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    log_in(client, console, "inv", "investigator")
    page = client.get(ROUTE).text
    assert page_data(page)["can_export"] is True
    assert 'id="route-export"' in page and translate("ru", "plateroute.export") in page
    # Every role that sees routes may ingest evidence today; one that could not gets no control.
    without = PERMISSIONS[Permission.EVIDENCE_INGEST] - {Role.OPERATOR}
    monkeypatch.setitem(PERMISSIONS, Permission.EVIDENCE_INGEST, without)
    log_in(client, console, "duty", "operator")
    page = client.get(ROUTE).text
    assert page_data(page)["can_export"] is False
    assert 'id="route-export"' not in page and translate("ru", "plateroute.export") not in page


def test_only_hotlist_managers_get_the_controls_and_no_listed_plate_is_in_the_page(
    client: TestClient, console: Container
) -> None:
    officer = add_user(console, "officer", "traffic_officer")[0]
    stolen = console.hotlists.create(name="Угон", kind="stolen", fuzzy=True, actor=officer)
    console.hotlists.import_csv(
        hotlist_id=stolen, data=b"plate,reason\n555XYZ01,stolen 2026-11-20\n", actor=officer
    )
    log_in(client, console, "duty", "operator")
    page = client.get(HOTLISTS).text
    data = page_data(page)
    assert [(h["name"], h["entries"], h["fuzzy"]) for h in data["hotlists"]] == [("Угон", 1, True)]
    assert data["can_manage"] is False
    assert "555XYZ01" not in page  # listed plates come from the API, audited
    assert 'id="new-hotlist"' not in page and 'id="import-file"' not in page
    assert translate("ru", "hotlists.read_only") in page
    assert translate("ru", "plates.purpose_placeholder") in page  # its own example purpose

    log_in(client, console, "inv", "investigator")
    page = client.get(HOTLISTS).text
    assert page_data(page)["can_manage"] is True
    assert 'id="new-hotlist"' in page and 'id="import-file"' in page
    assert 'id="add-entry"' in page and 'id="remove-entry-dialog"' in page
    assert translate("ru", "hotlists.read_only") not in page


def test_the_faces_pages_keep_their_own_example_purpose(
    client: TestClient, console: Container
) -> None:
    log_in(client, console, "duty", "operator")
    page = client.get("/faces/watchlists").text
    assert translate("ru", "faces.purpose_placeholder") in page
    assert translate("ru", "plates.purpose_placeholder") not in page
