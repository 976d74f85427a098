"""The cameras page: live views open only after a stated purpose (and are audited), pipeline
health for everyone who may see cameras, the zone editor for administrators, and clips among
an event's evidence.

One server for the module, with pipelines on: its camera ``seed.LIVE_CAMERA`` plays a generated
video in a loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from kupol.vision.synthetic import write_synthetic_video
from kupol.web.i18n import translate
from tests.e2e import seed
from tests.e2e.conftest import LiveServer, expect_images_loaded, login_api, start_server
from tests.e2e.screenshots import Comparison, compare

pytestmark = pytest.mark.browser
LIVE = seed.LIVE_CAMERA
PURPOSE = "Контроль обстановки по тревоге №7"
TILE = '.cam-tile[data-camera-id="{}"]'
# Moving pictures and the numbers that follow them differ on every run.
VOLATILE = "#clock, .cam-live, [data-state='running'] .cam-health dd, .cam-error"


@pytest.fixture(scope="module")
def video_server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A seeded console whose live camera plays a 12-second generated street video."""
    folder = tmp_path_factory.mktemp("e2e-cameras")
    video = write_synthetic_video(folder / "street.mp4", seconds=12)
    server = start_server(
        sqlite_template,
        folder / "server",
        prepare=seed.seed_with_video(video),
        vision={"enabled": True},
    )
    try:
        wait_until_running(server)
        yield server
    finally:
        server.stop()


def wait_until_running(
    server: LiveServer, *, zones: list[str] | None = None, timeout_s: float = 20.0
) -> None:
    """Wait until the live camera's pipeline (with ``zones``, if given) has analysed a frame."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        vision = server.container.vision
        worker = vision.worker(LIVE) if vision is not None else None
        if (
            worker is not None
            and worker.health.state == "running"
            and worker.live_size() is not None
            and (zones is None or [z.name for z in worker.analytics.zones] == zones)
        ):
            return
        time.sleep(0.1)
    raise AssertionError(f"the pipeline of {LIVE} did not start (zones {zones})")


def open_cameras(
    new_context: Callable[..., Any], server: LiveServer, *roles: str
) -> tuple[Any, tuple[str, str]]:
    """A new user with ``roles`` on /cameras; returns the page and the user's login."""
    login = server.add_user(*roles, prefix="cam")
    context = new_context(server.url)
    login_api(context, *login)
    page = context.new_page()
    page.goto("/cameras")
    page.locator('body[data-health="loaded"]').wait_for()
    return page, login


def state_purpose(page: Any, purpose: str = PURPOSE) -> None:
    page.fill("#live-purpose", purpose)
    page.click("#live-form button[type=submit]")


def audit_entries(server: LiveServer, **filters: str) -> list[dict[str, Any]]:
    auditor, password = server.add_user("auditor", prefix="aud")
    response = httpx.get(
        f"{server.url}/api/audit", params=filters, headers=server.token(auditor, password)
    )
    assert response.status_code == 200, response.text
    entries: list[dict[str, Any]] = response.json()
    return entries


def test_the_live_view_opens_after_a_purpose_and_is_audited(
    new_context: Callable[..., Any], video_server: LiveServer
) -> None:
    page, (username, _) = open_cameras(new_context, video_server, "operator")
    tile = page.locator(TILE.format(LIVE))
    expect(page.locator(".cam-tile").first).to_have_attribute("data-camera-id", LIVE)
    expect(tile).to_have_attribute("data-state", "running")
    expect(tile.locator('[data-field="state"]')).to_have_text(
        translate("ru", "cameras.state.running")
    )
    expect(tile.locator('[data-field="fps"]')).not_to_have_text(translate("ru", "common.none"))
    expect(page.locator(TILE.format("pav-ptz-03"))).to_have_attribute("data-state", "disabled")
    expect(page.locator(TILE.format("ala-abai-01"))).to_have_attribute("data-state", "no_stream")
    expect(page.locator(TILE.format("ala-abai-01") + " img")).to_have_count(0)

    image = tile.locator("img.cam-live")
    expect(image).to_be_hidden()  # nothing is shown, or fetched, before a purpose
    expect(tile.locator('[data-field="placeholder"]')).to_have_text(
        translate("ru", "cameras.view_need_purpose")
    )
    assert audit_entries(video_server, actor=username, action="live_view") == []
    state_purpose(page, "abc")  # too short
    expect(page.locator("#live-error")).to_have_text(translate("ru", "error.purpose_required"))
    expect(image).to_be_hidden()

    state_purpose(page)
    expect(page.locator("#live-error")).to_be_hidden()
    expect(tile).to_have_attribute("data-live", "on")
    expect(image).to_be_visible()
    expect_images_loaded(image)
    assert image.evaluate("img => img.naturalWidth") == 320  # the video's own frames

    views = audit_entries(video_server, actor=username, action="live_view")
    assert [(e["resource_type"], e["resource_id"], e["purpose"]) for e in views] == [
        ("camera", LIVE, PURPOSE)
    ]


