"""The anti-fraud page, end to end as the issue's "done when" puts it: a fraud analyst sees the
live screening dashboard of the demo's simulated network day, looks a number up under a stated
purpose, opens a fraud group's graph and puts its case file in the evidence vault, checks a
recording's voice, and sees the transfer holds queue."""

from __future__ import annotations

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

    expect(page.locator("#af-checks")).to_have_text("3")
    page.select_option("#af-hold-status", "held")
    page.click("#af-holds-show")
    expect(page.locator("#af-holds tbody tr")).to_have_count(2)
    expect(page.locator("#af-holds tbody")).to_contain_text(
        "payer just called by a suspicious number"
    )
