"""The traffic console: an officer reviews the simulated intersection's violations with their
evidence (under a stated purpose, audited), corrects a plate, approves and signs — the notice
is made — or rejects with a reason; the crossings page shows the crossing's counts and the
rejections per rule; an administrator checks and saves a camera's calibration."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from kupol.bootstrap import Container
from kupol.cameras.schemas import CameraCreate
from kupol.core.audit.model import AuditEntry
from kupol.core.auth.service import SYSTEM
from kupol.core.messages import KAZAKHSTAN
from kupol.plates.messages import PlateObserved
from kupol.traffic.config import CameraTrafficConfig
from kupol.traffic.live import TrafficStage
from kupol.traffic.messages import CrossingActivity, ViolationObserved
from kupol.traffic.model import Notice
from kupol.traffic.simulation import INTERSECTION, Scenario, camera_config
from kupol.web.i18n import translate
from tests.e2e.conftest import LiveServer, expect_images_loaded, login_api, start_server

pytestmark = pytest.mark.browser
CAMERA = "ast-sim-e2e"
PURPOSE = "Проверка нарушений с камер, смена 2"
OWNERS = (
    "plate,owner_name,owner_id,address\n"
    '123ABC02,Тестов Тест,900101300123,"Астана, ул. Тестовая, 1"\n'
)


def prepare(container: Container) -> None:
    """The simulated intersection run through the traffic stage once, its messages stored,
    and the red-light car's plate read by the camera (as the plate stage would)."""
    container.cameras.register(
        camera=CameraCreate(
            id=CAMERA,
            name="Симулированный перекрёсток",
            kind="fixed",
            latitude=51.16,
            longitude=71.47,
            analytics={
                "detector": {"type": "scripted"},
                "intrusion": {"enabled": False},
                "traffic": camera_config(),
            },
        ),
        actor=SYSTEM,
    )
    scene = Scenario(script=INTERSECTION, fps=5)
    config = CameraTrafficConfig.model_validate(camera_config(read_signal=True))
    stage = TrafficStage(
        camera_id=CAMERA,
        config=config,
        signals=container.traffic.signals,
        files=container.traffic.files,
        fps=5,
    )
    start = datetime.now(UTC) - timedelta(hours=1)
    # The scene (under a minute) within one Kazakhstan day: the crossings page counts by it.
    local = start.astimezone(KAZAKHSTAN)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(), KAZAKHSTAN)
    if midnight - local < timedelta(minutes=2):
        start = midnight.astimezone(UTC) + timedelta(seconds=1)
    messages: list[object] = []
    present: set[int] = set()
    for frame in scene.frames():
        assert frame.image is not None
        now = {u.track_id for u in frame.users}
        messages += stage.process(
            frame.image,
            pts_s=frame.pts_s,
            occurred=start + timedelta(seconds=frame.pts_s),
            users=frame.users,
            ended=sorted(present - now),
            track_key=lambda i: f"{CAMERA}/run/{i}",
        )
        present = now
    messages += stage.finish()
    container.traffic.recorder.record([m for m in messages if isinstance(m, ViolationObserved)])
    container.traffic.crossings.record([m for m in messages if isinstance(m, CrossingActivity)])
    container.plate_store.record(
        [
            PlateObserved(
                camera_id=CAMERA,
                plate="123HBC02",  # misread: the officer corrects it
                seen_at=start + timedelta(seconds=17),
                confidence=0.62,
                track=f"{CAMERA}/run/2",
            )
        ]
    )


@pytest.fixture(scope="module")
def traffic_server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    server = start_server(sqlite_template, tmp_path_factory.mktemp("e2e-traffic"), prepare=prepare)
    yield server
    server.stop()


