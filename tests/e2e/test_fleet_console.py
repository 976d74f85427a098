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


def test_an_operator_draws_a_geofence_and_switches_it_off(
    new_context: Callable[..., Any], fleet_server: LiveServer
) -> None:
    operator, password = fleet_server.add_user("operator", prefix="zone", locale="en")
    context = new_context(fleet_server.url)
    login_api(context, operator, password)
    page = context.new_page()
    page.goto("/fleet")
    expect(page.locator("#fl-zones tbody tr")).to_have_count(2)  # the demo's two
    areas = page.locator("#fl-map path.fence-patrol_area")
    expect(areas).to_have_count(1)
    page.fill("#fl-zone-name", "Stadium (match day)")
    page.select_option("#fl-zone-kind", "patrol_area")
    page.check("#fl-zone-mode")
    for x, y in ((200, 200), (260, 200)):
        page.locator("#fl-map").click(position={"x": x, "y": y})
    expect(page.locator("#fl-zone-count")).to_have_text("2 corners")
    page.click("#fl-zone button[type=submit]")  # two corners are no area: refused, and why
    expect(page.locator("#fl-zone-error")).to_contain_text("at least 3")
    page.locator("#fl-map").click(position={"x": 230, "y": 150})
    expect(page.locator("#fl-map circle.zone-corner")).to_have_count(3)
    page.click("#fl-zone button[type=submit]")
    stadium = page.locator("#fl-zones tbody tr", has_text="Stadium (match day)")
    expect(stadium).to_contain_text("patrol area")
    expect(stadium).to_contain_text(operator)
    expect(areas).to_have_count(2)
    expect(page.locator("#fl-map circle.zone-corner")).to_have_count(0)
    stadium.locator("button").click()  # switched off: off the map, still listed
    expect(stadium.locator("button")).to_have_text("Switch on")
    expect(areas).to_have_count(1)


def test_an_operator_plans_a_shift_s_patrols_and_saves_them_as_missions(
    new_context: Callable[..., Any], fleet_server: LiveServer
) -> None:
    operator, password = fleet_server.add_user("operator", prefix="patrol", locale="en")
    context = new_context(fleet_server.url)
    login_api(context, operator, password)
    page = context.new_page()
    page.goto("/fleet")
    boxes = page.locator("#fl-patrol-units input[type=checkbox]")
    expect(boxes).to_have_count(4)  # the ground units: two cars, the dog, the foot patrol
    page.uncheck("#fl-patrol-units input[value='foot-3']")
    page.fill("#fl-patrol-shift", "90")
    page.click("#fl-patrol button[type=submit]")
    routes = page.locator("#fl-patrol-routes tbody tr")
    expect(routes).to_have_count(3)
    expect(page.locator("#fl-patrol-summary")).to_contain_text("Risk covered")
    # The demo's collision is the one risky place: some unit's route passes it.
    expect(page.locator("#fl-map circle.patrol-place")).to_have_count(1)
    expect(page.locator("#fl-map path.patrol-route")).to_have_count(1)
    page.click("#fl-patrol-save")
    expect(routes.filter(has_text="mission")).to_have_count(1)
    expect(page.locator("#fl-patrol-save")).to_be_disabled()
    expect(page.locator("#fl-map path.patrol-route")).to_have_count(0)
    expect(page.locator("#fl-map path.mission-path").first).to_be_attached()
