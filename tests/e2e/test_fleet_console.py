"""The fleet page, end to end as the issue's "done when" puts it: the demo's simulated drone
(MAVLink) and robot dog (MQTT) live on the console map, the streets, the no-fly zone and the
patrol car already sent to an incident; an operator clicks a place, sees the units ranked by
their time to it and sends one."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from kupol.bootstrap import Container
from kupol.core.auth.service import SYSTEM
from kupol.fleet.demo import seed_fleet, write_roads
from tests.e2e.conftest import LiveServer, login_api, start_server
from tests.integration.test_fleet import free_udp_port

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def prepare(container: Container) -> None:
    seed_fleet(container, SYSTEM)


@pytest.fixture(scope="module")
def fleet_server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("e2e-fleet")
    roads = write_roads(folder / "roads.geojson")
    server = start_server(
        sqlite_template, folder, prepare=prepare,
        fleet={"roads": str(roads), "mavlink": True, "mavlink_port": free_udp_port(),
               "mqtt": True, "simulate": True, "flush_every_s": 0.2},
    )  # fmt: skip
    yield server
    server.stop()


def test_an_operator_sees_the_fleet_live_and_dispatches_a_unit(
    new_context: Callable[..., Any], fleet_server: LiveServer
) -> None:
    operator, password = fleet_server.add_user("operator", prefix="duty", locale="en")
    context = new_context(fleet_server.url)
    login_api(context, operator, password)
    page = context.new_page()
    page.goto("/fleet")
    expect(page.locator("#fl-units tbody tr")).to_have_count(5)
    expect(page.locator("#fl-map line.road").first).to_be_attached()
    expect(page.locator("#fl-map path.fence-no_fly")).to_have_count(1)
    expect(page.locator("#fl-map path.dispatch-route")).to_have_count(1)  # car-12 en route
    # The drone and the dog report: their links come up and their tracks are drawn.
    drone = page.locator("#fl-units tbody tr", has_text="drone-1")
    expect(drone).to_contain_text("ok", timeout=15_000)
    dog = page.locator("#fl-units tbody tr", has_text="dog-1")
    expect(dog).to_contain_text("ok", timeout=15_000)
    expect(page.locator("#fl-map path.track").first).to_be_attached(timeout=15_000)
    # A click in the middle of the map: the units ranked by their time to it; one sent.
    page.locator("#fl-map").click(position={"x": 380, "y": 260})
    expect(page.locator("#fl-candidates tbody tr").first).to_be_visible()
    first = page.locator("#fl-candidates tbody tr").first
    expect(first).to_contain_text(" s")
    callsign = first.locator("td").first.inner_text()
    first.locator("button").click()
    expect(page.locator("#fl-dispatches tbody tr", has_text=callsign)).to_contain_text("en route")
    expect(page.locator("#fl-map path.dispatch-route")).to_have_count(2)


def test_an_operator_plans_a_mission_on_the_map_and_opens_a_unit(
    new_context: Callable[..., Any], fleet_server: LiveServer
) -> None:
    operator, password = fleet_server.add_user("operator", prefix="plan", locale="en")
    context = new_context(fleet_server.url)
    login_api(context, operator, password)
    page = context.new_page()
    page.goto("/fleet")
    expect(page.locator("#fl-plan-unit option")).to_have_count(5)
    page.select_option("#fl-plan-unit", "drone-1")
    page.fill("#fl-plan-name", "Ring road check")
    page.check("#fl-plan-mode")
    for x, y in ((300, 300), (420, 300), (420, 200)):
        page.locator("#fl-map").click(position={"x": x, "y": y})
    expect(page.locator("#fl-plan-count")).to_have_text("3 waypoints")
    expect(page.locator("#fl-map circle.waypoint")).to_have_count(3)
    page.fill("#fl-plan-alt", "500")  # above the 120 m allowed: refused, and why
    page.click("#fl-plan button[type=submit]")
    expect(page.locator("#fl-plan-error")).to_contain_text("altitude must be 1–120 m")
    page.fill("#fl-plan-alt", "80")
    page.click("#fl-plan button[type=submit]")
    expect(page.locator("#fl-plan-result")).to_contain_text("saved")
    expect(page.locator("#fl-plan-result a")).to_have_attribute("href", re.compile(r"/plan$"))

    page.click("#fl-units a:text('drone-1')")
    expect(page).to_have_url(re.compile(r"/fleet/units/drone-1$"))
    expect(page.locator("#fu-missions tbody tr")).to_have_count(2)  # the demo's and this one
    expect(page.locator("#fu-missions tbody")).to_contain_text("Ring road check")
    expect(page.locator("#fu-charts svg.telemetry-chart").first).to_be_attached(timeout=15_000)
    expect(page.locator("#fu-video-form")).to_be_visible()  # its camera: ast-drone-01
