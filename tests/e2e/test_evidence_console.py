"""The evidence console, end to end as the issue's "done when" puts it: a new investigator
imports a docked body camera's folder, sees the clip attached to an incident, redacts a
bystander's face, exports a package that verifies offline, and signs a protocol that then
verifies — every step in the browser."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from kupol.evidence.package import verify_package
from kupol.faces.democlip import write_walkby_clip
from kupol.web.i18n import translate
from tests.conftest import need_data
from tests.e2e.conftest import TIMEZONE, LiveServer, login_api, start_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PURPOSE = "Дело 2612-0042, подготовка материалов в суд"
PLACE = (51.1283, 71.4305)


@pytest.fixture(scope="module")
def evidence_server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    server = start_server(sqlite_template, tmp_path_factory.mktemp("e2e-evidence"), prepare=None)
    yield server
    server.stop()


def docked_folder(folder: Path, start: datetime) -> Path:
    """A body camera's folder: a clip of two people walking past, with its sidecar."""
    faces = need_data("faces", "face_recognition", "knn_examples", "test")
    folder.mkdir(parents=True)
    clip = write_walkby_clip(
        [faces / "alex_lacamoire1.jpg", faces / "johnsnow_test1.jpg"],
        folder / "0800.mp4",
        seconds_each=2.5,
    )
    track = [
        [PLACE[0] + 0.0001 * i, PLACE[1], (start + timedelta(seconds=i)).isoformat()]
        for i in range(7)
    ]
    sidecar = {
        "device_id": "badge-0042",
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(seconds=6)).isoformat(),
        "gps": track,
    }
    clip.with_suffix(".json").write_text(json.dumps(sidecar))
    return folder


def test_an_investigator_imports_links_redacts_exports_and_signs(
    new_context: Callable[..., Any], evidence_server: LiveServer, tmp_path: Path
) -> None:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    folder = docked_folder(tmp_path / "badge-0042", start)
    user, password = evidence_server.add_user("investigator", prefix="inv")
    evidence_server.container.documents.authority.issue(user)  # the administrator's step
    context = new_context(evidence_server.url, accept_downloads=True)
    login_api(context, user, password)
    page = context.new_page()
    ru = lambda key, **kw: translate("ru", key, **kw)  # noqa: E731

    # 1. The docked folder, imported.
    page.goto("/evidence")
    page.fill("#purpose", PURPOSE)
    page.click("#purpose-form button[type=submit]")
    page.set_input_files("#dock-files", str(folder))
    page.click("#dock-form button[type=submit]")
    expect(page.locator("#dock-report")).to_contain_text(
        ru("evidence.dock_done", imported=1, duplicates=0, refused=0)
    )
    rows = page.locator("#items-table tbody tr")
    expect(rows).to_have_count(1)
    rows.first.click()
    card = page.locator("#item")
    expect(card.locator('[data-field="device"]')).to_have_text("badge-0042")
    expect(card.locator("video")).to_have_count(1)
    expect(page.locator("#custody li")).to_have_count(2)  # ingest, this view
    item_id = int(str(rows.first.get_attribute("data-item-id")))

    # 2. An incident where the officer walked: the clip is attached to it.
    page.goto("/evidence/incidents")
    almaty = ZoneInfo(TIMEZONE)  # the browser's zone: datetime-local fields are in it
    local = lambda d: d.astimezone(almaty).strftime("%Y-%m-%dT%H:%M")  # noqa: E731
    page.select_option("#incident-form select[name=kind]", "assault")
    page.fill("#incident-form input[name=title]", "Драка у ТРЦ")
    page.fill("#incident-form input[name=occurred_from]", local(start - timedelta(minutes=1)))
    page.fill("#incident-form input[name=occurred_to]", local(start + timedelta(minutes=1)))
    page.fill("#incident-form input[name=latitude]", str(PLACE[0]))
    page.fill("#incident-form input[name=longitude]", str(PLACE[1]))
    page.fill("#incident-form input[name=case_number]", "2612-0042")
    page.click("#incident-form button[type=submit]")
    linked = page.locator("#incident-evidence tbody tr")
    expect(linked).to_have_count(1)
    expect(linked.first).to_contain_text("0800.mp4")
    incident_number = page.locator('#incident [data-field="number"]').inner_text().split(" ")[0]
    incident_id = int(incident_number.rsplit("-", 1)[1])

    # 3. Redaction: both faces found; the bystander (second walker) hidden, the first kept.
    page.goto(f"/evidence/redaction?item={item_id}")
    page.fill("#purpose", PURPOSE)
    page.click("#purpose-form button[type=submit]")
    expect(page.locator("#redaction-status")).to_have_text(
        ru("redaction.status.planned"), timeout=120_000
    )
    faces = page.locator("#tracks-table tbody tr")
    expect(faces.first).to_be_visible()
    first = faces.first.locator("input[type=checkbox]")
    first.check()
    expect(page.locator("#tracks-count")).to_contain_text("1")
    page.click("#apply")
    expect(page.locator("#redaction-status")).to_have_text(
        ru("redaction.status.done"), timeout=120_000
    )
    expect(page.locator("#result")).to_contain_text(ru("redaction.result", id=item_id + 1))

    # 4. An export package of the original and its redacted copy, verified offline.
    page.goto("/evidence")
    page.fill("#purpose", PURPOSE)
    page.click("#purpose-form button[type=submit]")
    expect(rows).to_have_count(2)
    rows.nth(0).locator("input[type=checkbox]").check()
    rows.nth(1).locator("input[type=checkbox]").check()
    with page.expect_download() as download:
        page.click("#export")
    package = tmp_path / "package.zip"
    download.value.save_as(package)
    report = verify_package(package)
    assert report.ok and report.items == 2, report.problems

    # 5. A protocol from the incident, signed, and its signature verified.
    page.goto("/documents")
    page.fill("#draft-form input[name=incident_id]", str(incident_id))
    page.fill("#draft-form input[name=article]", "434")
    page.click("#draft-form button[type=submit]")
    documents = page.locator("#documents-table tbody tr")
    expect(documents).to_have_count(1)
    page.fill("#purpose", PURPOSE)
    page.click("#purpose-form button[type=submit]")
    documents.first.click()
    doc = page.locator("#document")
    expect(doc.locator('[data-field="evidence"]')).to_contain_text("0800.mp4")
    page.click('#step-buttons button[data-action="sign"]')
    expect(doc.locator('[data-field="status"]')).to_have_text(ru("documents.status.signed"))
    page.click("#verify")
    expect(doc.locator('[data-field="verified"]')).to_contain_text(
        ru("documents.valid", issuer="")[:10]
    )
    expect(page.locator("#history li")).to_have_count(2)  # created, signed