def test_an_administrator_draws_zones_and_a_line_and_saves_them(
    new_context: Callable[..., Any], video_server: LiveServer
) -> None:
    page, login = open_cameras(new_context, video_server, "admin", "operator")
    state_purpose(page)
    page.click(TILE.format(LIVE) + ' [data-action="zones"]')
    editor = page.locator("#zone-editor")
    expect(editor).to_be_visible()
    canvas = page.locator("#zone-canvas")
    expect(canvas).to_have_attribute("data-ready", "true")
    expect(canvas).to_have_attribute("data-picture", "loaded")  # the still frame, unannotated
    watch = translate("ru", "zones.kind_watch")
    expect(editor.locator('.shape-item[data-type="zone"]')).to_have_text([f"road{watch}"])
    expect(editor.locator('.shape-item[data-type="line"]')).to_have_count(1)

    box = canvas.bounding_box()
    assert box is not None

    def at(x: float, y: float) -> dict[str, float]:
        return {"x": x * box["width"], "y": y * box["height"]}

    corners = [(0.1, 0.1), (0.4, 0.1), (0.4, 0.3), (0.1, 0.3)]
    page.click('[data-mode="zone"]')
    for corner in corners[:-1]:
        canvas.click(position=at(*corner))
    canvas.dblclick(position=at(*corners[-1]))  # the last corner, and close the zone
    expect(page.locator("#shape-name")).to_be_focused()
    page.fill("#shape-name", "entrance")
    page.select_option("#zone-kind", "restricted")

    page.click('[data-mode="line"]')
    canvas.click(position=at(0.2, 0.5))
    canvas.click(position=at(0.8, 0.5))
    page.fill("#shape-name", "gate-line")
    page.select_option("#line-direction", "left_to_right")
    expect(editor.locator(".shape-item")).to_have_count(4)

    page.click('#zone-editor [data-action="save"]')
    expect(editor).to_be_hidden()
    expect(page.locator(".toast-ok")).to_contain_text(
        translate("ru", "zones.saved_toast", name=seed.CAMERAS[0].name)
    )

    admin = video_server.token(*login)
    camera = httpx.get(f"{video_server.url}/api/cameras/{LIVE}", headers=admin).json()
    zones = {z["name"]: z for z in camera["zones"]}
    assert set(zones) == {"road", "entrance"}
    assert zones["entrance"]["kind"] == "restricted"
    polygon = [c for corner in zones["entrance"]["polygon"] for c in corner]
    assert polygon == pytest.approx([c for corner in corners for c in corner], abs=0.01)
    lines = {line["name"]: line for line in camera["analytics"]["lines"]}
    assert set(lines) == {"stop-line", "gate-line"}
    assert lines["gate-line"]["a"] == pytest.approx([0.2, 0.5], abs=0.01)
    assert lines["gate-line"]["b"] == pytest.approx([0.8, 0.5], abs=0.01)
    assert lines["gate-line"]["direction"] == "left_to_right"
    assert camera["analytics"]["analysis_fps"] == 4  # the rest of the analytics is kept

    # The pipeline restarts with the new zones and the live view comes back by itself.
    wait_until_running(video_server, zones=["road", "entrance"])
    expect(page.locator(TILE.format(LIVE))).to_have_attribute("data-live", "on", timeout=15000)


