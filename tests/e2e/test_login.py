"""Logging in to the console: errors, landing pages, the login page's language."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from kupol.web.i18n import translate
from tests.e2e.conftest import LiveServer, login_ui

pytestmark = pytest.mark.browser


def test_a_wrong_password_shows_an_error_and_stays_on_the_login_page(
    page: Any, live_server: LiveServer
) -> None:
    username, _ = live_server.add_user("operator", prefix="typo")
    login_ui(page, username, "not-the-password-1")
    expect(page.locator("#login-error")).to_have_text(translate("ru", "login.error"))
    assert page.url.startswith(f"{live_server.url}/login")
    expect(page.locator("#username")).to_have_value(username)


def test_the_right_password_lands_on_the_dashboard(page: Any, live_server: LiveServer) -> None:
    username, password = live_server.add_user("operator", prefix="duty")
    login_ui(page, username, password)
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator("#alerts-title")).to_have_text(translate("ru", "dashboard.alerts"))
    expect(page.locator('#live-status[data-live="on"]')).to_be_visible()


def test_a_page_asked_for_before_login_opens_after_it(page: Any, live_server: LiveServer) -> None:
    username, password = live_server.add_user("auditor", prefix="aud")
    page.goto("/audit?actor=nobody")
    expect(page).to_have_url(f"{live_server.url}/login?next=%2Faudit%3Factor%3Dnobody")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server.url}/audit?actor=nobody")


def test_a_user_without_the_dashboard_lands_on_their_first_page(
    page: Any, live_server: LiveServer
) -> None:
    username, password = live_server.add_user("auditor", prefix="aud")
    login_ui(page, username, password)
    expect(page).to_have_url(f"{live_server.url}/audit")
    expect(page.locator('.mainnav a[data-page="dashboard"]')).to_have_count(0)


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_the_login_page_speaks_the_language_asked_for(page: Any, lang: str) -> None:
    page.goto(f"/login?lang={lang}")
    expect(page.locator("h1")).to_have_text(translate(lang, "login.title"))
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("button[type=submit]")).to_have_text(translate(lang, "login.submit"))


def test_logging_out_ends_the_session(page: Any, live_server: LiveServer) -> None:
    username, password = live_server.add_user("operator", prefix="duty")
    login_ui(page, username, password)
    page.click("#logout")
    expect(page).to_have_url(f"{live_server.url}/login")
    page.goto("/")
    expect(page).to_have_url(f"{live_server.url}/login")