def test_a_duty_operator_hands_a_body_camera_out_and_takes_it_back(
    new_context: Callable[..., Any], evidence_server: LiveServer
) -> None:
    duty, password = evidence_server.add_user("operator", prefix="duty")
    officer, _ = evidence_server.add_user("operator", prefix="patrol")
    context = new_context(evidence_server.url)
    login_api(context, duty, password)
    page = context.new_page()
    ru = lambda key, **kw: translate("ru", key, **kw)  # noqa: E731
    page.goto("/evidence/devices")
    page.fill("#device-form input[name=id]", "badge-7001")
    page.fill("#device-form input[name=model]", "Видеожетон тест")
    page.click("#device-form button[type=submit]")
    row = page.locator("#devices-table tbody tr", has_text="badge-7001")
    expect(row).to_have_count(1)
    row.click()
    page.fill("#shift-form input[name=officer]", officer)
    now = datetime.now(ZoneInfo(TIMEZONE)) - timedelta(hours=1)
    page.fill("#shift-form input[name=starts_at]", now.strftime("%Y-%m-%dT%H:%M"))
    page.click("#shift-form button[type=submit]")
    expect(row).to_contain_text(officer)
    expect(page.locator('#device [data-field="holder"]')).to_have_text(
        ru("devices.with", user=officer)
    )
    page.fill("#shift-form input[name=officer]", officer)
    page.fill("#shift-form input[name=starts_at]", now.strftime("%Y-%m-%dT%H:%M"))
    page.click("#shift-form button[type=submit]")
    expect(page.locator("#shift-error")).to_be_visible()  # the device is out already
    page.click("#shifts-table button")
    expect(page.locator('#device [data-field="holder"]')).to_have_text(ru("devices.in_store"))
