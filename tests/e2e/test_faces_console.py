"""The faces console: an investigator builds a watchlist and sees why a photo is refused, a
face search will not go without a case number and draws its results as a timeline and a route,
and a new hit reaches an open review queue live and is decided with a note.

The face models are replaced by the fake engine of the domain tests (photos say who is on
them), so these tests exercise the pages, the API and the services, not the networks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import expect

from kupol.bootstrap import Container
from kupol.core.auth.service import SYSTEM
from kupol.core.messages import utcnow
from kupol.faces.messages import FaceObserved
from kupol.faces.model import WatchlistKind
from kupol.faces.schemas import PersonCreate, WatchlistCreate
from kupol.web.i18n import translate
from tests.e2e import seed
from tests.e2e.conftest import LiveServer, expect_images_loaded, login_api, start_server
from tests.unit.faces.fakes import FakeAnalyzer, photo, template

pytestmark = pytest.mark.browser
PURPOSE = "Проверка списков розыска, смена 12 марта"
CASE = "ЕРДР 261500-0042"
SUSPECT, LISTED = 9, 7  # identities of the fake engine


def prepare(container: Container) -> None:
    """Cameras only, and the fake face engine."""
    for camera in seed.CAMERAS:
        container.cameras.register(camera=camera, actor=SYSTEM)
    container.faces.analyzer.use(FakeAnalyzer())


@pytest.fixture(scope="module")
def faces_server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    server = start_server(sqlite_template, tmp_path_factory.mktemp("e2e-faces"), prepare=prepare)
    yield server
    server.stop()


def upload(name: str, data: bytes) -> dict[str, Any]:
    return {"name": name, "mimeType": "image/png", "buffer": data}


def seen(container: Container, identity: int, camera: str, minutes_ago: int) -> FaceObserved:
    """A face a camera saw, with its crop on disk, as the pipelines report it."""
    at = utcnow() - timedelta(minutes=minutes_ago)
    crop = container.faces.files.save_crop(
        np.full((80, 64, 3), 40 + identity * 10, np.uint8), camera_id=camera, at=at
    )
    return FaceObserved(
        camera_id=camera,
        seen_at=at,
        track=f"{camera}/e2e/{minutes_ago}",
        box=(10.0, 10.0, 60.0, 70.0),
        quality=0.9,
        template=tuple(float(v) for v in template(identity)),
        model="dlib-resnet-v1",
        crop_uri=crop.uri,
        crop_sha256=crop.sha256,
    )


def state_purpose(page: Any) -> None:
    page.fill("#purpose", PURPOSE)
    page.click("#purpose-form button[type=submit]")
    expect(page.locator("#purpose-stated")).to_contain_text(PURPOSE)


def test_an_investigator_builds_a_watchlist_and_sees_why_a_photo_is_refused(
    new_context: Callable[..., Any], faces_server: LiveServer
) -> None:
    username, password = faces_server.add_user("investigator", prefix="inv")
    context = new_context(faces_server.url)
    login_api(context, username, password)
    page = context.new_page()
    page.goto("/faces/watchlists")
    state_purpose(page)

    list_name = f"Розыск: кражи на вокзале ({username})"
    page.click("#new-list")
    dialog = page.locator("#list-dialog")
    dialog.locator("input[name=name]").fill(list_name)
    dialog.locator("select[name=kind]").select_option(WatchlistKind.WANTED.value)
    dialog.locator("input[name=threshold]").fill("0.6")
    dialog.locator('[data-action="create"]').click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#lists-table tr.selected")).to_contain_text(list_name)
    detail = page.locator("#list-detail")
    expect(detail.locator('[data-field="name"]')).to_have_text(list_name)
    expect(page.locator("#no-persons")).to_be_visible()

    page.click("#add-person")
    dialog = page.locator("#person-dialog")
    dialog.locator("input[name=name]").fill("Сапаров Ерлан")
    dialog.locator("textarea[name=reason]").fill("ok")  # too short: stopped in the page
    dialog.locator('[data-action="add"]').click()
    expect(dialog.locator('[data-field="error"]')).to_have_text(
        translate("ru", "watchlists.reason_too_short")
    )
    dialog.locator("textarea[name=reason]").fill("Постановление о розыске №12/44")
    dialog.locator("input[name=reference]").fill(CASE)
    dialog.locator('[data-action="add"]').click()
    expect(dialog).to_be_hidden()
    person = page.locator("#persons .person", has_text="Сапаров Ерлан")
    expect(person).to_have_attribute("data-state", "listed")
    expect(person.locator(".no-photo")).to_be_visible()

    enrol = person.locator('input[data-action="enrol"]')
    error = person.locator('[data-field="error"]')
    enrol.set_input_files(upload("crowd.png", photo(LISTED, faces=0)))
    expect(error).to_be_visible()
    expect(error.locator('[data-field="reason"]')).to_have_text(
        translate("ru", "faces.refused_no_face")
    )
    enrol.set_input_files(upload("crowd.png", photo(LISTED, faces=2)))
    expect(error.locator('[data-field="reason"]')).to_have_text(
        translate("ru", "faces.refused_several", count=2)
    )
    enrol.set_input_files(upload("portrait.png", photo(LISTED)))
    person = page.locator("#persons .person", has_text="Сапаров Ерлан")
    expect(person.locator(".face-thumb img")).to_have_count(1)
    expect_images_loaded(person.locator(".face-thumb img"))
    expect(person.locator('[data-field="error"]')).to_be_hidden()
    person.locator(".face-thumb").click()  # the whole enrolled photo, read with the purpose
    expect_images_loaded(page.locator('#photo-dialog [data-field="image"]'))
    page.locator("#photo-dialog button[type=submit]").click()

    person.locator('[data-action="remove"]').click()
    dialog = page.locator("#remove-dialog")
    dialog.locator("textarea[name=reason]").fill("Задержан 12 марта, розыск прекращён")
    dialog.locator('[data-action="confirm-remove"]').click()
    expect(page.locator("#persons .person", has_text="Сапаров Ерлан")).to_have_attribute(
        "data-state", "removed"
    )


def test_a_face_search_needs_a_case_number_and_shows_a_timeline_and_a_route(
    new_context: Callable[..., Any], faces_server: LiveServer
) -> None:
    container = faces_server.container
    route = [  # camera, minutes ago: twice past one camera, then two more
        ("ast-kabanbay-01", 40),
        ("ast-kabanbay-01", 39),
        ("ast-baiterek-02", 20),
        ("ala-abai-01", 5),
    ]
    container.faces.matcher.record(
        [seen(container, SUSPECT, camera, minutes) for camera, minutes in route]
    )
    username, password = faces_server.add_user("investigator", prefix="inv")
    context = new_context(faces_server.url)
    login_api(context, username, password)
    page = context.new_page()
    searches: list[str] = []
    page.on("request", lambda r: searches.append(r.url) if "/api/faces/search" in r.url else None)
    page.goto("/faces/search")

    page.locator("#face-photo").set_input_files(upload("suspect.png", photo(SUSPECT)))
    page.fill("#face-purpose", PURPOSE)
    page.click("#face-search-form button[type=submit]")
    error = page.locator("#face-search-error")
    expect(error).to_have_text(translate("ru", "facesearch.case_required"))
    expect(page.locator("#face-case")).to_be_focused()
    expect(page.locator("#face-results")).to_be_hidden()
    assert searches == []  # the page did not send it
    refused = context.request.post(
        "/api/faces/search",
        multipart={"photo": upload("suspect.png", photo(SUSPECT))},
        headers={
            "X-Purpose": "case%20check",
            "X-CSRF-Token": next(
                c["value"] for c in context.cookies() if c["name"] == "kupol_csrf"
            ),
        },
    )
    assert refused.status == 428  # nor does the server take it

    page.fill("#face-case", CASE)
    page.click("#face-search-form button[type=submit]")
    items = page.locator("#timeline .sighting")
    expect(items).to_have_count(3)  # one entry per walk past a camera
    expect(error).to_be_hidden()
    expect(items.locator(".stop-no")).to_have_text(["1", "2", "3"])  # oldest first
    expect(items.nth(0)).to_contain_text(
        translate("ru", "facesearch.stop_summary", count=2, value="1.000")
    )
    expect(items.nth(2)).to_contain_text("ala-abai-01")
    expect_images_loaded(items.locator("img"))
    markers = page.locator("#trail-map .stop")
    # Fitted to Astana and Almaty, the two Astana cameras are too close for two markers.
    expect(markers).to_have_count(2)
    expect(markers.locator("text")).to_have_text(["1, 2", "3"])
    expect(page.locator('#trail-map .stop[data-cameras~="ala-abai-01"] text')).to_have_text("3")
    points = page.locator("#trail-map .trail-line").get_attribute("points") or ""
    assert len(points.split()) == 3  # one line through the stops in time order
    expect(page.locator("#face-results-summary")).to_have_text(
        translate("ru", "facesearch.results", count=4, cameras=3, case=CASE)
    )


def test_a_new_hit_reaches_the_open_queue_live_and_is_confirmed_with_a_note(
    new_context: Callable[..., Any], faces_server: LiveServer
) -> None:
    container = faces_server.container
    detective = container.auth.create_user(
        username="hits-inv", password="hits-inv-password-123", roles=("investigator",)
    )[0]
    listing = container.faces.watchlists.create(
        watchlist=WatchlistCreate(name="Розыск ДП Алматы", kind=WatchlistKind.WANTED),
        actor=detective,
    )
    person = container.faces.watchlists.add_person(
        watchlist_id=listing.id,
        person=PersonCreate(name="Нурланов Бауыржан", reason="Постановление о розыске №7/13"),
        actor=detective,
    )
    container.faces.watchlists.enrol(person_id=person.id, photo=photo(LISTED), actor=detective)

    username, password = faces_server.add_user("operator", prefix="duty")
    context = new_context(faces_server.url)
    login_api(context, username, password)
    page = context.new_page()
    page.goto("/faces/hits")
    expect(page.locator('.mainnav a[data-page="faces"]')).to_have_class("active")
    expect(page.locator(".subnav a")).to_have_text(
        [translate("ru", "nav.face_hits"), translate("ru", "nav.watchlists")]  # no face search
    )
    expect(page.locator("#lead-notice")).to_have_text(translate("ru", "faces.lead_notice"))
    state_purpose(page)
    expect(page.locator("#no-hits")).to_have_text(translate("ru", "hits.none_pending"))
    expect(page.locator('#live-status[data-live="on"]')).to_be_visible()
    # The page may see its stream open a moment before the server subscribes it to the feed.
    for _ in range(100):
        if container.live.clients:
            break
        page.wait_for_timeout(20)

    container.faces.matcher.record([seen(container, LISTED, "ala-abai-01", 0)])
    hit = page.locator("#hits .hit", has_text="Нурланов Бауыржан")
    expect(hit).to_be_visible()  # no reload: the face_match event refreshed the queue
    expect(hit).to_have_attribute("data-status", "pending")
    expect(hit).to_contain_text("ala-abai-01")
    expect_images_loaded(hit.locator("img"))

    hit.locator('[data-action="confirmed"]').click()
    dialog = page.locator("#decide-dialog")
    expect(dialog.locator('[data-field="reminder"]')).to_have_text(
        translate("ru", "hits.confirm_reminder")
    )
    dialog.locator('[data-action="decide"]').click()  # no note: refused in the page
    expect(dialog.locator('[data-field="error"]')).to_have_text(
        translate("ru", "hits.note_too_short")
    )
    dialog.locator("textarea").fill("Сходство по чертам лица и одежде, наряд направлен")
    dialog.locator('[data-action="decide"]').click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#hits .hit")).to_have_count(0)

    page.select_option("#hit-status", "confirmed")
    decided = page.locator("#hits .hit", has_text="Нурланов Бауыржан")
    expect(decided).to_have_attribute("data-status", "confirmed")
    expect(decided.locator('[data-field="decision"]')).to_contain_text(username)
    expect(decided.locator('[data-action="confirmed"]')).to_be_hidden()
