"""The map draws every camera over the regions, explains it on hover and click, and marks
cameras with open alerts."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from kupol.web.mapview import GEOJSON
from tests.e2e import seed
from tests.e2e.conftest import LiveServer, login_api

pytestmark = pytest.mark.browser


def test_the_map_renders_camera_markers_with_details(
    new_context: Callable[..., Any], live_server: LiveServer
) -> None:
    username, password = live_server.add_user("operator", prefix="map")
    context = new_context(live_server.url)
    login_api(context, username, password)
    page = context.new_page()
    page.goto("/map")

    cameras = live_server.container.cameras.list()
    markers = page.locator("#map .marker")
    expect(markers).to_have_count(len(cameras))
    for camera in cameras:
        marker = page.locator(f'.marker[data-camera-id="{camera.id}"]')
        expect(marker).to_have_class(re.compile(rf"\bkind-{camera.kind}\b"))
    expect(page.locator('.marker[data-camera-id="pav-ptz-03"]')).to_have_class(
        re.compile(r"\bdisabled\b")
    )
    for alerting in ("ast-kabanbay-01", "ala-abai-01", "shy-tauke-01"):  # the seed's alerts
        expect(page.locator(f'.marker[data-camera-id="{alerting}"]')).to_have_class(
            re.compile(r"\balerting\b")
        )
    expect(page.locator('.marker[data-camera-id="kar-drone-01"]')).not_to_have_class(
        re.compile(r"\balerting\b")
    )
    if GEOJSON.is_file():
        expect(page.locator("#map .region")).to_have_count(20)

    almaty = page.locator('.marker[data-camera-id="ala-abai-01"]')
    expect(almaty).to_have_attribute("data-severity", "critical")
    almaty.hover()
    tip = page.locator("#map-tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("ala-abai-01")
    expect(tip).to_contain_text(seed.CAMERAS[2].name)

    almaty.click()
    card = page.locator('#camera-details [data-field="card"]')
    expect(card.locator('[data-field="id"]')).to_have_text("ala-abai-01")
    expect(card.locator('[data-field="alerts"] li')).to_have_count(1)
    expect(card.locator('[data-field="search"]')).to_have_attribute(
        "href", "/search?camera_id=ala-abai-01"
    )

    before = page.locator("#map").get_attribute("viewBox")
    page.click('[data-zoom="in"]')
    assert page.locator("#map").get_attribute("viewBox") != before
    page.click('[data-zoom="reset"]')
    assert page.locator("#map").get_attribute("viewBox") == before
