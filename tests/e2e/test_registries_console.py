"""The registries' pages, end to end as issue 11's "done when" puts it: the console shows the
driving schools' ranking with its evidence, an inspector opens a flagged school and records
an inspection; a day of scooter trips produces the operator's compliance report; the public
ratings page opens without a login and names no one."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from kupol.bootstrap import Container
from kupol.core.auth.service import SYSTEM
from kupol.schools.generator import GeneratorConfig, generate_region
from kupol.scooters.demo import seed_day
from kupol.scooters.generator import generate_day
from tests.e2e.conftest import LiveServer, login_api, start_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
REGION = generate_region(seed=3, config=GeneratorConfig(schools=16, median_cadets=40))
DAY = generate_day(trips=300, scooters=80, seed=4)


def prepare(container: Container) -> None:
    officer, _ = container.auth.create_user(username="seed-officer", password="x" * 16,
                                            roles=["traffic_officer"])  # fmt: skip
    container.schools.import_snapshot(actor=officer, snapshot=REGION.data)
    container.schools.check(actor=officer)
    accounts = {}
    for o in DAY.operators:
        name = f"feed-{o.letter.lower()}"
        account, _ = container.auth.create_user(username=name, password="x" * 16,
                                                roles=["mobility"])  # fmt: skip
        accounts[o.provider_id] = account
    seed_day(container.scooters, manager=SYSTEM, accounts=accounts, day=DAY)


@pytest.fixture(scope="module")
def server(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(sqlite_template, tmp_path_factory.mktemp("e2e-registries"), prepare=prepare)
    yield live
    live.stop()


def test_an_inspector_opens_a_flagged_school_and_records_an_inspection(
    new_context: Callable[..., Any], server: LiveServer
) -> None:
    officer, password = server.add_user("traffic_officer", prefix="insp", locale="en")
    context = new_context(server.url)
    login_api(context, officer, password)
    page = context.new_page()
    page.goto("/schools")
    rows = page.locator("#sc-ranking tbody tr")
    expect(rows).to_have_count(16)
    expect(rows.first.locator("td").first).to_have_text("1")
    expect(rows.first).to_contain_text("state driving test")  # the score's evidence
    # The small school with a lucky streak is listed without a rank.
    lucky = page.locator("#sc-ranking tbody tr", has_text=REGION.truth.lucky_school_id)
    expect(lucky.locator("td").first).to_have_text("—")
    page.locator("#sc-flags tbody tr a").first.click()  # a flagged school
    expect(page).to_have_url(re.compile(r"/schools/S\d+$"))
    expect(page.locator("#sd-components tbody tr")).to_have_count(5)
    open_flags = page.locator("#sd-flags tbody tr", has_text="open")
    count = open_flags.count()
    assert count >= 1
    page.fill(
        "#sd-findings", "Two lessons logged at one time by one instructor; journal corrected."
    )
    page.select_option("#sd-sanction", "fine")
    page.click("#sd-inspect button[type=submit]")  # a fine without its amount: refused
    expect(page.locator("#sd-inspect-error")).to_contain_text("amount")
    page.fill("#sd-fine", "196600")
    page.click("#sd-inspect button[type=submit]")
    expect(page.locator("#sd-inspections tbody tr")).to_have_count(1)
    expect(page.locator("#sd-inspections tbody tr")).to_contain_text("fine")
    expect(page.locator("#sd-flags tbody tr", has_text="inspected")).to_have_count(count)


def test_a_day_of_scooter_trips_makes_the_operator_s_compliance_report(
    new_context: Callable[..., Any], server: LiveServer
) -> None:
    analyst, password = server.add_user("analyst", prefix="es", locale="en")
    context = new_context(server.url)
    login_api(context, analyst, password)
    page = context.new_page()
    page.goto("/scooters")
    expect(page.locator("#es-operators tbody tr")).to_have_count(3)
    over = next(o for o in DAY.operators if o.letter == "J")
    page.select_option("#es-operator", over.provider_id)
    page.fill("#es-day", DAY.day.isoformat())
    page.click("#es-report-form button[type=submit]")
    expect(page.locator("#es-summary")).to_contain_text("trips")
    expect(page.locator("#es-summary")).to_contain_text("over the cap")
    expect(page.locator("#es-kinds tbody tr")).to_have_count(8)
    expect(page.locator("#es-violations tbody tr").first).to_be_visible()


def test_the_public_ratings_open_without_a_login(
    new_context: Callable[..., Any], server: LiveServer
) -> None:
    page = new_context(server.url).new_page()
    page.goto("/public/schools?lang=en")
    expect(page.locator("#ps-ratings tbody tr")).to_have_count(16)
    text = page.locator("#ps-ratings").inner_text()
    assert not any(i.name in text for i in REGION.data.instructors)
