"""Searching events needs a stated purpose; each search is audited, and only auditors read
the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

from kupol.web.i18n import translate
from tests.e2e.conftest import LiveServer, expect_images_loaded, login_api

pytestmark = pytest.mark.browser
PURPOSE = "Проверка тревоги №2, пр. Абая"
CASE = "ЕРДР 261500-0042"


def test_a_search_without_a_purpose_is_refused_and_one_with_it_is_audited(
    new_context: Callable[..., Any], live_server: LiveServer
) -> None:
    username, password = live_server.add_user("investigator", prefix="inv")
    context = new_context(live_server.url)
    login_api(context, username, password)
    page = context.new_page()
    page.goto("/search")
    error = page.locator("#search-error")

    page.click("#search-form button[type=submit]")  # no purpose: stopped in the page
    expect(error).to_have_text(translate("ru", "error.purpose_required"))
    page.fill("#purpose", "abc")  # too short: refused by the server (428)
    page.click("#search-form button[type=submit]")
    expect(error).to_have_text(translate("ru", "error.purpose_required"))
    expect(page.locator("#results")).to_be_hidden()
    refused = context.request.get("/api/events")
    assert refused.status == 428

    page.select_option("select[name=camera_id]", "ala-abai-01")
    page.fill("#purpose", PURPOSE)
    page.fill("input[name=case]", CASE)
    page.click("#search-form button[type=submit]")
    rows = page.locator("#results-table tbody tr")
    expect(rows).to_have_count(2)  # the seed has two events on this camera
    expect(error).to_be_hidden()
    expect(page.locator("#results-summary")).to_have_text(
        translate("ru", "search.results", count=2)
    )
    snapshot = rows.locator("img")
    expect(snapshot).to_have_count(1)
    expect_images_loaded(snapshot)

    auditor, auditor_password = live_server.add_user("auditor", prefix="aud")
    audit = new_context(live_server.url)
    login_api(audit, auditor, auditor_password)
    log = audit.new_page()
    log.goto("/audit")
    log.fill("input[name=actor]", username)
    log.click("#audit-filters button[type=submit]")
    entries = log.locator("#audit-table tbody tr")
    searches = entries.filter(has_text="camera_event").filter(has_text=PURPOSE)
    expect(searches.filter(has_text="search")).to_have_count(1)  # refused ones left no entry
    expect(searches.filter(has_text="search")).to_contain_text(CASE)
    expect(entries.filter(has_text="view-evidence")).to_contain_text(PURPOSE)

    log.click("#verify")
    verdict = log.locator("#verify-result")
    expect(verdict).to_have_attribute("data-ok", "true")
    expect(verdict).to_have_class("banner banner-ok")


def test_a_user_who_is_not_an_auditor_gets_a_friendly_403(
    new_context: Callable[..., Any], live_server: LiveServer
) -> None:
    username, password = live_server.add_user("operator", prefix="duty")
    context = new_context(live_server.url)
    login_api(context, username, password)
    page = context.new_page()
    expect(page.locator('.mainnav a[data-page="audit"]')).to_have_count(0)
    response = page.goto("/audit")
    assert response is not None and response.status == 403
    expect(page.locator("#forbidden h1")).to_have_text(translate("ru", "forbidden.title"))
    expect(page.locator("#forbidden")).to_contain_text("audit.read")
    expect(page.locator('.mainnav a[data-page="audit"]')).to_have_count(0)
    expect(page.locator('.mainnav a[data-page="dashboard"]')).to_be_visible()
    assert context.request.get("/api/audit").status == 403