def test_an_officer_reviews_corrects_the_plate_signs_and_a_notice_is_made(
    new_context: Callable[..., Any], traffic_server: LiveServer
) -> None:
    container = traffic_server.container
    officer, password = traffic_server.add_user("traffic_officer", prefix="gai")
    container.documents.authority.issue(officer)  # approving signs with it
    container.traffic.registry.import_csv(
        data=OWNERS.encode(), actor=container.auth.principal_of(officer)
    )
    context = new_context(traffic_server.url)
    login_api(context, officer, password)
    page = context.new_page()
    page.goto("/traffic/review")
    expect(page.locator('.mainnav a[data-page="traffic"]')).to_have_class("active")
    expect(page.locator("#queue-filter")).to_be_hidden()  # nothing before a purpose
    page.fill("#purpose", PURPOSE)
    page.click("#purpose-form button[type=submit]")
    rows = page.locator("#queue-table tbody tr")
    expect(rows).to_have_count(len(INTERSECTION.expected))
    red = rows.filter(has_text=translate("ru", "traffic.offence.red_light"))
    expect(red).to_have_count(1)
    expect(red.locator(".plate-text")).to_have_text("123HBC02")  # the camera's vote
    red.click()
    card = page.locator("#violation")
    expect(card.locator('[data-field="article"]')).to_contain_text("599")
    expect(card.locator('[data-field="measured"]')).to_contain_text("red_for_s")
    images = card.locator(".evidence-grid img")
    expect(images).to_have_count(4)  # before, at, after, the vehicle
    expect_images_loaded(images)
    expect(card.locator(".evidence-grid video")).to_have_count(1)

    page.fill("#decide input[name=plate]", "123ABC02")
    page.click("#approve")
    expect(card.locator('[data-field="status"]')).to_have_text(
        translate("ru", "traffic.status.approved")
    )
    expect(card.locator('[data-field="decision"]')).to_contain_text("KUP-")
    letter = context.request.get(str(page.locator("#notice-letter").get_attribute("href")))
    assert letter.ok and "Тестов Тест" in letter.text()
    expect(page.locator("#decide")).to_be_hidden()
    expect(rows).to_have_count(len(INTERSECTION.expected) - 1)
    with container.db.reader() as session:
        [notice] = session.scalars(select(Notice))
        assert (notice.plate, notice.status, notice.owner_name) == (
            "123ABC02",
            "issued",
            "Тестов Тест",
        )
        views = list(
            session.scalars(
                select(AuditEntry).where(
                    AuditEntry.resource_type == "traffic_evidence", AuditEntry.actor == officer
                )
            )
        )
    # Each file fetched is a look, audited (a browser may fetch a clip more than once).
    assert {v.resource_id.split("/")[1] for v in views if v.resource_id} == {
        "0",
        "1",
        "2",
        "3",
        "4",
    }
    assert {v.purpose for v in views} == {PURPOSE}


def test_rejections_show_per_rule_and_the_crossing_counts_per_hour(
    new_context: Callable[..., Any], traffic_server: LiveServer
) -> None:
    officer, password = traffic_server.add_user("traffic_officer", "analyst", prefix="gai")
    context = new_context(traffic_server.url)
    login_api(context, officer, password)
    page = context.new_page()
    page.goto("/traffic/review")
    page.fill("#purpose", PURPOSE)
    page.click("#purpose-form button[type=submit]")
    scooter = page.locator("#queue-table tbody tr").filter(
        has_text=translate("ru", "traffic.offence.scooter_passenger")
    )
    scooter.click()
    page.select_option("#decide select[name=reason]", "camera_fault")
    page.click("#reject")
    expect(page.locator('#violation [data-field="decision"]')).to_contain_text(
        translate("ru", "traffic.reason.camera_fault")
    )

    page.goto("/traffic/crossings")
    rules = page.locator("#rules-table tbody tr").filter(
        has_text=translate("ru", "traffic.offence.scooter_passenger")
    )
    expect(rules).to_contain_text(translate("ru", "traffic.reason.camera_fault") + ": 1")
    expect(page.locator("#crossing")).to_have_value("sim-crossing")
    expect(page.locator("#days-table tbody tr")).to_have_count(1)
    expect(page.locator("#crossing-total")).to_contain_text("1")


def test_an_administrator_checks_and_saves_a_calibration(
    new_context: Callable[..., Any], traffic_server: LiveServer
) -> None:
    admin, password = traffic_server.add_user("admin", prefix="adm")
    context = new_context(traffic_server.url)
    login_api(context, admin, password)
    page = context.new_page()
    page.goto("/traffic/calibration")
    page.select_option("#calibration-camera", CAMERA)
    marks = page.locator("#marks-table tbody tr")
    expect(marks).to_have_count(6)  # the camera's own marks
    page.click("#check-fit")
    expect(page.locator("#fit-result")).to_contain_text("6")
    page.locator("#calibration-canvas").click(position={"x": 300, "y": 400})
    expect(marks).to_have_count(7)
    page.click("#check-fit")  # a mark at (0, 0) m clicked mid-road is far off
    expect(marks.nth(6).locator("td.num")).not_to_have_text("")
    marks.nth(6).locator("button").click()
    expect(marks).to_have_count(6)
    page.click("#save-fit")
    expect(page.locator("#toasts")).to_contain_text(translate("ru", "calibration.saved"))
    saved = traffic_server.container.cameras.get(CAMERA).analytics["traffic"]["calibration"]
    assert len(saved) == 6
