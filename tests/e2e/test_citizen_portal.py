"""The citizens' portal on a phone-sized screen, in Kazakh and Russian: sign in with a texted
code, report a red-light run with a photo, see it waiting; after an officer confirms it and the
fine is paid, the first reporter sees the reward and the second reporter of the same event
sees it confirmed as reported first by someone else."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import LiveServer, login_api, start_server
from tests.integration.test_citizens import phone_photo

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def server(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(sqlite_template, tmp_path_factory.mktemp("e2e-portal"), prepare=None)
    yield live
    live.stop()


def sign_in(page: Any, server: LiveServer, phone: str) -> None:
    page.fill("#po-phone", phone)
    page.click("#po-send")
    expect(page.locator("#po-code")).to_be_visible()
    e164 = "+7" + re.sub(r"\D", "", phone)[-10:]
    text = server.container.citizens.sms.last_to(e164) or ""
    page.fill("#po-code", re.search(r"\d{6}", text).group())  # type: ignore[union-attr]
    page.click("#po-login")
    expect(page.locator("#po-report")).to_be_visible()


def test_a_citizen_reports_from_a_phone_and_sees_the_reward(
    new_context: Callable[..., Any], server: LiveServer, tmp_path: Path
) -> None:
    from kupol.core.messages import utcnow

    shot = tmp_path / "red-light.jpg"
    shot.write_bytes(phone_photo(utcnow(), (51.1283, 71.4305), seed=71))
    page = new_context(server.url, viewport=PHONE, is_mobile=True, has_touch=True).new_page()
    page.goto("/portal?lang=kk")
    expect(page.locator("h1")).to_have_text("Полицияға хабарлау")
    sign_in(page, server, "8 701 123 45 67")
    expect(page.locator("#po-none")).to_be_visible()
    page.select_option("#po-kind", "traffic_violation")
    page.fill("#po-description", "Қызыл шамға өтті")
    page.set_input_files("#po-files", str(shot))
    page.click("#po-report button[type=submit]")
    expect(page.locator("#po-sent")).to_be_visible()
    item = page.locator("#po-list li")
    expect(item).to_have_count(1)
    expect(item).to_have_attribute("data-status", "submitted")
    # Nothing on the page is wider than the phone.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width

    # A second person reports the same red-light run, in Russian.
    other = new_context(server.url, viewport=PHONE, is_mobile=True).new_page()
    other.goto("/portal?lang=ru")
    sign_in(other, server, "+7 777 123 45 67")
    second = tmp_path / "same.jpg"
    second.write_bytes(phone_photo(utcnow(), (51.1286, 71.4306), seed=72))
    other.fill("#po-description", "Проезд на красный")
    other.set_input_files("#po-files", str(second))
    other.click("#po-report button[type=submit]")
    expect(other.locator("#po-list li")).to_have_count(1)

    # The officer confirms the first in the console (the media shown under a purpose) …
    officer, password = server.add_user("traffic_officer", prefix="cr", locale="en")
    desk = new_context(server.url)
    login_api(desk, officer, password)
    console = desk.new_page()
    console.goto("/citizens/review")
    console.fill("#purpose", "citizen reports review")
    console.click("#purpose-form button[type=submit]")
    rows = console.locator("#cr-queue tbody tr")
    expect(rows).to_have_count(2)
    rows.first.locator("button").click()
    expect(console.locator("#cr-media img")).to_have_count(1)
    console.select_option("#cr-offence", "red_light")
    console.fill("#cr-plate", "123ABC02")
    console.click("#cr-confirm")
    expect(rows).to_have_count(1)
    # … the second through the service; the violation is signed; the owner pays the fine.
    settle_the_fine(server, officer)
    page.reload()
    expect(page.locator("#po-list li")).to_have_attribute("data-status", "confirmed")
    expect(page.locator(".portal-reward")).to_contain_text("₸")
    other.reload()
    expect(other.locator("#po-list li")).to_have_attribute("data-status", "duplicate")
    expect(other.locator(".portal-reward")).to_have_count(0)


def settle_the_fine(server: LiveServer, username: str) -> None:
    """What the officers and the payment gateway do, through the services."""
    from kupol.core.audit import Justification
    from tests.integration.test_api_traffic_review import REGISTRY

    container = server.container
    officer = container.auth.principal_of(username)
    container.documents.authority.issue(officer.username)
    gateway = container.auth.principal_of(server.add_user("device", prefix="pay")[0])
    review = container.citizens.review
    why = Justification(purpose="citizen reports review")
    [waiting] = review.queue(actor=officer, why=why)
    decided = review.decide(actor=officer, report_id=waiting.report.id, outcome="confirmed",
                            offence="red_light", plate="123ABC02")  # fmt: skip
    assert decided.status == "duplicate"  # the same event as the one confirmed first
    container.traffic.registry.import_csv(data=REGISTRY.encode(), actor=officer)
    violation_id = decided.violation_id
    assert violation_id is not None
    container.traffic.review.approve(violation_id=violation_id, actor=officer)
    _, notices = container.traffic.notices.list(actor=officer, why=why)
    [notice] = [n for n in notices if n.violation_id == violation_id]
    container.traffic.notices.record_payment(
        notice_id=notice.id, actor=gateway, status="paid", reference="KASPI-9",
        amount_tenge=notice.discounted_tenge, paid_on=notice.issued_on,
    )  # fmt: skip


def test_a_citizen_appeals_a_rejection_and_patrols_as_a_helper_from_a_phone(
    new_context: Callable[..., Any], server: LiveServer, tmp_path: Path
) -> None:
    from datetime import timedelta

    from kupol.core.audit import Justification
    from kupol.core.messages import utcnow

    container = server.container
    abai = {"latitude": 43.2389, "longitude": 76.8897}
    page = new_context(server.url, viewport=PHONE, is_mobile=True, geolocation=abai,
                       permissions=["geolocation"]).new_page()  # fmt: skip
    page.goto("/portal?lang=ru")
    sign_in(page, server, "+7 705 765 43 21")
    # The place picker: kupol's own tiles; a tap in the middle of the map is Astana's centre.
    page.locator("#po-map").scroll_into_view_if_needed()
    box = page.locator("#po-map").bounding_box()
    assert box is not None and box["width"] <= PHONE["width"]
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert abs(float(page.input_value("#po-lat")) - 51.1283) < 0.002
    assert abs(float(page.input_value("#po-lon")) - 71.4305) < 0.002
    expect(page.locator("#po-map-pin")).to_be_visible()
    page.click("#po-zoom-in")
    tile = page.locator("#po-map-tiles img").first
    expect(tile).to_have_attribute("src", re.compile(r"^/tiles/13/"))
    page.fill("#po-lat", "")  # this report's place comes from its photo
    page.fill("#po-lon", "")
    shot = tmp_path / "crowd.jpg"
    shot.write_bytes(phone_photo(utcnow(), (43.2389, 76.8897), seed=73))
    page.select_option("#po-kind", "public_order")
    page.fill("#po-description", "Драка у входа в парк")
    page.set_input_files("#po-files", str(shot))
    page.click("#po-report button[type=submit]")
    item = page.locator("#po-list li")
    expect(item).to_have_count(1)
    # What is shown back is the server's blurred still, and it loads.
    preview = item.locator(".portal-previews img")
    expect(preview).to_have_count(1)
    for _ in range(50):  # (wait_for_function would evaluate a string: the CSP forbids it)
        if preview.evaluate("img => img.complete && img.naturalWidth") > 0:
            break
        page.wait_for_timeout(100)
    assert preview.evaluate("img => img.naturalWidth") > 0

    # An operator rejects it; the citizen appeals from the phone, once.
    operator, _ = server.add_user("operator", prefix="op", locale="en")
    duty = container.auth.principal_of(operator)
    why = Justification(purpose="citizen reports and helpers")
    [waiting] = [q for q in container.citizens.review.queue(actor=duty, why=why)
                 if q.report.kind == "public_order"]  # fmt: skip
    container.citizens.review.decide(actor=duty, report_id=waiting.report.id, outcome="rejected",
                                     reason="not_visible", note="nothing to see")  # fmt: skip
    page.reload()
    expect(item).to_have_attribute("data-status", "rejected")
    item.locator(".portal-appeal button").first.click()
    item.locator(".portal-appeal textarea").fill("The fight is at the left edge of the photo")
    item.locator(".portal-appeal .btn-primary").click()
    expect(item).to_have_attribute("data-status", "appealed")
    expect(item.locator(".portal-appeal")).to_have_count(0)

    # The citizen applies to patrol, is approved, takes a shift and checks in on the spot.
    area = container.citizens.helpers.add_area(actor=duty, name="Almaly — Abai avenue",
                                               lat=43.2389, lon=76.8897, radius_m=1500)  # fmt: skip
    page.reload()
    page.fill("#po-full-name", "Данияр Сейткали")
    page.click("#po-apply button[type=submit]")
    expect(page.locator("#po-helper-status")).to_contain_text("заявка")
    [applicant] = container.citizens.helpers.helpers(actor=duty, why=why)
    container.citizens.helpers.decide(actor=duty, helper_id=applicant.id, decision="approve")
    page.reload()
    start = utcnow() + timedelta(minutes=10)
    local = "%Y-%m-%dT%H:%M"
    almaty = timedelta(hours=5)  # the context's clock is Almaty's
    page.select_option("#po-take-area", str(area.id))
    page.fill("#po-take-start", (start + almaty).strftime(local))
    page.fill("#po-take-end", (start + almaty + timedelta(hours=3)).strftime(local))
    page.click("#po-take button[type=submit]")
    shift = page.locator("#po-shifts li")
    expect(shift).to_have_count(1)
    shift.locator("button", has_text="Отметиться").click()
    expect(shift.locator("button", has_text="Завершить смену")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
