"""The anti-fraud page, end to end as the issue's "done when" puts it: a fraud analyst sees the
live screening dashboard of the demo's simulated network day, looks a number up under a stated
purpose, opens a fraud group's graph and puts its case file in the evidence vault, checks a
recording's voice, and sees the transfer holds queue."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from playwright.sync_api import expect
from scipy.io import wavfile

from kupol.bootstrap import Container
from kupol.demo import seed_antifraud
from tests.e2e.conftest import LiveServer, login_api, start_server
from tests.unit.antifraud.test_speakers import babble

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def prepare(container: Container) -> None:
    seed_antifraud(container, "admin")


@pytest.fixture(scope="module")
def antifraud_server(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    server = start_server(sqlite_template, tmp_path_factory.mktemp("e2e-af"), prepare=prepare)
    yield server
    server.stop()


def test_an_analyst_sees_the_dashboard_a_number_a_group_graph_and_the_holds(
    new_context: Callable[..., Any], antifraud_server: LiveServer, tmp_path: Path
) -> None:
    analyst, password = antifraud_server.add_user("fraud_analyst", prefix="cyber", locale="en")
    context = new_context(antifraud_server.url)
    login_api(context, analyst, password)
    page = context.new_page()
    page.goto("/")
    expect(page).to_have_url(antifraud_server.url + "/antifraud")  # a fraud analyst's landing
    page.select_option("#af-minutes", "1440")
    expect(page.locator("#af-calls")).not_to_have_text("—")
    expect(page.locator("#af-block")).not_to_have_text("0")
    expect(page.locator("#af-reasons tbody tr").first).to_be_visible()

    # Personal data needs a purpose first.
    page.fill("#af-number", "+7 701 111 22 33")
    page.click("#af-lookup button[type=submit]")
    expect(page.locator("#af-personal-error")).to_be_visible()
    page.fill("#af-purpose", "complaint 2026-4471 check")
    page.click("#af-lookup button[type=submit]")
    expect(page.locator("#af-number-title")).to_have_text("+77011112233")
    expect(page.locator("#af-number-calls tbody tr")).to_have_count(1)
    expect(page.locator("#af-number-calls tbody")).to_contain_text("Blocked")

    page.click("#af-groups-show")
    expect(page.locator("#af-groups tbody tr")).to_have_count(5)
    expect(page.locator("#af-graph-figure")).to_be_visible()
    first = page.locator("#af-graph circle.node-number")
    expect(first).to_have_count(4)  # the busiest group: a call-centre office of four SIMs
    # Its victim paid the office's mule: the money trail, drawn and told.
    expect(page.locator("#af-graph circle.node-account")).to_have_count(1)
    expect(page.locator("#af-graph-caption")).to_contain_text(
        re.compile(
            r"Money trail — accounts: 1; transfers: 1; asked to pay: 640\W000 KZT; stopped: 0 KZT\."
        )
    )
    page.locator("#af-groups tbody tr").nth(2).click()
    expect(page.locator("#af-graph circle.node-number")).to_have_count(16)  # a SIM-box
    expect(page.locator("#af-graph circle.node-handset")).to_have_count(2)
    expect(page.locator("#af-graph line").first).to_be_attached()

    # The SIM-box's case file goes to the evidence vault under a case number.
    page.fill("#af-case", "CYB-2026-7")
    page.click("#af-export button[type=submit]")
    expect(page.locator("#af-export-result")).to_contain_text("under case CYB-2026-7: 16 numbers")

    # A recording's voice is checked; the same file again is recognised.
    clip = tmp_path / "complaint.wav"
    wavfile.write(clip, 16_000, (babble(4.0, seed=3) * 32767).astype(np.int16))
    for attempt in range(2):
        page.set_input_files("#af-voice-file", str(clip))
        page.fill("#af-voice-reference", "KUI-2026-0042")
        page.click("#af-voice button[type=submit]")
        expect(page.locator("#af-voice-result")).to_be_visible()
        expect(page.locator("#af-voice-synthetic")).to_contain_text("probability")
        expect(page.locator("#af-voice-duplicate")).to_be_visible(visible=attempt == 1)

    expect(page.locator("#af-checks")).to_have_text("4")
    page.select_option("#af-hold-status", "held")
    page.click("#af-holds-show")
    expect(page.locator("#af-holds tbody tr")).to_have_count(3)
    expect(page.locator("#af-holds tbody")).to_contain_text(
        "payer just called by a suspicious number"
    )
    expect(page.locator("#af-holds tbody")).to_contain_text("rung by")
    expect(page.locator("#af-holds tbody")).to_contain_text("+77011112233")  # the spoofed call


def test_an_analyst_reports_a_number_to_the_centre_and_records_the_check(
    new_context: Callable[..., Any], antifraud_server: LiveServer, tmp_path: Path
) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from kupol.antifraud.model import AfcReport
    from kupol.core.audit.purpose import Justification
    from kupol.core.messages import utcnow

    analyst, password = antifraud_server.add_user("fraud_analyst", prefix="afc", locale="en")
    container = antifraud_server.container
    principal = container.auth.principal_of(analyst)
    # An older report of an account, its check now overdue.
    late = container.antifraud.reports.report(
        actor=principal, kind="account", subject="KZ86125KZT5004100100", category="mule",
        summary="received money from twelve victims in a day",
        why=Justification(purpose="e2e overdue"),
    )  # fmt: skip
    with container.db.unit_of_work() as session:
        session.execute(
            update(AfcReport)
            .where(AfcReport.id == late.id)
            .values(due_by=utcnow() - timedelta(hours=1))
        )
    context = new_context(antifraud_server.url)
    login_api(context, analyst, password)
    page = context.new_page()
    page.goto("/antifraud")
    expect(page.locator("#af-reports-late")).to_have_text("1")  # counts need no purpose
    page.fill("#af-purpose", "complaint 2026-4471 check")
    page.fill("#af-number", "+7 701 111 22 33")
    page.click("#af-lookup button[type=submit]")
    expect(page.locator("#af-number-title")).to_have_text("+77011112233")
    page.click("#af-number-report")  # from the look-up to the report form
    expect(page.locator("#af-report-subject")).to_have_value("+77011112233")
    page.select_option("#af-report-category", "call_centre")
    page.fill("#af-report-summary", "short")
    page.click("#af-report button[type=submit]")  # too short: the browser keeps it
    expect(page.locator("#af-report-result")).to_be_hidden()
    page.fill("#af-report-summary", "called many strangers within minutes, all blocked")
    page.click("#af-report button[type=submit]")
    expect(page.locator("#af-report-result")).to_contain_text("on +77011112233 made")
    rows = page.locator("#af-reports tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("fraud call centre")
    expect(rows.first).to_contain_text("awaiting check")
    expect(page.locator("#af-report-evidence")).to_contain_text('"distinct_callees"')
    overdue = page.locator("#af-reports tbody tr.overdue")
    expect(overdue).to_have_count(1)
    expect(overdue).to_contain_text("check overdue")
    page.check("#af-reports-overdue")
    page.click("#af-reports-show")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("KZ86125KZT5004100100")

    # The exchange file for the Centre, then the operator's answer closes the report.
    page.uncheck("#af-reports-overdue")
    page.click("#af-reports-show")
    expect(rows).to_have_count(2)
    with page.expect_download() as download:
        rows.first.locator("button").click()
    saved = tmp_path / "exchange.json"
    download.value.save_as(saved)
    import json

    exchange = json.loads(saved.read_text(encoding="utf-8"))
    assert exchange["format"] == "kupol-afc-report/1"
    assert exchange["subject"] == {"kind": "number", "value": "+77011112233"}
    rows.first.click()
    page.select_option("#af-check-result", "confirmed")
    page.fill("#af-check-by", "Kcell fraud desk")
    page.fill("#af-check-note", "SIM blocked, subscriber identified")
    page.click("#af-check button[type=submit]")
    expect(rows.first).to_contain_text("confirmed · Kcell fraud desk")
    expect(page.locator("#af-reports-confirmed")).to_have_text("1")
    expect(page.locator("#af-check")).to_be_hidden()
    from sqlalchemy import select

    from kupol.core.audit.model import AuditEntry

    with container.db.reader() as session:
        done = {
            (e.action, e.purpose)
            for e in session.scalars(select(AuditEntry).where(AuditEntry.actor == analyst))
        }
    purpose = "complaint 2026-4471 check"
    assert {("report", purpose), ("search", purpose), ("export", purpose)} <= done
    assert any(action == "check_confirmed" for action, _ in done)