def test_a_zone_the_server_refuses_shows_its_reason_and_is_not_saved(
    new_context: Callable[..., Any], video_server: LiveServer
) -> None:
    page, _ = open_cameras(new_context, video_server, "admin")
    expect(page.locator("#live-form")).to_have_count(0)  # an administrator alone sees no video
    before = video_server.container.cameras.get("ala-abai-01").zones
    page.click(TILE.format("ala-abai-01") + ' [data-action="zones"]')
    editor = page.locator("#zone-editor")
    canvas = page.locator("#zone-canvas")
    expect(canvas).to_have_attribute("data-ready", "true")
    expect(editor.locator('[data-field="no-picture"]')).to_have_text(
        translate("ru", "zones.no_picture_permission")
    )
    box = canvas.bounding_box()
    assert box is not None
    page.click('[data-mode="zone"]')
    canvas.click(position={"x": 0.2 * box["width"], "y": 0.2 * box["height"]})
    canvas.dblclick(position={"x": 0.6 * box["width"], "y": 0.6 * box["height"]})
    page.click('#zone-editor [data-action="save"]')

    errors = page.locator("#zone-errors")
    expect(errors).to_be_visible()
    expect(errors).to_contain_text(translate("ru", "zones.save_failed"))
    expect(errors).to_contain_text(translate("ru", "zones.error_zone", name="zone-1"))
    expect(errors).to_contain_text("at least 3 items")  # the server's own words
    expect(editor.locator(".shape-item.has-error")).to_have_count(1)
    expect(editor).to_be_visible()
    assert video_server.container.cameras.get("ala-abai-01").zones == before

    page.click('#zone-editor [data-action="delete"]')  # drop the bad zone: saving works again
    page.click('#zone-editor [data-action="save"]')
    expect(editor).to_be_hidden()


def test_a_user_without_live_view_sees_health_but_no_picture(
    new_context: Callable[..., Any], video_server: LiveServer
) -> None:
    page, _ = open_cameras(new_context, video_server, "analyst")
    expect(page.locator("#no-live")).to_have_text(translate("ru", "cameras.no_live_permission"))
    expect(page.locator("#live-form")).to_have_count(0)
    expect(page.locator("img")).to_have_count(0)
    expect(page.locator('[data-action="zones"]')).to_have_count(0)
    tile = page.locator(TILE.format(LIVE))
    expect(tile).to_have_attribute("data-state", "running")
    expect(tile.locator('[data-field="placeholder"]')).to_have_text(
        translate("ru", "cameras.view_no_permission")
    )
    expect(tile.locator('[data-field="fps"]')).not_to_have_text(translate("ru", "common.none"))
    refused = page.request.get(f"/api/cameras/{LIVE}/live.jpg?purpose={PURPOSE}")
    assert refused.status == 403


def test_search_shows_an_events_clip_as_a_video(
    new_context: Callable[..., Any], video_server: LiveServer
) -> None:
    username, password = video_server.add_user("investigator", prefix="inv")
    context = new_context(video_server.url)
    login_api(context, username, password)
    page = context.new_page()
    page.goto("/search?camera_id=shy-tauke-01")
    page.fill("#purpose", PURPOSE)
    page.click("#search-form button[type=submit]")
    row = page.locator(f'#results-table tr[data-event-id="{seed.event_id(seed.CLIP_EVENT)}"]')
    video = row.locator("video.clip")
    expect(video).to_have_attribute("preload", "none")
    expect(video).to_have_attribute("controls", "")
    expect_images_loaded(row.locator("img"))  # the snapshot beside it
    video.evaluate("v => { v.muted = true; return v.play(); }")
    expect(video).to_have_js_property("videoWidth", 320)  # fetched and decoded
    played = audit_entries(video_server, actor=username, action="view-evidence")
    assert any(e["details"].get("index") == 1 for e in played), played


@pytest.mark.parametrize("locale", ["ru", "kk", "en"])
def test_the_cameras_page_matches_its_baseline(
    locale: str, new_context: Callable[..., Any], video_server: LiveServer
) -> None:
    username, password = video_server.add_user(
        "operator", prefix="shot", locale=locale, full_name=seed.OPERATOR.full_name
    )
    context = new_context(video_server.url)
    login_api(context, username, password)
    page = context.new_page()
    page.goto("/cameras")
    expect(page.locator(TILE.format(LIVE))).to_have_attribute("data-state", "running")
    state_purpose(page)
    expect(page.locator(TILE.format(LIVE))).to_have_attribute("data-live", "on")
    page.mouse.move(1000, 100)  # hover nothing
    png = page.screenshot(
        animations="disabled", caret="hide", scale="css", mask=[page.locator(VOLATILE)]
    )
    result: Comparison = compare(f"cameras-{locale}", png)
    assert result.ok, result.message
